"""A board strapped on another way: the same motion seen through a rotated sensor frame.

Used by the adaptation bench and tests to make a "very different person" from built-in
data: every take of a dataset is rotated by one fixed rotation (accelerometer and
gyroscope alike, since both are vectors in the board's frame), e.g. a quarter turn about
the forearm (x) axis when the board sits on the side of the wrist instead of on top.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from capture.dataset import list_takes, read_take, write_take
from capture.synth import ACCEL_RANGE_G, GYRO_RANGE_DPS, rotation_matrix

QUARTER_TURN_ABOUT_X = (np.pi / 2, 0.0, 0.0)  # board on the side of the wrist


def remount(values: np.ndarray, rotvec=QUARTER_TURN_ABOUT_X) -> np.ndarray:
    """``(n, 6)`` samples (g, deg/s) as a board rotated by ``rotvec`` (radians) would read them."""
    rot = rotation_matrix(rotvec)
    values = np.asarray(values, dtype=np.float64)
    accel = np.clip(values[:, :3] @ rot.T, -ACCEL_RANGE_G, ACCEL_RANGE_G)
    gyro = np.clip(values[:, 3:6] @ rot.T, -GYRO_RANGE_DPS, GYRO_RANGE_DPS)
    return np.concatenate([accel, gyro], axis=1)


def remount_dataset(data_dir, out_dir, rotvec=QUARTER_TURN_ABOUT_X) -> list[Path]:
    """Write every take of ``data_dir`` remounted into ``out_dir`` (same labels, subjects and order)."""
    paths = []
    for path in list_takes(data_dir):
        take = read_take(path)
        meta = replace(take.meta, extra=dict(take.meta.extra, remounted_rotvec=[float(v) for v in rotvec]))
        paths.append(write_take(out_dir, meta, take.t_us, remount(take.values, rotvec)))
    return paths
