import numpy as np
import pytest

from capture.dataset import Take, TakeMeta


def make_take(label="wave", subject="p1", session="s1", rate_hz=119.0, n=119, name=None, values=None):
    """An in-memory take (no files) with a known signal."""
    t_us = np.round(np.arange(n) * 1e6 / rate_hz).astype(np.int64)
    if values is None:
        values = np.tile(np.arange(n, dtype=np.float32)[:, None], (1, 6))
    meta = TakeMeta(label=label, rate_hz=rate_hz, subject=subject, session=session, take=name or "")
    from pathlib import Path

    return Take(meta=meta, t_us=t_us, values=np.asarray(values, np.float32),
                csv_path=Path(f"/nowhere/{label}/{name or f'{subject}-{session}-{np.random.randint(1e9)}'}.csv"))


@pytest.fixture
def take_factory():
    return make_take
