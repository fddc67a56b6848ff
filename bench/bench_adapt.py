"""Adapting to a new person: leave-one-person-out on built-in data.

For every simulated person: train the default model (``training fit``) on the other people,
score it on the person's held-out takes (zero-shot), then adapt it (``training adapt``)
with 1, 3 and 5 takes per label and score it on the same held-out takes (the takes after
the fifth, so every K is measured on the same windows). Done twice: the person as
generated ("plain") and the same person with the board strapped on a quarter turn about
the forearm ("remounted", ``training.remount``), the case where a model trained on
others is near chance. The last columns check forgetting: accuracy on the base run's own
test person before and after adapting (K=3, remounted).

    python bench/bench_adapt.py [--people 6] [--takes 10] [--ks 1,3,5] [--json]

Prints a Markdown table on stdout (progress on stderr). Target: mean accuracy >= 0.97 with
3 takes per label.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from capture import synth  # noqa: E402
from training.adapt import adapt  # noqa: E402
from training.adapt_fit import AdaptOptions  # noqa: E402
from training.fit import FitOptions, fit  # noqa: E402
from training.remount import remount_dataset  # noqa: E402

RATE_HZ = 119.0
TARGET_K3 = 0.97


def _quiet():
    return contextlib.redirect_stderr(io.StringIO())


def one_person(root: Path, people: list[str], person: str, takes: int, ks: list[int], seed: int) -> dict:
    others = [p for p in people if p != person]
    base_data, base_run = root / f"base_without_{person}", root / f"run_without_{person}"
    synth.write_dataset(base_data, others, takes, RATE_HZ)
    started = time.monotonic()
    with _quiet():
        fit(base_data, base_run, FitOptions(seed=seed))
    fit_s = time.monotonic() - started
    plain = root / f"{person}_plain"
    synth.write_dataset(plain, [person], takes, RATE_HZ)
    remounted = root / f"{person}_remounted"
    remount_dataset(plain, remounted)
    row = {"person": person, "fit_seconds": round(fit_s, 1)}
    max_k = max(ks)
    for kind, data in (("plain", plain), ("remounted", remounted)):
        for k in ks:
            # Hold out the same takes for every K: adapt on the first k of the first max_k takes.
            subset = root / f"{person}_{kind}_k{k}"
            _subset(data, subset, k, max_k)
            started = time.monotonic()
            with _quiet():
                s = adapt(base_run, subset, root / f"adapted_{person}_{kind}_k{k}",
                          AdaptOptions(takes_per_label=k, seed=seed))
            row[f"{kind}_base"] = s["base_accuracy"]
            row[f"{kind}_k{k}"] = s["adapted_accuracy"]
            row[f"{kind}_k{k}_seconds"] = round(time.monotonic() - started, 1)
            row["n_test"] = s["n_test"]
            if kind == "remounted" and k == 3:
                row["forget_before"] = s["base_accuracy_on_base_test"]
                row["forget_after"] = s["adapted_accuracy_on_base_test"]
    return row


def _subset(data: Path, out: Path, k: int, max_k: int) -> None:
    """``data`` without the takes k..max_k-1 of every label (recording order), so that adapting on
    the first k leaves exactly the takes after the first max_k as the held-out ones."""
    for label_dir in sorted(p for p in data.iterdir() if p.is_dir()):
        csvs = sorted(label_dir.glob("*.csv"))
        keep = csvs[:k] + csvs[max_k:]
        (out / label_dir.name).mkdir(parents=True, exist_ok=True)
        for csv in keep:
            for f in (csv, csv.with_suffix(".json")):
                shutil.copyfile(f, out / label_dir.name / f.name)


def table(rows: list[dict], ks: list[int]) -> str:
    cols = ["person"] + [f"{kind} {c}" for kind in ("plain", "remounted") for c in ["base"] + [f"K={k}" for k in ks]]
    cols += ["base test before", "after (K=3 rem.)"]
    keys = [f"{kind}_{c}" for kind in ("plain", "remounted") for c in ["base"] + [f"k{k}" for k in ks]]
    keys += ["forget_before", "forget_after"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join([r["person"]] + [_f(r.get(k)) for k in keys]) + " |")
    means = [sum(r[k] for r in rows if r.get(k) is not None) / max(1, sum(r.get(k) is not None for r in rows))
             for k in keys]
    lines.append("| **mean** | " + " | ".join(f"**{m:.3f}**" for m in means) + " |")
    return "\n".join(lines)


def _f(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=int, default=6, help="simulated people (default 6)")
    p.add_argument("--takes", type=int, default=10, help="takes per label and person (default 10)")
    p.add_argument("--ks", default="1,3,5", help="takes per label to adapt with (default 1,3,5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    a = p.parse_args(argv)
    ks = sorted(int(k) for k in a.ks.split(","))
    if a.takes <= max(ks):
        p.error(f"--takes must be more than the largest K ({max(ks)}) to leave takes to test on")
    people = [f"p{i + 1}" for i in range(a.people)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="nanogest-bench-adapt-") as tmp:
        for person in people:
            print(f"[bench] {person}: base on {len(people) - 1} others, adapt with K in {ks}", file=sys.stderr, flush=True)
            row = one_person(Path(tmp), people, person, a.takes, ks, a.seed)
            print(f"[bench] {person}: {json.dumps(row)}", file=sys.stderr, flush=True)
            rows.append(row)
    if a.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"Leave-one-person-out, default model (conv1d), {a.people} simulated people, {a.takes} takes per label; "
          f"held out: every take after the first {max(ks)} of each label ({rows[0]['n_test']} windows per person).\n")
    print(table(rows, ks))
    mean_k3 = [sum(r[f"{kind}_k3"] for r in rows) / len(rows) for kind in ("plain", "remounted")] if 3 in ks else []
    if mean_k3:
        print(f"\nK=3 mean: plain {mean_k3[0]:.3f}, remounted {mean_k3[1]:.3f} (target {TARGET_K3})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
