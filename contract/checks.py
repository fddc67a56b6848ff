"""Reading a contract.json dict field by field: each problem is one ContractError line naming the file
and the field (``Contract.from_dict`` calls ``checked_fields``)."""

from __future__ import annotations

import math

from contract.fields import (DEFAULT_GATE, ContractError, FrontEndLayer, GruShape, MotionGate, Normalization,
                             NoveltyGate)
from contract.labels import LabelError, c_identifiers
from contract.pipeline import CHANNELS, CONTRACT_VERSION, DEFAULT_AGREEMENT, DEFAULT_REFRACTORY_S, MOTION_MEASURE

REQUIRED = ("rate_hz", "channels", "window", "hop", "labels", "idle_label", "normalization", "score_threshold")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def checked_fields(raw: dict, where: str) -> dict:
    """The Contract's field values (by field name) of ``raw``, every one checked."""
    version = checked_version(raw, where)  # first: a newer contract may have other keys
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise ContractError(f"{where}: missing {', '.join(missing)}; see docs/architecture.md for the contract fields")
    channels = [str(c) for c in _list(raw, "channels", where)]
    labels = [str(label) for label in _list(raw, "labels", where)]
    check_labels(labels, where)
    idle = raw["idle_label"]
    if idle is not None and idle not in labels:
        raise ContractError(f"{where}: idle_label {idle!r} is not one of the labels {labels}")
    rate_hz, window, hop = _number(raw, "rate_hz", where), _whole(raw, "window", where), _whole(raw, "hop", where)
    if window <= 0 or hop <= 0 or rate_hz <= 0:
        raise ContractError(f"{where}: window, hop and rate_hz must be positive")
    agreement, refractory_s, gate = checked_postprocess(raw, where)
    unknown_label, unknown_threshold = checked_unknown(raw, labels, version, where)
    arch, units = raw.get("arch"), raw.get("units")
    if arch is not None and not isinstance(arch, str):
        raise ContractError(f"{where}: arch must be the name of a model family, got {arch!r}")
    records = {k: raw.get(k) for k in ("postprocess_calibration", "postprocess_tuning")}
    for key, record in records.items():
        if record is not None and not isinstance(record, dict):
            raise ContractError(f"{where}: {key} must be null or a record (an object), got {record!r}")
    return dict(
        version=version, rate_hz=rate_hz, channels=channels, units=units, window=window, hop=hop, labels=labels,
        idle_label=None if idle is None else str(idle), normalization=checked_normalization(raw, len(channels), where),
        arch=arch, score_threshold=_number(raw, "score_threshold", where), agreement=agreement,
        refractory_s=refractory_s, motion_gate=gate, unknown_label=unknown_label, unknown_threshold=unknown_threshold,
        gru=checked_gru(raw.get("gru"), where),
        novelty_gate=checked_novelty_gate(raw.get("novelty_gate") if version >= 2 else None, channels,
                                          unknown_label, where, stepped=raw.get("gru") is not None), **records)


GATE_STATISTICS_PER_CHANNEL = 4  # max, minus min, mean of the positive part, of the negative part
GATE_LENGTH_STATISTICS = 8  # max, min, mean, std of the accelerometer's and the gyroscope's vector length
GATE_STATISTICS = ("lengths", "window")  # the kinds of statistics a novelty gate reads


def gate_statistics_count(statistics: str, n_channels: int) -> int | None:
    """How many statistics a gate of that kind reads (None for a kind this nanogest does not know)."""
    return {"window": GATE_STATISTICS_PER_CHANNEL * n_channels, "lengths": GATE_LENGTH_STATISTICS}.get(statistics)


def checked_novelty_gate(raw, channels: list[str], unknown_label: str | None, where: str,
                         stepped: bool = False) -> NoveltyGate | None:
    """The novelty gate of contract.json (None when absent): a square whitening over its statistics (4
    per channel, or 8 of the vector lengths; a ``stepped`` (GRU) run's only the lengths, which its board
    gathers step by step), its bias, a positive level, and an unknown label for the windows it rejects."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: novelty_gate must be null or an object, got {raw!r}")
    statistics = raw.get("statistics", "window")
    n = gate_statistics_count(statistics, len(channels)) if isinstance(statistics, str) else None
    if n is None:
        raise ContractError(f"{where}: novelty_gate.statistics must be 'window' or 'lengths', got {statistics!r}")
    if stepped and statistics != "lengths":
        raise ContractError(f"{where}: a GRU run's novelty_gate must read the vector lengths ('lengths'): its board "
                            f"steps the model and never holds the whole window the {statistics!r} statistics need")
    if statistics == "lengths" and list(channels) != list(CHANNELS):
        raise ContractError(f"{where}: novelty_gate.statistics 'lengths' needs the channels {list(CHANNELS)} "
                            f"(the accelerometer's, then the gyroscope's), got {list(channels)}")
    weights, bias, level = raw.get("weights"), raw.get("bias"), raw.get("level")
    if (not isinstance(weights, list) or len(weights) != n
            or not all(isinstance(r, list) and len(r) == n and all(is_number(v) for v in r) for r in weights)):
        raise ContractError(f"{where}: novelty_gate.weights must be {n} rows of {n} numbers")
    if not isinstance(bias, list) or len(bias) != n or not all(is_number(v) for v in bias):
        raise ContractError(f"{where}: novelty_gate.bias must be {n} numbers")
    if not is_number(level) or not math.isfinite(level) or level <= 0:
        raise ContractError(f"{where}: novelty_gate.level must be a positive number, got {level!r}")
    if unknown_label is None:
        raise ContractError(f"{where}: novelty_gate needs an unknown_label, the label its windows are reported as")
    record = {k: v for k, v in raw.items() if k not in ("weights", "bias", "level")}
    return NoveltyGate(tuple(tuple(float(v) for v in r) for r in weights), tuple(float(v) for v in bias),
                       float(level), record)


def checked_version(raw: dict, where: str) -> int:
    """The contract's version: 1 when it has none (written before versions were checked); a version
    newer than this code reads is refused by name."""
    version = raw.get("contract_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ContractError(f"{where}: contract_version must be a whole number from 1, got {version!r}")
    if version > CONTRACT_VERSION:
        raise ContractError(f"{where}: contract_version {version} is newer than this nanogest reads (up to "
                            f"{CONTRACT_VERSION}); update nanogest, or train the run again with this one")
    return version


def check_labels(labels: list[str], where: str) -> None:
    """Labels a contract can hold: at least two distinct names, each with its own C name in the header."""
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ContractError(f"{where}: labels must be at least two distinct names, got {labels}")
    try:
        c_identifiers(labels)  # the header names each label's index (converter/headers.py)
    except LabelError as e:
        raise ContractError(f"{where}: {e}") from None


def checked_normalization(raw: dict, n_channels: int, where: str) -> Normalization:
    norm = raw["normalization"]
    mean, std = (norm.get("mean", []), norm.get("std", [])) if isinstance(norm, dict) else ([], [])
    mean, std = (list(v) if isinstance(v, list) else [] for v in (mean, std))
    if len(mean) != n_channels or len(std) != n_channels:
        raise ContractError(f"{where}: normalization needs {n_channels} mean and {n_channels} std values "
                            f"(one per channel), got {len(mean)} and {len(std)}")
    if not all(is_number(v) and math.isfinite(v) for v in mean + std):
        raise ContractError(f"{where}: normalization mean and std must be finite numbers, got {mean} and {std}")
    if any(v <= 0 for v in std):
        raise ContractError(f"{where}: normalization std must be positive for every channel, got {std}")
    return Normalization(tuple(float(v) for v in mean), tuple(float(v) for v in std))


def checked_postprocess(raw: dict, where: str) -> tuple[int, float, MotionGate | None]:
    """(agreement, refractory_s, motion gate or None), the documented defaults for missing keys."""
    agreement = raw.get("agreement", DEFAULT_AGREEMENT)
    refractory_s = raw.get("refractory_s", DEFAULT_REFRACTORY_S)
    if not isinstance(agreement, int) or isinstance(agreement, bool) or not 1 <= agreement <= 1000:
        raise ContractError(f"{where}: agreement must be a whole number of windows from 1 to 1000, got {agreement!r}")
    if not is_number(refractory_s) or not 0 <= refractory_s <= 3600:
        raise ContractError(f"{where}: refractory_s must be seconds from 0 to 3600, got {refractory_s!r}")
    if "motion_gate" not in raw:
        return agreement, float(refractory_s), DEFAULT_GATE
    gate = raw["motion_gate"]
    if gate is None:
        return agreement, float(refractory_s), None
    if not isinstance(gate, dict) or gate.get("measure") != MOTION_MEASURE:
        raise ContractError(f"{where}: motion_gate must be null or {{\"measure\": \"{MOTION_MEASURE}\", "
                            f"\"accel_weight_dps_per_g\": W, \"threshold\": T}}, got {gate!r}")
    try:
        weight, threshold = float(gate["accel_weight_dps_per_g"]), float(gate["threshold"])
    except (KeyError, TypeError, ValueError):
        raise ContractError(f"{where}: motion_gate needs numbers accel_weight_dps_per_g and threshold, got {gate!r}") from None
    if not (weight >= 0 and threshold >= 0 and math.isfinite(weight) and math.isfinite(threshold)):
        raise ContractError(f"{where}: motion_gate's accel_weight_dps_per_g and threshold must be finite and >= 0")
    return agreement, float(refractory_s), MotionGate(weight, threshold)


def checked_unknown(raw: dict, labels: list[str], version: int, where: str) -> tuple[str | None, float | None]:
    """(unknown_label or None, unknown_threshold or None). A version-1 contract has neither, whatever it
    holds. The threshold's range depends on the model's output (the converter checks it)."""
    if version < 2:
        return None, None
    label, threshold = raw.get("unknown_label"), raw.get("unknown_threshold")
    if label is not None:
        if not isinstance(label, str) or label not in labels:
            raise ContractError(f"{where}: unknown_label must be null or one of the labels {labels}, got {label!r}")
        if label == raw.get("idle_label"):
            raise ContractError(f"{where}: unknown_label {label!r} is the idle label; they must be different labels")
    if threshold is not None:
        if not is_number(threshold) or not math.isfinite(threshold):
            raise ContractError(f"{where}: unknown_threshold must be null or a number, got {threshold!r}")
        if label is None:
            raise ContractError(f"{where}: unknown_threshold is {threshold!r} but unknown_label is null; "
                                "a threshold needs the unknown label it applies to")
        threshold = float(threshold)
    return label, threshold


def checked_gru(gru, where: str) -> GruShape | None:
    """The ``gru`` entry: ``{"units": U, "front_end": [layer...] | null}`` or null."""
    if gru is None:
        return None
    bad = ContractError(f"{where}: gru must be null or {{\"units\": U, \"front_end\": [layers] or null}}, got {gru!r}")
    if not isinstance(gru, dict) or not isinstance(gru.get("units"), int) or isinstance(gru.get("units"), bool):
        raise bad
    front = gru.get("front_end")
    if front is None:
        return GruShape(gru["units"], None)
    if not isinstance(front, list) or not all(isinstance(layer, str) or (isinstance(layer, dict) and "name" in layer)
                                              for layer in front):
        raise bad
    return GruShape(gru["units"], tuple(
        layer if isinstance(layer, str) else FrontEndLayer(**{k: layer.get(k) for k in FrontEndLayer.__dataclass_fields__})
        for layer in front))


def _list(raw: dict, key: str, where: str) -> list:
    if not isinstance(raw[key], list):
        raise ContractError(f"{where}: {key} must be a list, got {raw[key]!r}")
    return raw[key]


def _number(raw: dict, key: str, where: str) -> float:
    if not is_number(raw[key]) or not math.isfinite(raw[key]):
        raise ContractError(f"{where}: {key} must be a number, got {raw[key]!r}")
    return float(raw[key])


def _whole(raw: dict, key: str, where: str) -> int:
    value = raw[key]
    if not is_number(value) or not float(value).is_integer():
        raise ContractError(f"{where}: {key} must be a whole number of samples, got {value!r}")
    return int(value)
