"""``make default-model`` (``nanogest default-model``): regenerate the committed default model.

The firmware builds out of the box, and the virtual board runs by default, with the model in
firmware/lib/nanogest_model/src/generated/ and the contract in firmware/host/default_run/. This
is the one recipe that makes them: the demo's training people recorded from the virtual board
(``boardtools.demo``: TRAIN_PEOPLE, 8 takes per label), ``nanogest fit --arch conv1d --seed 1``,
``nanogest convert``, ``nanogest install``; then the run's contract.json is copied beside the
virtual board's default run and ``recipe.json`` records what made them (this recipe, with its
``RECIPE_VERSION``, and the model's hash).

tests/boardtools/test_default_model.py checks, without retraining, that the committed files are
what this recipe declares: its version and options, the contract's version and architecture,
and a settings header that today's converter would write for the committed model. Changing the
recipe (or the contract, or the header generator) makes that test fail until this command has
been run again and its output committed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from boardtools.demo import TRAIN_PEOPLE, DemoError, _record, _run
from contract.run_dir import copy_contract
from training.families import family
from training.fit import FitOptions, width_for

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUN_DIR = REPO_ROOT / "firmware" / "host" / "default_run"
RECIPE_PATH = DEFAULT_RUN_DIR / "recipe.json"
CONTRACT_PATH = DEFAULT_RUN_DIR / "contract.json"

# Raise it whenever the recipe below changes what it makes (people, takes, fit options).
RECIPE_VERSION = 2
ARCH = "conv1d"
SEED = 1
TAKES_PER_LABEL = 8
SPEED = 40  # virtual board speed while recording (times real time): it changes no sample


def recipe() -> dict:
    """What this recipe declares, as recipe.json records it."""
    return {
        "recipe_version": RECIPE_VERSION,
        "command": "make default-model",
        "people": [list(p) for p in TRAIN_PEOPLE],
        "takes_per_label": TAKES_PER_LABEL,
        "fit": ["--arch", ARCH, "--seed", str(SEED)],
        "arch": ARCH,
        # what fit's defaults come to for the family: a change of them makes the committed model stale
        "family_defaults": {"width": width_for(FitOptions(arch=ARCH)), "rate_hz": family(ARCH).rate_hz},
    }


def regenerate(work_dir: Path, log) -> dict:
    """Record, fit, convert and install; write the default run's contract.json and recipe.json."""
    data_dir, run_dir = work_dir / "data", work_dir / "run"
    _record(TRAIN_PEOPLE, data_dir, TAKES_PER_LABEL, SPEED, log)
    _run("train the default model", ["fit", str(data_dir), "--out", str(run_dir), *recipe()["fit"]], log)
    report = _run("convert to int8 + verify in TFLM", ["convert", str(run_dir)], log)
    return install(run_dir, report, log)


def install(run_dir: Path, report: dict, log) -> dict:
    """``nanogest install RUN_DIR``, then the run's contract.json and recipe.json beside the default run."""
    cmd = [sys.executable, "-m", "nanogest", "install", str(run_dir)]
    print(f"[default-model] install into the firmware: nanogest install {run_dir}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log.write(f"$ {' '.join(cmd)}\n{proc.stderr}\n{proc.stdout}\n")
    if proc.returncode != 0:
        raise DemoError(f"step 'install' failed (exit {proc.returncode}): {proc.stderr.strip()}")
    copy_contract(run_dir, CONTRACT_PATH.parent)
    stamp = {**recipe(), "model_hash": report.get("model_hash"), "model_bytes": report.get("model_bytes"),
             "arena_bytes": report.get("arena_bytes"), "accuracy_int8_heldout": report.get("accuracy_int8")}
    RECIPE_PATH.write_text(json.dumps(stamp, indent=2) + "\n")
    return stamp


def add_default_model_parser(sub) -> None:
    d = sub.add_parser("default-model", help="regenerate the committed default model (make default-model)",
                       description=__doc__.split("\n\n")[1],
                       epilog="example: %(prog)s --work /tmp/default-model   (then review and commit the files it names)")
    d.add_argument("--work", type=Path, default=None,
                   help="where to keep the recorded data and the run (default: a temporary folder, removed after)")
    d.set_defaults(func=run_default_model)


def run_default_model(a) -> int:
    work = a.work or Path(tempfile.mkdtemp(prefix="nanogest-default-model-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with open(work / "default-model.log", "w") as log:
            stamp = regenerate(work, log)
    except DemoError as e:
        print(f"error: {e}\n(full log: {work / 'default-model.log'})", file=sys.stderr)
        return 2
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"[default-model] wrote firmware/lib/nanogest_model/src/generated/, {CONTRACT_PATH.relative_to(REPO_ROOT)} "
          f"and {RECIPE_PATH.relative_to(REPO_ROOT)} (model {stamp['model_hash']}); commit them together",
          file=sys.stderr)
    print(json.dumps(stamp))
    return 0


def run(args) -> int:
    return args.func(args)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m boardtools.default_model")
    sub = p.add_subparsers(dest="command", required=True)
    add_default_model_parser(sub)
    return run(p.parse_args(["default-model", *(argv if argv is not None else sys.argv[1:])]))


if __name__ == "__main__":
    sys.exit(main())
