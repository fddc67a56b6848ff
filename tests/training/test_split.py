"""The split never puts one group (person, session, take) on two sides."""

import pytest

from training import TrainingError
from training.split import split_dataset

LABELS = ("circle", "flex", "idle", "punch", "wave")


def _dataset(take_factory, subjects, sessions=("s1",), takes=4):
    return [take_factory(label, subject=s, session=ss, name=f"{s}-{ss}-{k:03d}")
            for s in subjects for ss in sessions for label in LABELS for k in range(takes)]


def _sides(split, key):
    return [{key(t) for t in side} for side in (split.train, split.validation, split.test)]


@pytest.mark.parametrize("n_subjects", [2, 3, 4, 6, 9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_subject_on_two_sides(take_factory, n_subjects, seed):
    takes = _dataset(take_factory, [f"p{i}" for i in range(n_subjects)])
    split = split_dataset(takes, seed=seed)
    assert split.kind == "subject"
    train, val, test = _sides(split, lambda t: t.meta.subject)
    assert not (test & train) and not (test & val)
    assert test and train
    assert len(test) == max(1, round(n_subjects * 0.25))
    if split.validation_kind == "subject":
        assert not (val & train)
    # Every take lands exactly once.
    ids = [id(t) for t in split.train + split.validation + split.test]
    assert sorted(ids) == sorted(id(t) for t in takes)
    # Validation never steals a whole label from training.
    assert {t.meta.label for t in split.train} == set(LABELS)


def test_test_subject_is_chosen_by_name(take_factory):
    takes = _dataset(take_factory, ["ann", "bob", "cem", "dan"])
    split = split_dataset(takes, test_subjects=["cem"])
    assert split.test_groups == ["cem"]
    assert {t.meta.subject for t in split.test} == {"cem"}
    assert "cem" not in {t.meta.subject for t in split.train + split.validation}


def test_unknown_or_all_test_subjects_are_refused(take_factory):
    takes = _dataset(take_factory, ["ann", "bob"])
    with pytest.raises(TrainingError, match="not in the dataset"):
        split_dataset(takes, test_subjects=["zed"])
    with pytest.raises(TrainingError, match="no subject for training"):
        split_dataset(takes, test_subjects=["ann", "bob"])


def test_one_person_two_sessions_splits_by_session(take_factory):
    split = split_dataset(_dataset(take_factory, ["ann"], sessions=("s1", "s2", "s3")))
    assert split.kind == "session"
    train, val, test = _sides(split, lambda t: t.meta.session)
    assert not (test & train) and not (test & val)


def test_one_person_one_session_splits_by_take_with_every_label_tested(take_factory):
    takes = _dataset(take_factory, ["ann"], takes=8)
    split = split_dataset(takes, seed=3)
    assert split.kind == "take"
    train, val, test = _sides(split, lambda t: t.csv_path)
    assert not (test & train) and not (test & val) and not (train & val)
    assert {t.meta.label for t in split.test} == set(LABELS)
    assert len(split.test) == 5 * 2  # 25 % of 8 takes per label


def test_test_subject_needs_subjects(take_factory):
    with pytest.raises(TrainingError, match="at least two subjects"):
        split_dataset(_dataset(take_factory, ["ann"]), test_subjects=["ann"])


def test_cv_folds_test_every_subject_exactly_once(take_factory):
    from training.split import cv_folds, fold_split

    takes = [take_factory(label, subject=s) for s in ("a", "b", "c", "d", "e") for label in ("wave", "idle")]
    kind, folds = cv_folds(takes, 3, seed=1)
    assert kind == "subject" and len(folds) == 3
    assert sorted(g for f in folds for g in f) == ["a", "b", "c", "d", "e"]
    for f in folds:
        split = fold_split(takes, kind, f, seed=0)
        assert {t.meta.subject for t in split.test} == set(f)
        assert not {t.meta.subject for t in split.train + split.validation} & set(f)


def test_cv_folds_by_take_keep_labels_spread(take_factory):
    from training.split import cv_folds

    takes = [take_factory(label, name=f"p1-s1-00{i}") for label in ("wave", "idle") for i in range(4)]
    kind, folds = cv_folds(takes, 4, seed=0)
    assert kind == "take" and len(folds) == 4
    assert all({g.split("/")[0] for g in f} == {"wave", "idle"} for f in folds)
    assert len({g for f in folds for g in f}) == 8


def test_cv_needs_two_folds_and_two_groups(take_factory):
    from training.split import cv_folds

    with pytest.raises(TrainingError, match="--folds must be at least 2"):
        cv_folds([take_factory("wave"), take_factory("idle")], 1)
    with pytest.raises(TrainingError, match="at least two"):
        cv_folds([take_factory("wave", name="p1-s1-001")], 3)


def test_test_fraction_sets_the_share_of_each_labels_takes_held_out(take_factory):
    takes = _dataset(take_factory, ["solo"], takes=10)
    for fraction, held in ((0.25, 2), (0.3, 3), (0.5, 5)):
        split = split_dataset(takes, seed=0, test_fraction=fraction)
        assert split.kind == "take"
        for label in LABELS:
            assert sum(t.meta.label == label for t in split.test) == held
        assert not {id(t) for t in split.test} & {id(t) for t in split.train + split.validation}


@pytest.mark.parametrize("n_subjects", [1, 4, 8])
def test_without_validation_everything_but_test_trains(take_factory, n_subjects):
    takes = _dataset(take_factory, [f"p{i}" for i in range(n_subjects)])
    with_val = split_dataset(takes, seed=3)
    split = split_dataset(takes, seed=3, validation=False)
    assert split.validation == [] and split.validation_kind == "none"
    assert {id(t) for t in split.test} == {id(t) for t in with_val.test}  # same test side either way
    assert sorted(id(t) for t in split.train) == sorted(id(t) for t in with_val.train + with_val.validation)
