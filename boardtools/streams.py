"""Continuous streams as a wearer lives them: gestures, other motions and rest, one after another.

A dataset's takes are laid end to end per person in random order, each between stretches of rest
(the hand held still, with the sensor's noise and a slow tremor), joined by short fades so the joins
are not jolts. Takes of the model's labels are the gestures; takes of any other label (not idle)
are other motions, which the board must not report. A separate stretch of rest measures false
activations per minute of rest.

Every detection is matched to the item whose span (with the wrist's return to rest after it) its
window overlaps most (none: a false activation in rest). Per gesture the first detection with the right label is a hit, later ones
are repeats, other labels are wrong-label detections; every detection in an other motion is a false
activation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from capture.synth import rotation_matrix
from contract.pipeline import IDLE_LABEL

REST_SECONDS = 1.5  # of rest before each item
REST_JITTER_SECONDS = 0.5  # rest lasts REST_SECONDS + up to this much more
FADE_SECONDS = 0.15
REST_ACCEL_NOISE_G = 0.004
REST_GYRO_NOISE_DPS = 0.3
TREMOR_GYRO_DPS = 0.8  # physiological tremor, about 9 Hz


@dataclass
class Item:
    start: int  # first sample (model rate)
    end: int  # one past the last
    label: str
    kind: str  # "gesture" or "other"
    source: str = ""
    settled: int = 0  # one past the last sample of the wrist's return to rest after it (matching counts it in)


@dataclass
class Stream:
    samples: np.ndarray  # (n, 6) g and deg/s at rate_hz
    items: list[Item]
    rate_hz: float
    subject: str = ""
    rest_samples: int = 0  # samples of rest (not inside any item)


def _rest(n: int, gravity: np.ndarray, rng: np.random.Generator, rate_hz: float) -> np.ndarray:
    t = np.arange(n) / rate_hz
    out = np.empty((n, 6), np.float32)
    out[:, :3] = gravity + rng.normal(0.0, REST_ACCEL_NOISE_G, (n, 3))
    tremor = TREMOR_GYRO_DPS * np.sin(2 * np.pi * rng.uniform(8, 11) * t + rng.uniform(0, 2 * np.pi))
    out[:, 3:] = rng.normal(0.0, REST_GYRO_NOISE_DPS, (n, 3)) + tremor[:, None] * _unit(rng)[None, :]
    return out


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


TURN_SECONDS = 1.0  # the wrist returns to its resting pose at the start of a rest


def _turn(g_from: np.ndarray, g_to: np.ndarray, n: int, rate_hz: float) -> np.ndarray:
    """(n, 6): gravity turning smoothly from ``g_from`` to ``g_to`` over the first TURN_SECONDS and
    held, with the gyroscope reading that turn (a pose change always shows on both)."""
    out = np.zeros((n, 6), np.float32)
    a, b = np.asarray(g_from, np.float64), np.asarray(g_to, np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if n == 0 or na < 1e-6 or nb < 1e-6:
        out[:, :3] = b if nb >= 1e-6 else a
        return out
    ua, ub = a / na, b / nb
    axis = np.cross(ua, ub)
    angle = float(np.arctan2(np.linalg.norm(axis), np.dot(ua, ub)))
    axis = axis / max(np.linalg.norm(axis), 1e-12)
    m = min(n, max(2, int(round(TURN_SECONDS * rate_hz))))
    u = np.arange(m) / (m - 1)
    frac = u * u * (3 - 2 * u)  # smoothstep: starts and ends at rest
    for i in range(m):
        r = rotation_matrix(axis * angle * frac[i])
        out[i, :3] = (r @ ua) * (na + (nb - na) * frac[i])
    out[m:, :3] = b
    rate = np.gradient(frac) * angle * rate_hz  # rad/s
    out[:m, 3:] = -np.degrees(rate)[:, None] * axis[None, :]  # the board's frame turns against gravity
    return out


def _gravity_at(samples: np.ndarray, head: bool) -> np.ndarray:
    part = samples[:5] if head else samples[-5:]
    return part[:, :3].mean(axis=0)


def _fade(rest: np.ndarray, edge: np.ndarray, n_fade: int, into: bool) -> None:
    """Blend the rest's ends toward a take's edge sample so the join is smooth (in place)."""
    n_fade = min(n_fade, len(rest))
    if n_fade <= 0:
        return
    w = np.linspace(0.0, 1.0, n_fade, dtype=np.float32)[:, None]
    if into:  # the rest's last samples lead into the take
        rest[-n_fade:] = (1 - w) * rest[-n_fade:] + w * edge
    else:  # the rest's first samples lead out of the previous take
        rest[:n_fade] = w * rest[:n_fade] + (1 - w) * edge


def build_stream(pieces: list[tuple[np.ndarray, str, str, str]], rate_hz: float, rng: np.random.Generator,
                 subject: str = "", rest_s: float = REST_SECONDS) -> Stream:
    """One stream of ``pieces`` (samples at rate_hz, label, kind, source) in the order given, each
    after rest, and rest after the last."""
    parts, items = [], []
    pos, rest_total, prev = 0, 0, None
    n_fade = max(1, int(round(FADE_SECONDS * rate_hz)))
    for samples, label, kind, source in pieces + [(None, "", "", "")]:
        n_rest = int(round((rest_s + rng.uniform(0, REST_JITTER_SECONDS)) * rate_hz))
        gravity_from = _gravity_at(prev, head=False) if prev is not None else None
        gravity_to = _gravity_at(samples, head=True) if samples is not None else gravity_from
        if gravity_from is None:
            gravity_from = gravity_to
        rest = _rest(n_rest, 0.0, rng, rate_hz)
        rest += _turn(gravity_from, gravity_to, n_rest, rate_hz)
        if prev is not None:
            _fade(rest, prev[-1], n_fade, into=False)
        if samples is not None:
            _fade(rest, samples[0], n_fade, into=True)
        parts.append(rest)
        if items:
            items[-1].settled = pos + min(n_rest, int(round(TURN_SECONDS * rate_hz)))
        pos += n_rest
        rest_total += n_rest
        if samples is None:
            break
        parts.append(samples.astype(np.float32))
        items.append(Item(pos, pos + len(samples), label, kind, source))
        pos += len(samples)
        prev = samples
    return Stream(np.concatenate(parts), items, rate_hz, subject, rest_total)


def rest_stream(seconds: float, rate_hz: float, rng: np.random.Generator, gravity=(0.0, 0.0, 1.0)) -> Stream:
    """Only rest: the hand still for ``seconds``, turning to a new pose slowly (over 3 s) every 30 s."""
    n = int(round(seconds * rate_hz))
    g = np.empty((n, 3))
    pose = np.asarray(gravity, dtype=np.float64)
    seg, turn = int(30 * rate_hz), int(3 * rate_hz)
    for s in range(0, n, seg):
        nxt = pose + rng.normal(0, 0.35, 3)
        nxt /= np.linalg.norm(nxt)
        w = np.clip(np.arange(min(seg, n - s)) / turn, 0, 1)[:, None]
        g[s:s + seg] = (1 - w) * pose + w * nxt
        pose = nxt
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    out = _rest(n, 0.0, rng, rate_hz)
    out[:, :3] += g
    # the slow turn shows on the gyroscope: the angle between consecutive gravity directions
    turn_rate = np.degrees(np.arccos(np.clip((g[1:] * g[:-1]).sum(axis=1), -1, 1))) * rate_hz
    out[1:, 3] += turn_rate
    return Stream(out, [], rate_hz, "rest", n)


def person_streams(takes, labels: list[str], rate_hz: float, rng: np.random.Generator, resample,
                   idle_label: str = IDLE_LABEL, max_items: int | None = None) -> list[Stream]:
    """One stream per person of ``takes`` (capture.dataset.Take): takes of ``labels`` are gestures,
    of other labels (not ``idle_label``) other motions, in random order. ``resample(take, rate_hz)``
    gives a take's samples at the model's rate. ``max_items`` splits a person's items over several streams."""
    by_subject: dict[str, list] = {}
    for take in takes:
        if take.meta.label == idle_label:  # idle is rest, which the stream makes itself
            continue
        by_subject.setdefault(take.meta.subject, []).append(take)
    streams = []
    for subject in sorted(by_subject):
        mine = by_subject[subject]
        order = rng.permutation(len(mine))
        pieces = [(resample(mine[i], rate_hz), mine[i].meta.label,
                   "gesture" if mine[i].meta.label in labels else "other", str(mine[i].csv_path)) for i in order]
        step = max_items or len(pieces)
        for k in range(0, len(pieces), step):
            streams.append(build_stream(pieces[k:k + step], rate_hz, rng, subject))
    return streams


def window_ends(n_samples: int, window: int, hop: int) -> np.ndarray:
    """The last sample (0-based) of each window the board completes on a stream of ``n_samples``."""
    if n_samples < window:
        return np.zeros(0, np.int64)
    return np.arange(window - 1, n_samples, hop, dtype=np.int64)


@dataclass
class Figures:
    gestures: int = 0
    hits: int = 0
    wrong: int = 0
    repeats: int = 0
    others: int = 0
    false_activations: int = 0  # in other motions
    rest_minutes: float = 0.0
    rest_false_activations: int = 0
    by_other_label: Counter = field(default_factory=Counter)  # false activations per other label
    others_by_label: Counter = field(default_factory=Counter)

    def add(self, other: "Figures") -> None:
        for name in ("gestures", "hits", "wrong", "repeats", "others", "false_activations", "rest_minutes",
                     "rest_false_activations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.by_other_label.update(other.by_other_label)
        self.others_by_label.update(other.others_by_label)

    def summary(self) -> dict:
        per = lambda a, b: (a / b) if b else None  # noqa: E731
        return {
            "gestures": self.gestures, "recall": per(self.hits, self.gestures),
            "wrong_label_per_gesture": per(self.wrong, self.gestures),
            "repeats_per_gesture": per(self.repeats, self.gestures),
            "wrong_or_repeat_per_gesture": per(self.wrong + self.repeats, self.gestures),
            "other_motions": self.others, "false_activations_per_other": per(self.false_activations, self.others),
            "rest_minutes": round(self.rest_minutes, 2),
            "false_activations_in_rest": self.rest_false_activations,
            "false_activations_per_rest_minute": per(self.rest_false_activations, self.rest_minutes),
            "false_activations_per_other_label": {k: round(self.by_other_label[k] / n, 3)
                                                  for k, n in sorted(self.others_by_label.items())},
        }


def match(stream: Stream, detected_end: np.ndarray, detected_label: list[str], window: int) -> tuple[Figures, list[str]]:
    """The figures of one stream's detections (window end samples and labels), and each detection's
    verdict ("hit", "repeat", "wrong", "false activation", "rest")."""
    f = Figures(rest_minutes=stream.rest_samples / stream.rate_hz / 60.0)
    starts = np.array([it.start for it in stream.items], dtype=np.int64)
    ends = np.array([max(it.end, it.settled) for it in stream.items], dtype=np.int64)
    hit = np.zeros(len(stream.items), bool)
    verdicts = []
    for end, label in zip(np.asarray(detected_end, dtype=np.int64), detected_label):
        lo, hi = end - window + 1, end + 1
        overlap = np.minimum(ends, hi) - np.maximum(starts, lo) if len(starts) else np.zeros(0)
        if not len(overlap) or overlap.max() <= 0:
            f.rest_false_activations += 1
            verdicts.append("rest")
            continue
        i = int(np.argmax(overlap))
        item = stream.items[i]
        if item.kind == "other":
            f.false_activations += 1
            f.by_other_label[item.label] += 1
            verdicts.append("false activation")
        elif label != item.label:
            f.wrong += 1
            verdicts.append("wrong")
        elif hit[i]:
            f.repeats += 1
            verdicts.append("repeat")
        else:
            hit[i] = True
            f.hits += 1
            verdicts.append("hit")
    for item in stream.items:
        if item.kind == "gesture":
            f.gestures += 1
        else:
            f.others += 1
            f.others_by_label[item.label] += 1
    return f, verdicts
