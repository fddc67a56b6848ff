"""``nanogest install RUN_DIR``: put a converted run's headers into the firmware.

``nanogest convert RUN_DIR`` writes the four generated files into the run
(RUN_DIR/generated/ unless told otherwise, recorded as ``header_dir`` in report.json); the
firmware builds whatever is in firmware/lib/nanogest_model/src/generated/. Installing is this
one explicit step: it checks that report.json vouches for the headers (the converter wrote
them and did not refuse) and that all four hold the report's model (the hash in
model_settings.h and the FNV-1a hash of the bytes in model_data.cc), then copies them.
"""

from __future__ import annotations

import re
from pathlib import Path

from contract.document import ContractError
from contract.run_dir import REPORT_FILE, read_record
from converter import ConverterError
from converter.headers import HEADER_FILES, fnv1a32

REPO_ROOT = Path(__file__).resolve().parent.parent
FIRMWARE_HEADER_DIR = REPO_ROOT / "firmware" / "lib" / "nanogest_model" / "src" / "generated"
RUN_HEADER_DIR_NAME = "generated"  # the converter's default: RUN_DIR/generated

_SETTINGS_HASH = re.compile(r"kModelHash\s*=\s*0x([0-9a-fA-F]{1,8})u?\s*;")
_MODEL_ARRAY = re.compile(r"g_model_data\[\]\s*=\s*\{(.*?)\};", re.S)
_MODEL_LEN = re.compile(r"g_model_data_len\s*=\s*(\d+)\s*;")


def run_header_dir(run_dir: Path) -> Path:
    """Where ``convert`` writes a run's headers by default."""
    return Path(run_dir) / RUN_HEADER_DIR_NAME


def settings_model_hash(header_dir: Path) -> int | None:
    """The kModelHash of ``header_dir``/model_settings.h (None: no such file or no hash in it)."""
    path = Path(header_dir) / "model_settings.h"
    if not path.is_file():
        return None
    m = _SETTINGS_HASH.search(path.read_text(errors="replace"))
    return int(m.group(1), 16) if m else None


def model_data_hash(header_dir: Path) -> int | None:
    """The FNV-1a hash of the bytes in ``header_dir``/model_data.cc (None: absent or unreadable)."""
    path = Path(header_dir) / "model_data.cc"
    if not path.is_file():
        return None
    text = path.read_text(errors="replace")
    array, length = _MODEL_ARRAY.search(text), _MODEL_LEN.search(text)
    if not array or not length:
        return None
    data = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", array.group(1)))
    return fnv1a32(data) if len(data) == int(length.group(1)) else None


def _report(run_dir: Path) -> dict:
    if not run_dir.is_dir():
        raise ConverterError(f"{run_dir}: no such run directory; pass a RUN_DIR written by `nanogest fit` "
                             "and converted with `nanogest convert RUN_DIR`")
    path = run_dir / REPORT_FILE
    try:
        report = read_record(run_dir, REPORT_FILE)
    except ContractError as e:
        first = "first" if not path.is_file() else "again"
        raise ConverterError(f"{e}; convert the run {first}: nanogest convert {run_dir}") from None
    if not isinstance(report, dict):
        raise ConverterError(f"{path}: expected a JSON object; convert again: nanogest convert {run_dir}")
    return report


def _hash_of(report: dict, path: Path) -> int:
    value = report.get("model_hash")
    try:
        h = int(value, 16) if isinstance(value, str) else None
    except ValueError:
        h = None
    if h is None or not 0 <= h <= 0xFFFFFFFF:
        raise ConverterError(f"{path}: model_hash {value!r} is not a hex number like 0x1234abcd; "
                             f"convert again: nanogest convert {path.parent}")
    return h


def install_headers(run_dir: Path, dest: Path = FIRMWARE_HEADER_DIR) -> list[str]:
    """Copy ``run_dir``'s generated headers into ``dest``; return what was done, one line each."""
    run_dir = Path(run_dir)
    dest = Path(dest)
    report = _report(run_dir)
    report_path = run_dir / "report.json"
    model_hash = _hash_of(report, report_path)
    convert_again = f"nanogest convert {run_dir}"
    if not report.get("headers_written"):
        raise ConverterError(f"{report_path}: the converter did not write headers for model 0x{model_hash:08x} "
                             f"(it refused the model or was interrupted; its message said why); fix that and run "
                             f"`{convert_again}` again. Nothing installed")
    tflite = run_dir / "model_int8.tflite"
    if tflite.is_file() and fnv1a32(tflite.read_bytes()) != model_hash:
        raise ConverterError(f"{report_path} says model 0x{model_hash:08x} but {tflite} hashes to "
                             f"0x{fnv1a32(tflite.read_bytes()):08x}: the run changed after converting; run "
                             f"`{convert_again}` again. Nothing installed")
    # Where report.json says they went, else the default place in the run (a run directory
    # that was moved): the hash checks below make sure they are this run's either way.
    candidates = ([Path(report["header_dir"])] if report.get("header_dir") else []) + [run_header_dir(run_dir)]
    source = next((c for c in candidates if all((c / name).is_file() for name in HEADER_FILES)), candidates[0])
    missing = [name for name in HEADER_FILES if not (source / name).is_file()]
    if missing:
        raise ConverterError(f"{source}: {', '.join(missing)} missing (report.json says the headers were written "
                             f"there); run `{convert_again}` again. Nothing installed")
    for what, found in (("model_settings.h's kModelHash", settings_model_hash(source)),
                        ("the bytes of model_data.cc", model_data_hash(source))):
        if found != model_hash:
            shown = "no model" if found is None else f"model 0x{found:08x}"
            raise ConverterError(f"{source}: {what} is {shown}, report.json says 0x{model_hash:08x}: those headers "
                                 f"are not this run's; run `{convert_again}` again. Nothing installed")
    if dest.exists() and source.resolve() == dest.resolve():
        return [f"{dest} already holds model 0x{model_hash:08x} of {run_dir}; nothing copied"]
    before = settings_model_hash(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in HEADER_FILES:
        part = dest / (name + ".part")
        part.write_bytes((source / name).read_bytes())
        part.replace(dest / name)
    replaced = f"replacing model 0x{before:08x}" if before is not None else "into an empty directory"
    return [f"installed model 0x{model_hash:08x} of {run_dir} into {dest} ({replaced}):"] + \
        [f"  {source / name} -> {dest / name}" for name in HEADER_FILES]
