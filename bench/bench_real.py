"""Accuracy on real IMU_Capture recordings: people the model never saw, adapting, one person.

    python bench/bench_real.py [--data DIR] [--archs conv1d,ds-conv1d,gru,cnn-gru]
                               [--parts lopo,split,single] [--seeds 0,1,2] [--ks 1,3] [--people a,b]
                               [--augment KINDS] [--patience N] [--mount-deg DEG]
                               [--learning-rate LR] [--epochs N] [--mount-share P]
                               [--average-last SHARE] [--rate-hz HZ] [--gru-units N] [--clipnorm C]
                               [--gru-dropout P] [--gru-recurrent-dropout P]

DIR holds one folder per person with one IMU_Capture file per gesture (``<person>/<label>.csv``,
as published by their authors; default ``../shared/data/real`` next to the project when it
exists, else the bench says so and skips). Every file is imported with ``python -m capture
import-arduino`` into a temporary dataset (never into the project), then, for each arch:

- ``lopo``: leave-one-person-out over every person with punch and flex. ``training fit`` on
  the others (punch and flex only; ``--test-subject`` the person) gives the zero-shot
  accuracy; ``training adapt`` with K takes per label (``--ks``) gives the adapted accuracy
  on the person's takes after the K-th.
- ``split``: ``training fit`` on habits, martin, chiahong and yankun, tested on the others.
- ``single``: one person's gestures (martin, habits), takes split 70/30 (seeded).

Every model is converted with ``converter convert`` (headers into the run directory): the
table shows int8 accuracy in the TFLM interpreter, float accuracy, model and arena bytes.
A model the converter refuses is still scored from its report (marked ``refused``). The mount
column says how far ``mount`` turned the training windows (``any`` angle, or up to +-N deg) and the
training people's measured spread it was chosen from. With several seeds a last table gives
each measure's mean over seeds and their range: one seed moves these figures by several points.
Tables go to stdout (Markdown), progress to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converter.convert import convert_run  # noqa: E402
from converter import ConverterError  # noqa: E402
from training.adapt import adapt  # noqa: E402
from training.adapt_fit import AdaptOptions  # noqa: E402
from training.fit import FitOptions, fit  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "real"
ARCHS = ("conv1d", "ds-conv1d", "gru", "cnn-gru")
CROSS_LABELS = ("punch", "flex")
SPLIT_TRAIN_PEOPLE = ("habits", "martin", "chiahong", "yankun")
SINGLE_PEOPLE = ("martin", "habits")
SINGLE_TEST_FRACTION = 0.3
# nested: choose on the other people with punch and flex (three folds), confirm on three never used to choose
NESTED_CONFIRM_PEOPLE = ("neethu", "rawalc", "yankun")
NESTED_FOLDS = 3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def import_people(src: Path, out: Path, labels=None, people=None) -> list[str]:
    """``capture import-arduino`` every ``<person>/<label>.csv`` of ``src`` into ``out``; the people imported."""
    done = []
    for person_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        if people is not None and person_dir.name not in people:
            continue
        for csv in sorted(person_dir.glob("*.csv")):
            if labels is not None and csv.stem not in labels:
                continue
            proc = subprocess.run([sys.executable, "-m", "capture", "import-arduino", str(csv), "--label", csv.stem,
                                   "--subject", person_dir.name, "--out", str(out)],
                                  cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(f"import-arduino failed on {csv}:\n{proc.stderr}")
            if person_dir.name not in done:
                done.append(person_dir.name)
    return done


def people_with(src: Path, labels) -> list[str]:
    return sorted(p.name for p in src.iterdir() if p.is_dir() and all((p / f"{label}.csv").is_file() for label in labels))


def converted(run_dir: Path) -> dict:
    """Convert the run (headers into the run dir); the report's numbers, also when the converter refuses."""
    refused = ""
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            convert_run(run_dir, header_dir=run_dir / "generated")
        except ConverterError as e:
            refused = str(e)
    report = json.loads((run_dir / "report.json").read_text())
    mount = json.loads((run_dir / "metrics.json").read_text()).get("mount") or {}
    check = report.get("accuracy_check") or {}
    return {"int8": report["accuracy_int8"], "float": report["accuracy_float"], "n": report["n_test"],
            "lost": check.get("windows_lost", 0), "gained": check.get("windows_gained", 0),
            "model_bytes": report["model_bytes"], "arena_bytes": report["arena_bytes"], "refused": refused,
            "mount_deg": mount.get("max_deg"), "mount_share": mount.get("share"), "spread_deg": (mount.get("spread") or {}).get("deg")}


def motionless_takes(data: Path) -> dict:
    """{person: ["label/take", ...]} of the takes ``training check`` warns hold no motion
    (``no_motion``): labelled as a gesture but holding none, so no model can score them right."""
    from capture.dataset import read_take
    from training.check import check_dataset

    found = {}
    for f in check_dataset(data).findings:
        if f.code == "no_motion":
            take = read_take(Path(f.take))
            found.setdefault(take.meta.subject, []).append(f"{take.meta.label}/{Path(f.take).stem}")
    return found


def quiet():
    return contextlib.redirect_stderr(io.StringIO())


def lopo(src: Path, tmp: Path, arch: str, seed: int, ks: list[int], people: list[str] | None, recipe: dict,
         adapt_recipe: dict | None = None) -> list[dict]:
    data = tmp / "cross"
    if not data.exists():
        import_people(src, data, labels=CROSS_LABELS)
    rows = []
    for person in people or people_with(src, CROSS_LABELS):
        started = time.monotonic()
        base = tmp / f"lopo-{arch}-{seed}-{person}"
        with quiet():
            fit(data, base, FitOptions(arch=arch, seed=seed, test_subjects=[person], **recipe))
        row = {"person": person, "zero": converted(base)}
        person_dir = tmp / f"person-{person}"
        if not person_dir.exists():
            import_people(src, person_dir, labels=CROSS_LABELS, people=[person])
        for k in ks:
            run = tmp / f"adapt-{arch}-{seed}-{person}-k{k}"
            with quiet():
                adapt(base, person_dir, run, AdaptOptions(takes_per_label=k, seed=seed, **(adapt_recipe or {})))
            row[f"k{k}"] = converted(run)
        rows.append(row)
        log(f"  lopo {arch} seed {seed} {person}: zero-shot int8 {row['zero']['int8']:.3f}{_mount(row['zero'])}"
            + "".join(f", k={k} {row[f'k{k}']['int8']:.3f}" for k in ks) + f" ({time.monotonic() - started:.0f} s)")
    return rows


def split(src: Path, tmp: Path, arch: str, seed: int, recipe: dict) -> dict:
    data = tmp / "cross"
    if not data.exists():
        import_people(src, data, labels=CROSS_LABELS)
    test = [p for p in people_with(src, ()) if p not in SPLIT_TRAIN_PEOPLE and any((src / p / f"{label}.csv").is_file()
                                                                                   for label in CROSS_LABELS)]
    run = tmp / f"split-{arch}-{seed}"
    with quiet():
        fit(data, run, FitOptions(arch=arch, seed=seed, test_subjects=test, **recipe))
    row = {"test": test, **converted(run)}
    log(f"  split {arch} seed {seed}: int8 {row['int8']:.3f} on {row['n']} windows of {', '.join(test)}{_mount(row)}")
    return row


def single(src: Path, tmp: Path, arch: str, seed: int, person: str, recipe: dict) -> dict:
    data = tmp / f"single-{person}"
    if not data.exists():
        import_people(src, data, people=[person])
    run = tmp / f"single-{arch}-{seed}-{person}"
    with quiet():
        fit(data, run, FitOptions(arch=arch, seed=seed, test_fraction=SINGLE_TEST_FRACTION, **recipe))
    row = {"person": person, **converted(run)}
    log(f"  single {arch} seed {seed} {person}: int8 {row['int8']:.3f} on {row['n']} windows")
    return row


def nested(src: Path, tmp: Path, arch: str, seed: int, recipe: dict) -> dict:
    """Choosing folds on the people outside NESTED_CONFIRM_PEOPLE (leave a fold out, the rest train), then
    one model on all of them scored on each confirmation person (int8, converter.evaluate)."""
    from converter.evaluate import evaluate_run

    data = tmp / "cross"
    if not data.exists():
        import_people(src, data, labels=CROSS_LABELS)
    people = people_with(src, CROSS_LABELS)
    confirm = [p for p in people if p in NESTED_CONFIRM_PEOPLE]
    choosing = [p for p in people if p not in NESTED_CONFIRM_PEOPLE]
    folds = [choosing[i::NESTED_FOLDS] for i in range(NESTED_FOLDS)]
    choose_scores = []
    for k, fold in enumerate(folds):
        # the confirmation people are never trained on: test people here, but scored only on the fold's own
        run = tmp / f"nested-{arch}-{seed}-fold{k}"
        with quiet():
            fit(data, run, FitOptions(arch=arch, seed=seed, test_subjects=fold + confirm, **recipe))
        converted(run)
        accs = [evaluate_run(run, _person_data(src, tmp, p))["accuracy_int8"] for p in fold]
        choose_scores.append(sum(accs) / len(accs))
    run = tmp / f"nested-{arch}-{seed}-confirm"
    with quiet():
        fit(data, run, FitOptions(arch=arch, seed=seed, test_subjects=confirm, **recipe))
    cost = converted(run)
    per_person = {p: evaluate_run(run, _person_data(src, tmp, p))["accuracy_int8"] for p in confirm}
    row = {"choose": sum(choose_scores) / len(choose_scores), "confirm": sum(per_person.values()) / len(per_person),
           "per_person": per_person, "worst": min(per_person, key=per_person.get), **{k: cost[k] for k in (
               "model_bytes", "arena_bytes", "refused")}, "folds": folds}
    log(f"  nested {arch} seed {seed}: choosing folds {row['choose']:.3f}, confirmation {row['confirm']:.3f} "
        f"({', '.join(f'{p} {v:.3f}' for p, v in per_person.items())})")
    return row


def _person_data(src: Path, tmp: Path, person: str) -> Path:
    data = tmp / f"person-{person}"
    if not data.exists():
        import_people(src, data, labels=CROSS_LABELS, people=[person])
    return data


def print_nested(rows: list[tuple]) -> None:
    """Per arch and seed, then the mean over seeds with their range: choosing folds, confirmation, worst person."""
    print(f"\n### Chosen on {', '.join(rows[0][2]['folds'][0] + rows[0][2]['folds'][1] + rows[0][2]['folds'][2])} "
          f"({NESTED_FOLDS} folds), confirmed on {', '.join(NESTED_CONFIRM_PEOPLE)} (int8)\n")
    print("| arch | seed | choosing folds | confirmation | " + " | ".join(NESTED_CONFIRM_PEOPLE) + " | model bytes | arena bytes |")
    print("|---|---|---:|---:|" + "---:|" * len(NESTED_CONFIRM_PEOPLE) + "---:|---:|")
    for arch, seed, r in rows:
        cells = [arch, str(seed), f"{r['choose']:.3f}", f"{r['confirm']:.3f}"]
        cells += [f"{r['per_person'].get(p, float('nan')):.3f}" for p in NESTED_CONFIRM_PEOPLE]
        cells += [f"{r['model_bytes']:,}", f"{r['arena_bytes']:,}" + (" refused" if r["refused"] else "")]
        print("| " + " | ".join(cells) + " |")
    print("\n| arch | seeds | choosing folds: mean (range) | confirmation: mean (range) | worst person (mean over seeds) |")
    print("|---|---|---|---|---|")
    for arch in dict.fromkeys(a for a, _, _ in rows):
        mine = [r for a, _, r in rows if a == arch]
        worst = {p: sum(r["per_person"][p] for r in mine) / len(mine) for p in mine[0]["per_person"]}
        w = min(worst, key=worst.get)
        print(f"| {arch} | {len(mine)} | {_stats([r['choose'] for r in mine])} | {_stats([r['confirm'] for r in mine])} "
              f"| {w} {worst[w]:.3f} |")


def _mount(r: dict) -> str:
    """How 'mount' turned the training windows: ', mount any (spread 69 deg)', ', mount +-22 deg', ''."""
    if r.get("mount_deg") is None:
        return ", mount off"
    turn = "any" if r["mount_deg"] >= 180 else f"+-{r['mount_deg']:g} deg"
    share = f" on {100 * r['mount_share']:.0f} %" if r.get("mount_share") not in (None, 1.0) else ""
    return f", mount {turn}{share} (spread {r['spread_deg']:g} deg)"


def _stats(values: list[float]) -> str:
    """'0.912 (0.888-0.935)' over seeds; just the value for one seed."""
    mean = sum(values) / len(values)
    return f"{mean:.3f}" if len(values) == 1 else f"{mean:.3f} ({min(values):.3f}-{max(values):.3f})"


def print_seed_means(lopo_results: dict, split_rows: list, single_rows: list, ks: list[int]) -> None:
    """Per arch: the mean over seeds (and the range of the seeds' values) of every measure."""
    seeds_of = lambda arch: sorted({seed for (a, seed) in lopo_results if a == arch}  # noqa: E731
                                   | {seed for a, seed, _, _ in split_rows + single_rows if a == arch})
    archs = list(dict.fromkeys([a for a, _ in lopo_results] + [r[0] for r in split_rows + single_rows]))
    heads = ["arch", "seeds"]
    if lopo_results:
        heads += ["LOPO zero-shot"] + [f"LOPO adapt {k}/label" for k in ks]
    if split_rows:
        heads += ["4-vs-5 split"]
    people = list(dict.fromkeys(r[2] for r in single_rows))
    heads += [f"single {p}" for p in people]
    print("\n### Mean over seeds, int8 (range over seeds)\n")
    print("| " + " | ".join(heads) + " |\n|" + "---|" * len(heads))
    for arch in archs:
        cells = [arch, ",".join(map(str, seeds_of(arch)))]
        if lopo_results:
            runs = [rows for (a, _), rows in lopo_results.items() if a == arch]
            for key in ["zero"] + [f"k{k}" for k in ks]:
                cells.append(_stats([sum(r[key]["int8"] for r in rows) / len(rows) for rows in runs]) if runs else "")
        if split_rows:
            vals = [r["int8"] for a, _, _, r in split_rows if a == arch]
            cells.append(_stats(vals) if vals else "")
        for person in people:
            vals = [r["int8"] for a, _, p, r in single_rows if a == arch and p == person]
            cells.append(_stats(vals) if vals else "")
        print("| " + " | ".join(cells) + " |")


def _cell(r: dict) -> str:
    return f"{r['int8']:.3f}" + (" (refused)" if r["refused"] else "")


def print_lopo(results: dict, ks: list[int], motionless: dict | None = None) -> None:
    print("\n### Leave one person out (punch, flex): int8 accuracy (float)\n")
    heads = ["arch", "seed", "person", "zero-shot"] + [f"adapt {k}/label" for k in ks] + ["model B", "arena B", "mount"]
    print("| " + " | ".join(heads) + " |\n|" + "---|" * len(heads))
    for (arch, seed), rows in results.items():
        for r in rows:
            cells = [arch, str(seed), r["person"], f"{_cell(r['zero'])} ({r['zero']['float']:.3f})"]
            cells += [f"{_cell(r[f'k{k}'])} ({r[f'k{k}']['float']:.3f})" for k in ks]
            cells += [str(r["zero"]["model_bytes"]), str(r["zero"]["arena_bytes"]), _mount(r["zero"]).lstrip(", ")]
            print("| " + " | ".join(cells) + " |")
        mean = lambda key, kind: sum(r[key][kind] for r in rows) / len(rows)  # noqa: E731
        cells = [f"**{arch}**", str(seed), "**mean**", f"**{mean('zero', 'int8'):.3f}** ({mean('zero', 'float'):.3f})"]
        cells += [f"**{mean(f'k{k}', 'int8'):.3f}** ({mean(f'k{k}', 'float'):.3f})" for k in ks]
        print("| " + " | ".join(cells + ["", "", ""]) + " |")
    if motionless:
        print("\nTakes that 'training check' warns hold no motion (no_motion), scored like the others: "
              + "; ".join(f"{p} {', '.join(t)}" for p, t in sorted(motionless.items())))


def print_drift(lopo_results: dict, split_rows: list, single_rows: list, ks: list[int]) -> None:
    """Per arch, over every converted model: test windows whose label int8 changed against float, each way."""
    totals: dict[str, list[int]] = {}

    def add(arch: str, r: dict) -> None:
        t = totals.setdefault(arch, [0, 0, 0, 0, 0])
        for i, v in enumerate((1, r["n"], r["lost"], r["gained"], int(bool(r["refused"])))):
            t[i] += v

    for (arch, _), rows in lopo_results.items():
        for r in rows:
            for key in ["zero"] + [f"k{k}" for k in ks]:
                add(arch, r[key])
    for arch, _, _, r in split_rows + single_rows:
        add(arch, r)
    print("\n### int8 against float, every converted model\n")
    print("| arch | models | test windows | int8 wrong where float right | int8 right where float wrong | refused |\n"
          "|---|---|---|---|---|---|")
    for arch, (models, n, lost, gained, refused) in totals.items():
        print(f"| {arch} | {models} | {n} | {lost} ({100 * lost / max(n, 1):.1f} %) | {gained} "
              f"({100 * gained / max(n, 1):.1f} %) | {refused} |")


def print_rows(title: str, rows: list[tuple], first: str) -> None:
    print(f"\n### {title}\n")
    print(f"| arch | seed | {first} | n | int8 | float | model B | arena B | mount |\n|---|---|---|---|---|---|---|---|---|")
    for arch, seed, what, r in rows:
        print(f"| {arch} | {seed} | {what} | {r['n']} | {_cell(r)} | {r['float']:.3f} | {r['model_bytes']} | "
              f"{r['arena_bytes']} | {_mount(r).lstrip(', ')} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help=f"folder of <person>/<label>.csv (default {DEFAULT_DATA})")
    p.add_argument("--archs", default=",".join(ARCHS), help=f"comma-separated from {','.join(ARCHS)} (default all)")
    p.add_argument("--parts", default="lopo,split,single", help="comma-separated from lopo,split,single,nested (default lopo,split,single; nested: "
                        "choose on six people in three folds, confirm on three never used to choose)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds; tables show each and their mean (default 0,1,2)")
    p.add_argument("--ks", default="1,3", help="takes per label for adapt (default 1,3)")
    p.add_argument("--people", default=None, help="leave-one-out only these people (default every one with punch and flex)")
    p.add_argument("--augment", default=None, metavar="KINDS",
                   help="training augmentation as 'training fit --augment' (default: fit's own default)")
    p.add_argument("--patience", type=int, default=None, help="early stopping as 'training fit --patience' (default: off)")
    p.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                   help="FitOptions.learning_rate (default: fit's own for the arch)")
    p.add_argument("--epochs", type=int, default=None, help="FitOptions.epochs (default: fit's own)")
    p.add_argument("--mount-share", type=float, default=None, metavar="P",
                   help="share of training windows 'mount' turns, as FitOptions.mount_share (default: the arch's)")
    p.add_argument("--rate-hz", type=float, default=None, metavar="HZ",
                   help="the model's rate as FitOptions.rate_hz: takes are resampled to it as the board does "
                        "(default: fit's own for the arch)")
    p.add_argument("--width", type=int, default=None, metavar="N",
                   help="filters of the convolutions as FitOptions.width (default: fit's own, 16)")
    p.add_argument("--kernel", type=int, default=None, metavar="K",
                   help="convolution kernel (conv1d, ds-conv1d, cnn-gru) as the builders' kernel (default: theirs)")
    p.add_argument("--depth", type=int, default=None, metavar="N",
                   help="convolutions of conv1d / ds-conv1d as the builders' depth (default: theirs, 3)")
    p.add_argument("--gru-units", type=int, default=None, metavar="N",
                   help="units of the GRU (gru, cnn-gru) as FitOptions.gru_units (default: fit's own)")
    p.add_argument("--clipnorm", type=float, default=None, metavar="C",
                   help="Adam's gradient clipping by norm as FitOptions.clipnorm, 0 off (default: fit's own for the arch)")
    p.add_argument("--gru-dropout", type=float, default=None, metavar="P",
                   help="training-time dropout on the GRU's inputs (gru, cnn-gru; default 0)")
    p.add_argument("--gru-recurrent-dropout", type=float, default=None, metavar="P",
                   help="training-time dropout on the GRU's state (gru, cnn-gru; default 0)")
    p.add_argument("--supervised-steps", type=float, default=None, metavar="SHARE",
                   help="gru, cnn-gru: share of the window's last steps trained on its label, as "
                        "FitOptions.supervised_steps (default: the arch's; 0: the last step only)")
    p.add_argument("--mount-deg", type=float, default=None, metavar="DEG",
                   help="largest 'mount' turn as FitOptions.mount_deg (default: from the training people's spread)")
    p.add_argument("--adapt-learning-rate", type=float, default=None, metavar="LR",
                   help="AdaptOptions.learning_rate of lopo's adapting (default: adapt's own)")
    p.add_argument("--adapt-epochs", type=int, default=None, metavar="N",
                   help="AdaptOptions.epochs of lopo's adapting (default: adapt's own)")
    p.add_argument("--average-last", type=float, default=None, metavar="SHARE",
                   help="keep the mean weights of this share of the epochs (the last), as FitOptions.average_last "
                        "(default: the arch's; 0: the last epoch's)")
    a = p.parse_args(argv)
    src = a.data or DEFAULT_DATA
    if not src.is_dir():
        print(f"skipped: no real recordings at {src} (pass --data DIR with <person>/<label>.csv files)", file=sys.stderr)
        return 0
    archs = [x.strip() for x in a.archs.split(",") if x.strip()]
    parts = [x.strip() for x in a.parts.split(",") if x.strip()]
    bad = [x for x in archs if x not in ARCHS] + [x for x in parts if x not in ("lopo", "split", "single", "nested")]
    if bad:
        print(f"error: unknown arch or part {', '.join(bad)}", file=sys.stderr)
        return 2
    seeds = [int(s) for s in a.seeds.split(",")]
    ks = [int(k) for k in a.ks.split(",") if k.strip()]
    people = [x.strip() for x in a.people.split(",")] if a.people else None
    recipe = {"patience": a.patience, "mount_deg": a.mount_deg, "mount_share": a.mount_share}
    recipe.update({k: v for k, v in (("learning_rate", a.learning_rate), ("epochs", a.epochs), ("rate_hz", a.rate_hz),
                                     ("gru_units", a.gru_units), ("clipnorm", a.clipnorm), ("width", a.width),
                                     ("average_last", a.average_last), ("supervised_steps", a.supervised_steps)) if v is not None})
    drops = {k: v for k, v in (("gru_dropout", a.gru_dropout), ("gru_recurrent_dropout", a.gru_recurrent_dropout),
                               ("kernel", a.kernel), ("depth", a.depth)) if v is not None}
    if drops:
        recipe["model_options"] = drops
    if a.augment is not None:
        from training.augment import parse_augment

        recipe["augment"] = parse_augment(a.augment)
    lopo_results, split_rows, single_rows, nested_rows, motionless = {}, [], [], [], {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nanogest-real-") as tmp:
        tmp = Path(tmp)
        for arch in archs:
            for seed in seeds:
                if "lopo" in parts:
                    lopo_results[(arch, seed)] = lopo(src, tmp, arch, seed, ks, people, recipe, {k: v for k, v in (
                        ("learning_rate", a.adapt_learning_rate), ("epochs", a.adapt_epochs)) if v is not None})
                    motionless = motionless_takes(tmp / "cross")
                if "split" in parts:
                    r = split(src, tmp, arch, seed, recipe)
                    split_rows.append((arch, seed, ", ".join(r["test"]), r))
                if "nested" in parts:
                    nested_rows.append((arch, seed, nested(src, tmp, arch, seed, recipe)))
                if "single" in parts:
                    for person in SINGLE_PEOPLE:
                        single_rows.append((arch, seed, person, single(src, tmp, arch, seed, person, recipe)))
    recipe_text = ", ".join(f"{k} {','.join(v) if isinstance(v, tuple) else v}" for k, v in recipe.items()
                            if v is not None) or "fit's defaults"
    recipe_text += "".join(f", adapt {k} {v}" for k, v in (("learning rate", a.adapt_learning_rate),
                                                          ("epochs", a.adapt_epochs)) if v is not None)
    print(f"Real recordings from {src} (bench/bench_real.py, {recipe_text}, {time.monotonic() - started:.0f} s)")
    if lopo_results:
        print_lopo(lopo_results, ks, motionless)
    if split_rows:
        print_rows(f"Trained on {', '.join(SPLIT_TRAIN_PEOPLE)} (punch, flex), tested on the others", split_rows,
                   "test people")
    if single_rows:
        print_rows(f"One person, every gesture, takes split {100 - 100 * SINGLE_TEST_FRACTION:.0f}/"
                   f"{100 * SINGLE_TEST_FRACTION:.0f}", single_rows, "person")
    if nested_rows:
        print_nested(nested_rows)
    if len(seeds) > 1 and (lopo_results or split_rows or single_rows):
        print_seed_means(lopo_results, split_rows, single_rows, ks)
    if lopo_results or split_rows or single_rows:
        print_drift(lopo_results, split_rows, single_rows, ks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
