"""Onset-triggered classification for bench_openset's ``--trigger``: the official tutorial's way.

The IMU_Capture sketch starts a take when the accelerometer's axes sum to TRIGGER_G in absolute
value, and its classifier sketch classifies the one window that starts there. Here a stream's
trigger is the first sample at or above the level; the window from it is classified, and the
trigger rearms one window later. A trigger is a detection when its top score reaches the
threshold. Every take of the recordings begins at such a trigger, so this is the window the
model was trained on, for the gestures and the other motions alike.
"""

from __future__ import annotations

import numpy as np

TRIGGER_G = (2.5, 2.0)  # the sketch's accelerationThreshold, and a lower one
THRESHOLDS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)


def triggers(samples: np.ndarray, level_g: float, window: int) -> np.ndarray:
    """Start samples of the windows the trigger classifies."""
    total = np.abs(samples[:, :3]).sum(axis=1)
    out, i = [], 0
    while i < len(total) - window:
        if total[i] >= level_g:
            out.append(i)
            i += window
        else:
            i += 1
    return np.asarray(out, dtype=np.int64)


def trigger_figures(model, contract, streams) -> dict:
    """{(trigger level, threshold): Figures} over ``streams``."""
    from boardtools.streams import Figures, match
    from contract.input import normalize

    window, labels = int(contract.window), list(contract.labels)
    out = {}
    for level in TRIGGER_G:
        for s in streams:
            starts = triggers(s.samples, level, window)
            if len(starts):
                x = np.stack([s.samples[i:i + window] for i in starts])
                p = model.predict(normalize(x, contract), verbose=0, batch_size=512)
            else:
                p = np.zeros((0, len(labels)), np.float32)
            for threshold in THRESHOLDS:
                keep = p.max(axis=1) >= threshold
                f, _ = match(s, starts[keep] + window - 1, [labels[k] for k in p.argmax(axis=1)[keep]], window)
                out.setdefault((level, threshold), Figures()).add(f)
    return out
