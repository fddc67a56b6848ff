"""``python -m capture show DATA_DIR [--label L]``: each label's takes overlaid, one PNG per label.

Six panels (aX..gZ against seconds since the take's start), every take a thin line, the
label's median take in black. The take least like the others (largest RMS distance from
the median over the common length, in units of the channels' spread) is drawn in red and
named in the title: a mislabeled or corrupted take shows at a glance. ``training check``
names these files in its report.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from capture.dataset import list_takes, read_take, safe_name
from capture.errors import CaptureError
from contract.pipeline import CHANNELS

SHOW_DIR = ".show"


def plot_path(data_dir: Path | str, label: str, out_dir: Path | str | None = None) -> Path:
    """Where ``show`` writes the label's PNG."""
    return Path(out_dir or Path(data_dir) / SHOW_DIR) / f"{safe_name(label)}.png"


def _odd_one(takes) -> tuple[int | None, float]:
    """Index of the take farthest from the label's median take, and its distance (in channel spreads)."""
    if len(takes) < 3:
        return None, 0.0
    n = min(len(t.values) for t in takes)
    stack = np.stack([np.asarray(t.values[:n], dtype=np.float64) for t in takes])
    median = np.median(stack, axis=0)
    spread = stack.reshape(-1, stack.shape[2]).std(axis=0) + 1e-9
    dist = np.sqrt((((stack - median) / spread) ** 2).mean(axis=(1, 2)))
    i = int(np.argmax(dist))
    return i, float(dist[i])


def show(data_dir: Path | str, out_dir: Path | str | None = None, label: str | None = None) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data_dir = Path(data_dir)
    by_label = defaultdict(list)
    for path in list_takes(data_dir):
        take = read_take(path)
        if label is None or take.meta.label == label:
            by_label[take.meta.label].append(take)
    if not by_label:
        raise CaptureError(f"{data_dir}: no takes" + (f" with label {label!r}" if label else "")
                           + " (expected DATA_DIR/<label>/<take>.csv)")
    files, odd = [], {}
    for name, takes in sorted(by_label.items()):
        fig, axes = plt.subplots(2, 3, figsize=(13, 6), sharex=True)
        worst, dist = _odd_one(takes)
        for k, take in enumerate(takes):
            t_s = (np.asarray(take.t_us) - take.t_us[0]) / 1e6
            red = k == worst
            for c, ax in enumerate(axes.flat):
                ax.plot(t_s, take.values[:, c], lw=1.6 if red else 0.6, alpha=1.0 if red else 0.35,
                        color="tab:red" if red else "tab:blue", zorder=3 if red else 1)
        n = min(len(t.values) for t in takes)
        if len(takes) > 1:
            median = np.median(np.stack([t.values[:n] for t in takes]), axis=0)
            t_med = np.arange(n) / float(takes[0].meta.rate_hz)
            for c, ax in enumerate(axes.flat):
                ax.plot(t_med, median[:, c], color="black", lw=1.2, zorder=2)
        for c, ax in enumerate(axes.flat):
            ax.set_title(f"{CHANNELS[c]} ({'g' if c < 3 else 'deg/s'})", fontsize=9)
            ax.grid(alpha=0.3)
        for ax in axes[1]:
            ax.set_xlabel("seconds since the take's start")
        title = f"{name}: {len(takes)} takes overlaid, median in black"
        if worst is not None:
            odd_take = takes[worst]
            title += f"; least like the others (red): {odd_take.csv_path.name} ({dist:.2f} spreads from the median)"
            odd[name] = {"take": str(odd_take.csv_path), "distance": round(dist, 3)}
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        path = plot_path(data_dir, name, out_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=80)
        plt.close(fig)
        files.append(str(path))
    return {"labels": sorted(by_label), "files": files, "least_like_the_others": odd}
