"""The core's host programs built with a model_settings.h, as the virtual board is for a run
(boardtools.virtual_build): the settings they compiled in, and header variants with some constants
changed (the rate, the post-processing), so a test can drive the core with settings no committed
model has, through the same ng_header_settings.h path the board uses."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from boardtools.virtual_build import programs_for_header

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RUN = ROOT / "firmware" / "build" / "host" / "default_run"


def default_header() -> str:
    """The committed default model's model_settings.h (what `make firmware` builds)."""
    return (ROOT / "firmware" / "lib" / "nanogest_model" / "src" / "generated" / "model_settings.h").read_text()


def header_with(header: str, **constants) -> str:
    """``header`` with each ``kName = value;`` replaced (values written as C: 3, 60u, 0.5f, -1)."""
    for name, value in constants.items():
        header, n = re.subn(rf"(constexpr [\w: ]+? {name} = )[^;]+;", rf"\g<1>{value};", header)
        assert n == 1, f"{name} is not a constant of the header"
    return header


def c_float(value: float) -> str:
    import numpy as np

    return f"{float(np.float32(value))!r}f"


def programs(header: str) -> Path:
    """The directory of virtual_board, input_vectors and postprocess_vectors built with ``header``."""
    return programs_for_header(header)


def compiled_settings(program_dir: Path) -> dict:
    """The settings a program built with a header runs with: ``virtual_board --print-settings``."""
    out = subprocess.run([str(program_dir / "virtual_board"), "--print-settings"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def header_constants(header: str) -> dict[str, str]:
    """Every ``constexpr ... kName = value;`` of a header, the value as written (arrays with their braces)."""
    return dict(re.findall(r"constexpr [\w: *]+? (k\w+)(?:\[\w*\])? = (.+?);", header))


# The JSON keys of `virtual_board --print-settings` and the header constant each comes from.
SETTINGS_FROM = {
    "labels": "kLabels", "idle_index": "kIdleLabelIndex", "score_threshold": "kScoreThreshold",
    "rate_mhz": "kSampleRateMilliHz", "window": "kWindowSamples", "hop": "kHopSamples", "mean": "kNormMean",
    "std": "kNormStd", "input_scale": "kInputScale", "input_zero_point": "kInputZeroPoint",
    "output_scale": "kOutputScale", "output_zero_point": "kOutputZeroPoint", "model_hash": "kModelHash",
    "agreement": "kAgreement", "refractory_samples": "kRefractorySamples", "motion_gate": "kMotionGate",
    "motion_accel_weight": "kMotionAccelWeight", "unknown_index": "kUnknownLabelIndex",
    "unknown_threshold": "kUnknownThreshold", "arena_measured_bytes": "kArenaMeasuredBytes",
    "step_model": "kIsStepModel", "state_size": "kGruStateSize", "step_input_samples": "kStepInputSamples",
    "step_stride_samples": "kStepStrideSamples", "steps_per_window": "kStepsPerWindow",
    "state_input_scale": "kStateInputScale", "state_input_zero_point": "kStateInputZeroPoint",
    "state_output_scale": "kStateOutputScale", "state_output_zero_point": "kStateOutputZeroPoint",
    "state_carried_as_int8": "kStateCarriedAsInt8",
}


def c_value(text: str):
    """A header constant's value as Python: a list for braces, a str for a C string, a bool, an int or a float32."""
    import numpy as np

    text = text.strip()
    if text.startswith("{"):
        return [c_value(v) for v in re.findall(r'"(?:[^"\\]|\\.)*"|[^,\s{}]+', text)]
    if text.startswith('"'):
        return json.loads(text)
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)u?", text):
        return int(text.rstrip("u"), 0)
    return float(np.float32(float(text.rstrip("f"))))


def settings_in_header(header: str) -> dict:
    """The settings ``header`` states, under the keys of ``virtual_board --print-settings`` (only those it has)."""
    constants = header_constants(header)
    settings = {key: c_value(constants[name]) for key, name in SETTINGS_FROM.items() if name in constants}
    if "kGateEnabled" in constants:  # the gate's kind and level, from whichever constants its kind has
        on, lengths = c_value(constants["kGateEnabled"]), c_value(constants.get("kGateLengths", "false"))
        settings["novelty_gate"] = "none" if not on else "lengths" if lengths else "window"
        settings["gate_level"] = (0.0 if not on else c_value(constants["kGateLengthLevel" if lengths else "kGateLevel"]))
    return settings


def as_float32(settings: dict) -> dict:
    """``settings`` with every float rounded to float32, so printed and written values compare exactly."""
    import numpy as np

    f32 = lambda v: float(np.float32(v)) if isinstance(v, float) else v  # noqa: E731
    return {k: [f32(x) for x in v] if isinstance(v, list) else f32(v) for k, v in settings.items()}
