"""Deciding when a gesture starts, for motion-triggered takes.

The board streams while the person holds still; ``MotionTrigger`` learns the still
level (the magnitude of the accelerometer, which is about 1 g at rest, and the
gyroscope's resting bias) from the first ``settle_s`` seconds and keeps updating it
slowly while nothing moves. Motion is a deviation of ``|accel|`` from that level by more
than ``trigger_g``, or a gyroscope reading more than ``trigger_dps`` away from its
resting bias. ``PreTriggerRing`` keeps the most recent samples so a take can begin a
little before the trigger.
"""

from __future__ import annotations

import numpy as np

STILL_LEVEL_TAU_S = 1.0  # time constant of the running still level
DEFAULT_TRIGGER_G = 0.3
DEFAULT_TRIGGER_DPS = 60.0
DEFAULT_PRE_TRIGGER_S = 0.25
DEFAULT_SETTLE_S = 0.2


class MotionTrigger:
    """Feed samples in g and deg/s; ``feed`` returns the index of the first moving one."""

    def __init__(self, rate_hz: float, trigger_g: float = DEFAULT_TRIGGER_G,
                 trigger_dps: float = DEFAULT_TRIGGER_DPS, settle_s: float = DEFAULT_SETTLE_S):
        if rate_hz <= 0 or trigger_g <= 0 or trigger_dps <= 0:
            raise ValueError("rate_hz, trigger_g and trigger_dps must be positive")
        self.trigger_g = trigger_g
        self.trigger_dps = trigger_dps
        self.settle_samples = max(1, int(round(settle_s * rate_hz)))
        self.alpha = min(1.0, 1.0 / (STILL_LEVEL_TAU_S * rate_hz))
        self._settling: list[np.ndarray] = []
        self.accel_level_g: float | None = None
        self.gyro_bias_dps: np.ndarray | None = None
        self.samples_seen = 0
        self.last_deviation: tuple[float, float] = (0.0, 0.0)  # (g, dps) of the trigger sample

    def feed(self, values: np.ndarray) -> int | None:
        """Index into ``values`` ((n, 6), g and deg/s) of the first moving sample, or None."""
        values = np.asarray(values, dtype=np.float64)
        for i, row in enumerate(values):
            self.samples_seen += 1
            if self.accel_level_g is None:
                self._settling.append(row)
                if len(self._settling) >= self.settle_samples:
                    still = np.array(self._settling)
                    self.accel_level_g = float(np.median(np.linalg.norm(still[:, :3], axis=1)))
                    self.gyro_bias_dps = np.median(still[:, 3:], axis=0)
                    self._settling = []
                continue
            accel_dev = abs(float(np.linalg.norm(row[:3])) - self.accel_level_g)
            gyro_dev = float(np.linalg.norm(row[3:] - self.gyro_bias_dps))
            if accel_dev > self.trigger_g or gyro_dev > self.trigger_dps:
                self.last_deviation = (accel_dev, gyro_dev)
                return i
            self.accel_level_g += self.alpha * (float(np.linalg.norm(row[:3])) - self.accel_level_g)
            self.gyro_bias_dps += self.alpha * (row[3:] - self.gyro_bias_dps)
        return None


class PreTriggerRing:
    """The last ``size`` samples (sequence numbers, device times, counts)."""

    def __init__(self, size: int):
        self.size = max(0, int(size))
        self.seq = np.zeros(0, dtype=np.uint32)
        self.t_us = np.zeros(0, dtype=np.uint32)
        self.counts = np.zeros((0, 6), dtype=np.int16)

    def push(self, seq: np.ndarray, t_us: np.ndarray, counts: np.ndarray) -> None:
        if self.size == 0:
            return
        self.seq = np.concatenate((self.seq, seq))[-self.size:]
        self.t_us = np.concatenate((self.t_us, t_us))[-self.size:]
        self.counts = np.concatenate((self.counts, counts))[-self.size:]

    def __len__(self) -> int:
        return len(self.seq)
