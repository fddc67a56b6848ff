"""A small but real run directory in the documented RUN_DIR format, made in seconds.

Three gestures that differ in which channel oscillates and how fast, plus noise, so a tiny
Conv1D learns them perfectly and int8 quantization has no reason to lose accuracy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LABELS = ["flex", "idle", "wave"]
CHANNELS = ["aX", "aY", "aZ", "gX", "gY", "gZ"]
RATE_HZ = 50.0
WINDOW = 25
HOP = 6


def make_windows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw windows in g / deg/s: gravity on aZ, and a label-specific motion."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(LABELS)
    t = np.arange(WINDOW) / RATE_HZ
    x = rng.normal(0.0, 0.05, size=(n, WINDOW, 6)).astype(np.float32)
    x[:, :, 3:] *= 20.0  # gyro noise in deg/s
    x[:, :, 2] += 1.0
    phase = rng.uniform(0, 2 * np.pi, size=n)
    for i in range(n):
        if LABELS[y[i]] == "flex":
            x[i, :, 0] += 0.8 * np.sin(2 * np.pi * 2.0 * t + phase[i])
            x[i, :, 4] += 150.0 * np.cos(2 * np.pi * 2.0 * t + phase[i])
        elif LABELS[y[i]] == "wave":
            x[i, :, 1] += 0.6 * np.sin(2 * np.pi * 5.0 * t + phase[i])
            x[i, :, 5] += 250.0 * np.sin(2 * np.pi * 5.0 * t + phase[i])
    return x, y.astype(np.int32)


def build_model(window: int, n_labels: int, arch: str = "conv1d", gru_units: int = 8):
    """The tiny test network: conv1d, or a GRU network shaped as training builds it: Input(window, 6)
    -> [cnn-gru: Conv1D front end "front_conv1", "front_conv2" shortening the sequence] ->
    GRU(units, name="gru", reset_after=True) -> Dense(labels, softmax, name="classifier")."""
    import keras

    if arch in ("gru", "cnn-gru"):
        inputs = keras.Input((window, 6), name="window")
        h = inputs
        if arch == "cnn-gru":
            h = keras.layers.Conv1D(8, 3, strides=2, activation="relu", name="front_conv1")(h)
            h = keras.layers.Conv1D(8, 3, activation="relu", name="front_conv2")(h)
        h = keras.layers.GRU(gru_units, name="gru", reset_after=True)(h)
        outputs = keras.layers.Dense(n_labels, activation="softmax", name="classifier")(h)
        return keras.Model(inputs, outputs)
    inputs = keras.Input((window, 6))
    h = keras.layers.Conv1D(8, 5, activation="relu")(inputs)
    h = keras.layers.MaxPooling1D(2)(h)
    h = keras.layers.Conv1D(8, 3, activation="relu")(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    outputs = keras.layers.Dense(n_labels, activation="softmax")(h)
    return keras.Model(inputs, outputs)


def make_run_dir(run_dir: Path, n_labels_in_contract: int | None = None, epochs: int = 30, arch: str = "conv1d",
                 model=None) -> Path:
    """Train the tiny model (or ``model``, a Keras model taking (WINDOW, 6)) and write model.keras,
    contract.json and windows.npz into ``run_dir``."""
    import keras

    keras.utils.set_random_seed(7)
    run_dir.mkdir(parents=True, exist_ok=True)
    x_train, y_train = make_windows(240, seed=1)
    x_test, y_test = make_windows(90, seed=2)
    flat = x_train.reshape(-1, 6).astype(np.float64)
    mean, std = flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-3)
    model = model if model is not None else build_model(WINDOW, len(LABELS), arch)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(((x_train - mean) / std).astype(np.float32), y_train, epochs=epochs, batch_size=32, verbose=0)
    model.save(run_dir / "model.keras")
    labels = LABELS if n_labels_in_contract is None else [f"g{i}" for i in range(n_labels_in_contract)]
    contract = {
        "contract_version": 1, "rate_hz": RATE_HZ, "channels": CHANNELS, "units": {"accel": "g", "gyro": "dps"},
        "window": WINDOW, "hop": HOP, "labels": labels, "idle_label": "idle" if "idle" in labels else None,
        "normalization": {"mean": mean.tolist(), "std": std.tolist()}, "arch": arch, "score_threshold": 0.6,
    }
    gru = next((layer for layer in model.layers if type(layer).__name__ == "GRU"), None)
    if gru is not None:
        front = [layer.name for layer in model.layers if layer.name.startswith("front_conv")]
        contract["gru"] = {"units": int(gru.units), "front_end": front or None}
    (run_dir / "contract.json").write_text(json.dumps(contract, indent=2) + "\n")
    np.savez(run_dir / "windows.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return run_dir


def write_dataset(data_dir: Path, takes_per_label: int = 2, seconds: float = 2.0) -> Path:
    """A dataset directory of takes of the same three gestures, via capture.dataset."""
    from capture.dataset import TakeMeta, write_take

    n = int(seconds * RATE_HZ)
    t = np.arange(n) / RATE_HZ
    rng = np.random.default_rng(3)
    for label in LABELS:
        for k in range(takes_per_label):
            values = rng.normal(0.0, 0.05, size=(n, 6))
            values[:, 3:] *= 20.0
            values[:, 2] += 1.0
            if label == "flex":
                values[:, 0] += 0.8 * np.sin(2 * np.pi * 2.0 * t + k)
                values[:, 4] += 150.0 * np.cos(2 * np.pi * 2.0 * t + k)
            elif label == "wave":
                values[:, 1] += 0.6 * np.sin(2 * np.pi * 5.0 * t + k)
                values[:, 5] += 250.0 * np.sin(2 * np.pi * 5.0 * t + k)
            meta = TakeMeta(label=label, rate_hz=RATE_HZ, subject="p1", session="s1", source="synth")
            write_take(data_dir, meta, (t * 1e6).astype(np.int64), values)
    return data_dir
