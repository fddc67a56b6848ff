"""Group-aware train / validation / test split.

Windows of one take are never split apart, and the test set holds whole groups: people
(subjects) when the dataset has at least two, else sessions, else takes. Validation (for
early stopping) is taken from the training side: whole groups when there are enough of
them, otherwise whole takes, stratified by label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from capture.dataset import Take
from training import TrainingError

TEST_FRACTION = 0.25
VALIDATION_FRACTION = 0.2
MIN_GROUPS_FOR_GROUP_VALIDATION = 5


@dataclass
class Split:
    kind: str  # subject | session | take
    train: list[Take]
    validation: list[Take]
    test: list[Take]
    test_groups: list[str]
    train_groups: list[str]
    validation_kind: str  # subject | session | take | none
    validation_groups: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        name = lambda t: f"{t.meta.label}/{t.csv_path.stem}"  # noqa: E731
        return {
            "kind": self.kind,
            "test_groups": self.test_groups,
            "train_groups": self.train_groups,
            "validation_kind": self.validation_kind,
            "validation_groups": self.validation_groups,
            "takes": {
                "train": sorted(name(t) for t in self.train),
                "validation": sorted(name(t) for t in self.validation),
                "test": sorted(name(t) for t in self.test),
            },
        }


def group_of(take: Take, kind: str) -> str:
    if kind == "subject":
        return take.meta.subject
    if kind == "session":
        return f"{take.meta.subject}/{take.meta.session}"
    return f"{take.meta.label}/{take.csv_path.stem}"


def split_kind(takes: list[Take]) -> str:
    if len({t.meta.subject for t in takes}) >= 2:
        return "subject"
    if len({group_of(t, "session") for t in takes}) >= 2:
        return "session"
    return "take"


def _held_out_count(n_groups: int, fraction: float) -> int:
    return min(max(1, int(round(n_groups * fraction))), n_groups - 1)


def _split_takes_by_label(takes: list[Take], fraction: float, rng) -> tuple[list[Take], list[Take]]:
    """Hold out about ``fraction`` of each label's takes (at least one if it has two)."""
    kept, held = [], []
    for label in sorted({t.meta.label for t in takes}):
        mine = [t for t in takes if t.meta.label == label]
        order = rng.permutation(len(mine))
        k = _held_out_count(len(mine), fraction) if len(mine) >= 2 else 0
        held += [mine[i] for i in order[:k]]
        kept += [mine[i] for i in order[k:]]
    return kept, held


def split_dataset(takes: list[Take], seed: int = 0, test_subjects: list[str] | None = None,
                  test_fraction: float = TEST_FRACTION, validation: bool = True) -> Split:
    """Split takes into train / validation / test without sharing a group across sides
    (``test_fraction`` of the groups, or of each label's takes, go to test; no validation
    side when ``validation`` is False: nothing chooses an epoch, so everything else trains)."""
    rng = np.random.default_rng(seed)
    kind = split_kind(takes)
    if test_subjects and kind != "subject":
        raise TrainingError("--test-subject needs a dataset with at least two subjects; this one has "
                            f"only {takes[0].meta.subject!r}")
    if kind == "take":
        train, test = _split_takes_by_label(takes, test_fraction, rng)
        if not test:
            raise TrainingError("too few takes to hold any out for testing: record at least two takes per label")
        groups_test = sorted(group_of(t, kind) for t in test)
        groups_train = sorted(group_of(t, kind) for t in train)
    else:
        groups = sorted({group_of(t, kind) for t in takes})
        if test_subjects:
            unknown = [s for s in test_subjects if s not in groups]
            if unknown:
                raise TrainingError(f"--test-subject {','.join(unknown)} is not in the dataset; subjects are {', '.join(groups)}")
            if len(set(test_subjects)) >= len(groups):
                raise TrainingError("--test-subject would leave no subject for training; hold out fewer")
            groups_test = sorted(set(test_subjects))
        else:
            order = rng.permutation(len(groups))
            groups_test = sorted(groups[i] for i in order[:_held_out_count(len(groups), test_fraction)])
        groups_train = [g for g in groups if g not in groups_test]
        test = [t for t in takes if group_of(t, kind) in groups_test]
        train = [t for t in takes if group_of(t, kind) not in groups_test]

    return _with_validation(takes, kind, train, test, groups_train, groups_test, rng, validation)


def _with_validation(takes, kind, train, test, groups_train, groups_test, rng, validation: bool = True) -> Split:
    """Carve validation (for early stopping) out of the training side and build the Split."""
    validation_groups: list[str] = []
    if not validation:
        validation, validation_kind = [], "none"
    elif kind != "take" and len(groups_train) >= MIN_GROUPS_FOR_GROUP_VALIDATION:
        order = rng.permutation(len(groups_train))
        validation_groups = sorted(groups_train[i] for i in order[:_held_out_count(len(groups_train), VALIDATION_FRACTION)])
        validation = [t for t in train if group_of(t, kind) in validation_groups]
        train = [t for t in train if group_of(t, kind) not in validation_groups]
        validation_kind = kind
    else:
        train, validation = _split_takes_by_label(train, VALIDATION_FRACTION, rng)
        validation_kind = "take" if validation else "none"

    missing = sorted({t.meta.label for t in takes} - {t.meta.label for t in train})
    if missing:
        raise TrainingError(f"no training takes left for label(s) {', '.join(missing)}: record them for more people")
    return Split(kind=kind, train=train, validation=validation, test=test, test_groups=groups_test,
                 train_groups=[g for g in groups_train if g not in validation_groups],
                 validation_kind=validation_kind, validation_groups=validation_groups)


def cv_folds(takes: list[Take], folds: int, seed: int = 0) -> tuple[str, list[list[str]]]:
    """Cross-validation: the groups (subjects, else sessions, else takes) dealt into ``folds``
    test sets; each group is tested exactly once. Takes are dealt label by label so every fold
    holds each label's takes as evenly as possible."""
    if folds < 2:
        raise TrainingError(f"--folds must be at least 2, got {folds}")
    kind = split_kind(takes)
    rng = np.random.default_rng(seed)
    if kind == "take":
        dealt: list[list[str]] = [[] for _ in range(folds)]
        position = 0
        for label in sorted({t.meta.label for t in takes}):
            mine = sorted(group_of(t, kind) for t in takes if t.meta.label == label)
            for i in rng.permutation(len(mine)):
                dealt[position % folds].append(mine[i])
                position += 1
        groups = sorted({group_of(t, kind) for t in takes})
    else:
        groups = sorted({group_of(t, kind) for t in takes})
        order = rng.permutation(len(groups))
        dealt = [sorted(groups[i] for i in part) for part in np.array_split(order, min(folds, len(groups)))]
    dealt = [sorted(d) for d in dealt if d]
    if len(groups) < 2 or len(dealt) < 2:
        raise TrainingError(f"cross-validation needs at least two {kind}s; this dataset has {len(groups)}")
    return kind, dealt


def fold_split(takes: list[Take], kind: str, test_groups: list[str], seed: int = 0, validation: bool = True) -> Split:
    """The split of one cross-validation fold: ``test_groups`` held out, validation from the rest."""
    rng = np.random.default_rng(seed)
    test = [t for t in takes if group_of(t, kind) in test_groups]
    train = [t for t in takes if group_of(t, kind) not in test_groups]
    groups_train = sorted({group_of(t, kind) for t in train})
    return _with_validation(takes, kind, train, test, groups_train, sorted(test_groups), rng, validation)
