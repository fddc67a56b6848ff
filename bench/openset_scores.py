"""Rejection by a score beside the classifier, for bench_openset's ``--scores``: a window whose score
says "unlike the training windows" is not confident, whatever its softmax.

Scores (higher: less like the taught gestures):

- ``maha-features``: Mahalanobis distance to the nearest class mean on the features the last dense
  layer reads (class means, one shared covariance, from the training windows);
- ``knn-features``: squared distance to the 5th nearest training window on those features;
- ``maha-stats``, ``knn-stats``: the same on each window's per-channel mean, std, min and max, the
  kind of features Edge Impulse's anomaly block clusters;
- ``max-logit``: minus the largest logit; ``energy``: minus the log-sum-exp of the logits.

Each score gates the windows above a level; the levels keep KEEP_PERCENTS of all the streams'
windows. They are chosen on the streams being judged, so a row is a point of the score's curve of
recall against false activations, not a setting a user could calibrate; compare rows at equal recall.
``maha-stats held out`` is the one a user could: its levels keep HELD_OUT_KEEPS of the gesture
windows of the training people held out in turn (``held_out_levels``), no window of the people judged.
"""

from __future__ import annotations

import copy

import numpy as np

SCORES = ("maha-features", "knn-features", "maha-stats", "knn-stats", "max-logit", "energy", "maha-board",
          "l1-board", "maha-board-pooled", "l1-board-pooled", "l1-extremes", "l1-extremes-mean", "l1-norms",
          "l1-board+norms")
KEEP_PERCENTS = (95, 90, 80, 70, 60, 50)
KNN_K = 5
HELD_OUT_KEEPS = (99, 95, 90, 80, 70, 60)
HELD_OUT = " held out"
HELD_OUT_SCORES = ("maha-stats", "maha-board", "l1-board", "maha-board-pooled", "l1-board-pooled", "l1-extremes",
                   "l1-extremes-mean", "l1-norms", "l1-board+norms")


def window_stats(raw: np.ndarray) -> np.ndarray:
    """(windows, 24): each channel's mean, std, min and max over the window."""
    return np.concatenate([raw.mean(1), raw.std(1), raw.min(1), raw.max(1)], axis=1)


def board_stats(x: np.ndarray) -> np.ndarray:
    """(windows, 24): the novelty gate's statistics of the normalized window (training.novelty)."""
    from training.novelty import gate_features

    return gate_features(x)


class Mahalanobis:
    """Distance to the nearest class mean, one covariance shared by the classes (standardized first);
    ``pooled``: one mean for all classes."""

    def __init__(self, f: np.ndarray, y: np.ndarray, pooled: bool = False):
        if pooled:
            y = np.zeros_like(y)
        self.mean, self.std = f.mean(0), f.std(0) + 1e-6
        z = (f - self.mean) / self.std
        self.centres = np.stack([z[y == c].mean(0) for c in np.unique(y)])
        cov = np.cov((z - self.centres[np.searchsorted(np.unique(y), y)]).T) + 1e-3 * np.eye(z.shape[1])
        self.precision = np.linalg.inv(cov)

    def __call__(self, f: np.ndarray) -> np.ndarray:
        z = (f - self.mean) / self.std
        return np.min([np.einsum("ij,jk,ik->i", z - c, self.precision, z - c) for c in self.centres], axis=0)


class L1Whitened(Mahalanobis):
    """The L1 norm of the whitened difference to the nearest class mean: the Mahalanobis' whitening,
    summed absolute values where that sums squares (relu pairs and a sum in the model)."""

    def __init__(self, f: np.ndarray, y: np.ndarray, pooled: bool = False):
        super().__init__(f, y, pooled)
        self.whiten = np.linalg.cholesky(self.precision)  # z' P z = |L' z|^2

    def __call__(self, f: np.ndarray) -> np.ndarray:
        z = (f - self.mean) / self.std
        return np.min([np.abs((z - c) @ self.whiten).sum(1) for c in self.centres], axis=0)


def norm_stats(raw: np.ndarray) -> np.ndarray:
    """(windows, 8): max, min, mean and std of the accelerometer's and the gyroscope's vector length,
    which no turn of the board changes."""
    out = []
    for sensor in (raw[..., :3], raw[..., 3:]):
        n = np.sqrt((np.asarray(sensor, dtype=np.float64) ** 2).sum(-1))
        out += [n.max(1), n.min(1), n.mean(1), n.std(1)]
    return np.stack(out, axis=1)


def stat_scores(x_normalized: np.ndarray, x_raw: np.ndarray) -> dict:
    return {"maha-stats": window_stats(x_raw), "maha-board": board_stats(x_normalized),
            "l1-board": board_stats(x_normalized), "maha-board-pooled": board_stats(x_normalized),
            "l1-board-pooled": board_stats(x_normalized), "l1-extremes": board_stats(x_normalized)[:, :12],
            "l1-extremes-mean": np.concatenate([board_stats(x_normalized)[:, :12], x_normalized.mean(1)], axis=1),
            "l1-norms": norm_stats(x_raw), "l1-board+norms": np.concatenate([board_stats(x_normalized),
                                                                              norm_stats(x_raw)], axis=1)}


def fit_stat(name: str, f: np.ndarray, y: np.ndarray):
    if name.startswith("l1-"):
        return L1Whitened(f, y, pooled=name.endswith("pooled") or name.startswith(("l1-extremes", "l1-norms",
                                                                                    "l1-board+")))
    return Mahalanobis(f, y, pooled=name == "maha-board-pooled")


class NearestNeighbours:
    """Squared distance to the KNN_K-th nearest training window (standardized)."""

    def __init__(self, f: np.ndarray, _y: np.ndarray):
        self.mean, self.std = f.mean(0), f.std(0) + 1e-6
        self.train = (f - self.mean) / self.std

    def __call__(self, f: np.ndarray) -> np.ndarray:
        z = (f - self.mean) / self.std
        out = [np.sort(((z[i:i + 1000, None, :] - self.train[None]) ** 2).sum(-1), axis=1)[:, KNN_K - 1]
               for i in range(0, len(z), 1000)]
        return np.concatenate(out) if out else np.zeros(0)


class Scorer:
    """Every score of SCORES for windows, fitted on the training windows of ``model``."""

    def __init__(self, keras, model, x_train_normalized: np.ndarray, x_train_raw: np.ndarray, y_train: np.ndarray):
        dense = model.get_layer("scores")  # the windowed families' last layer
        self.features = keras.Model(model.inputs, dense.input)
        self.weights, self.bias = dense.get_weights()
        f = self.features.predict(x_train_normalized, verbose=0, batch_size=512)
        stats = window_stats(x_train_raw)
        self.fitted = {"maha-features": Mahalanobis(f, y_train), "knn-features": NearestNeighbours(f, y_train),
                       "knn-stats": NearestNeighbours(stats, y_train)}
        self.fitted.update({n: fit_stat(n, v, y_train) for n, v in stat_scores(x_train_normalized, x_train_raw).items()})

    def __call__(self, x_normalized: np.ndarray, x_raw: np.ndarray) -> dict[str, np.ndarray]:
        f = self.features.predict(x_normalized, verbose=0, batch_size=512)
        logits = f @ self.weights + self.bias
        top = logits.max(1)
        stats = window_stats(x_raw)
        out = {"maha-features": self.fitted["maha-features"](f), "knn-features": self.fitted["knn-features"](f),
               "knn-stats": self.fitted["knn-stats"](stats),
               "max-logit": -top, "energy": -(top + np.log(np.exp(logits - top[:, None]).sum(1)))}
        out.update({n: self.fitted[n](v) for n, v in stat_scores(x_normalized, x_raw).items()})
        return out


def held_out_levels(train_takes, contract, windows_for, groups: list[list[str]], normalize) -> dict:
    """{(score, keep percent): level} for HELD_OUT_SCORES: each group of training people scored by the
    score fitted on the others' windows; the levels keep HELD_OUT_KEEPS % of those gesture windows, pooled."""
    distances = {n: [] for n in HELD_OUT_SCORES}
    for group in groups:
        x, y = windows_for([t for t in train_takes if t.meta.subject not in group], contract)
        held, _ = windows_for([t for t in train_takes if t.meta.subject in group], contract)
        fit_f, held_f = stat_scores(normalize(x, contract), x), stat_scores(normalize(held, contract), held)
        for n in HELD_OUT_SCORES:
            distances[n].append(fit_stat(n, fit_f[n], y)(held_f[n]))
    return {(n, keep): float(np.percentile(np.concatenate(distances[n]), keep))
            for n in HELD_OUT_SCORES for keep in HELD_OUT_KEEPS}


def gated_figures(runs, window_scores: list[dict], contract: dict, settings_list, figures_of,
                  held_out: dict[int, float] | None = None) -> dict:
    """{(score, keep percent, settings index): Figures} with the windows above each level made not
    confident (every int8 score at its lowest); ``held_out``: maha-stats levels from held_out_levels."""
    out = {}
    pooled = {name: np.concatenate([s[name] for s in window_scores]) for name in SCORES}
    plans = [(name, keep, np.percentile(pooled[name], keep)) for name in SCORES for keep in KEEP_PERCENTS]
    plans += [(n + HELD_OUT, keep, level) for (n, keep), level in (held_out or {}).items()]
    for name, keep, level in plans:
        score = name.removesuffix(HELD_OUT)
        gated = []
        for r, s in zip(runs, window_scores):
            g = copy.copy(r)
            g.scores_q = r.scores_q.copy()
            g.scores_q[s[score] > level] = -128
            gated.append(g)
        for k, settings in enumerate(settings_list):
            out[(name, keep, k)] = figures_of(settings, contract, gated)
    return out
