"""Guided recording of labelled takes from a board (or the virtual board) into a dataset.

For each take: a prompt and countdown on stderr, then either a fixed-length take
(``start``, read ``round(rate_hz * seconds)`` samples, ``stop``) or a motion-triggered one
(stream while the person holds still, wait for motion, keep the ``pre_trigger_s``
seconds before it, and record ``seconds`` from there). Each take is written with
``capture.dataset.write_take`` in g and deg/s, with its integrity in the metadata:
samples lost (sequence gaps), frames rejected by the CRC, samples the board itself
dropped (its STATUS counter), timing jitter from the device timestamps, and
``flagged`` when more than ``max_loss_pct`` of its samples were lost.

If the port disappears or the board goes silent mid-take, what arrived is written with
``complete=false`` and the user is told. A real serial port is then watched for up to
``wait_reconnect_s`` seconds; when the board comes back it is reopened by path, its
device info is read again and the interrupted take is recorded again. Otherwise (or for
``sim://``, whose virtual board cannot come back) recording stops with an error.
"""

from __future__ import annotations

import time

from capture.dataset import TakeMeta, write_take
from capture.errors import CaptureError, PortGone, ReadTimeout
from capture.motion import DEFAULT_PRE_TRIGGER_S, DEFAULT_TRIGGER_DPS, DEFAULT_TRIGGER_G, MotionTrigger, PreTriggerRing
from capture.wire.ports import Port
from capture.wire.protocol import SampleTracker
from capture.wire.session import DeviceInfo, Session, TakeBuffer, log

PROGRESS_EVERY_S = 0.5
MAX_RECONNECTS = 20
DEFAULT_TRIGGER_TIMEOUT_S = 10.0
DEFAULT_MAX_LOSS_PCT = 1.0
STILL_LABELS = ("idle", "still", "rest")

__all__ = ["record", "Session", "DeviceInfo", "TakeBuffer"]


class NoMotion(CaptureError):
    """--trigger motion waited for motion that never came."""


class _Progress:
    def __init__(self) -> None:
        self.last = time.monotonic()

    def tick(self, buf: TakeBuffer) -> None:
        if time.monotonic() - self.last >= PROGRESS_EVERY_S:
            log(f"[record]   {buf.received}/{buf.wanted} samples")
            self.last = time.monotonic()


def _fill(session: Session, buf: TakeBuffer, chunks, progress: _Progress) -> None:
    """Move samples from ``chunks`` into ``buf`` until it is full, then stop the stream."""
    try:
        for chunk in chunks:
            if chunk.other_seq is not None:
                if buf.received:
                    buf.tracker.other_frame(chunk.other_seq)
                continue
            buf.add(chunk.seq, chunk.t_us, chunk.counts)
            progress.tick(buf)
            if buf.full:
                break
    except ReadTimeout as e:
        raise ReadTimeout(f"{e} (got {buf.received} of {buf.wanted})") from None
    session.stop_stream()


def record_fixed_take(session: Session, buf: TakeBuffer) -> None:
    """``start``, fill ``buf``, ``stop``; raises PortGone / ReadTimeout with ``buf`` partly filled."""
    _fill(session, buf, session.stream(), _Progress())


def record_motion_take(session: Session, buf: TakeBuffer, trigger: MotionTrigger, pre_trigger_samples: int,
                       timeout_s: float) -> dict:
    """Stream until ``trigger`` fires, then fill ``buf`` from ``pre_trigger_samples`` before it.

    Raises ``NoMotion`` after ``timeout_s`` of device time without motion."""
    info = session.info
    ring = PreTriggerRing(pre_trigger_samples)
    timeout_samples = int(round(timeout_s * info.rate_hz))
    chunks = session.stream()
    for chunk in chunks:
        if chunk.other_seq is not None:
            continue
        at = trigger.feed(chunk.counts * info.scale)
        if at is None:
            ring.push(chunk.seq, chunk.t_us, chunk.counts)
            if trigger.samples_seen >= timeout_samples:
                session.stop_stream()
                raise NoMotion(f"no motion within {timeout_s:g} s")
            continue
        ring.push(chunk.seq[:at], chunk.t_us[:at], chunk.counts[:at])
        pre = len(ring)
        buf.add(ring.seq, ring.t_us, ring.counts)
        buf.add(chunk.seq[at:], chunk.t_us[at:], chunk.counts[at:])
        dev_g, dev_dps = trigger.last_deviation
        log(f"[record]   motion ({dev_g:.2f} g / {dev_dps:.0f} dps from still): recording")
        break
    else:  # pragma: no cover - stream() only ends by raising
        raise ReadTimeout("the stream ended")
    if not buf.full:
        _fill(session, buf, chunks, _Progress())
    else:
        session.stop_stream()
    return {"mode": "motion", "trigger_g": trigger.trigger_g, "trigger_dps": trigger.trigger_dps,
            "pre_trigger_samples": pre, "waited_s": round((trigger.samples_seen - 1) / info.rate_hz, 3)}


def record(port: Port, data_dir, label: str, takes: int, seconds: float = 1.0, subject: str = "unknown",
           session: str = "s1", countdown_s: float = 3.0, max_lost: int | None = None, *,
           trigger: str = "fixed", trigger_g: float = DEFAULT_TRIGGER_G, trigger_dps: float = DEFAULT_TRIGGER_DPS,
           pre_trigger_s: float = DEFAULT_PRE_TRIGGER_S, trigger_timeout_s: float = DEFAULT_TRIGGER_TIMEOUT_S,
           max_loss_pct: float = DEFAULT_MAX_LOSS_PCT, wait_reconnect_s: float = 0.0) -> dict:
    """Record ``takes`` takes of ``label``; return the summary (see ``python -m capture record``)."""
    _check_options(label, takes, seconds, trigger, trigger_g, trigger_dps, pre_trigger_s, trigger_timeout_s,
                   max_loss_pct, wait_reconnect_s)
    s = Session(port)
    info = s.hello()
    how = (f"motion-triggered ({trigger_g:g} g or {trigger_dps:g} dps, {pre_trigger_s:g} s before)"
           if trigger == "motion" else "fixed-length")
    log(f"[record] {info.describe()} on {port.name}; {takes} {how} take(s) of '{label}', "
        f"{seconds:g} s each, subject '{subject}', session '{session}'")
    summary = {"takes": 0, "samples": 0, "samples_lost": 0, "frames_corrupt": 0, "out": str(data_dir),
               "samples_dropped_by_device": 0, "takes_flagged": 0, "takes_incomplete": 0, "reconnects": 0,
               "loss_pct": 0.0, "jitter_us_std": 0.0, "jitter_us_max": 0.0}
    dropped_before = s.samples_dropped_by_device()
    i = 1
    while i <= takes:
        wanted = int(round(info.rate_hz * seconds))
        _prompt(label, i, takes, countdown_s, trigger == "motion")
        buf = TakeBuffer(wanted, SampleTracker(info.rate_hz))
        rejected_before = s.decoder.frames_rejected
        failure, trigger_meta = None, None
        try:
            if trigger == "motion":
                detector = MotionTrigger(info.rate_hz, trigger_g, trigger_dps)
                trigger_meta = record_motion_take(s, buf, detector, int(round(pre_trigger_s * info.rate_hz)),
                                                  trigger_timeout_s)
            else:
                record_fixed_take(s, buf)
        except NoMotion as e:
            raise CaptureError(
                f"take {i} of {takes} ('{label}'): {e} (|accel| stayed within {trigger_g:g} g of its still level and "
                f"the gyroscope within {trigger_dps:g} dps); still labels such as idle need fixed-length takes: "
                "drop --trigger motion (or lower --trigger-g / raise --trigger-timeout)") from None
        except (PortGone, ReadTimeout) as e:
            failure = e
        except KeyboardInterrupt:
            failure = "interrupted (Ctrl-C)"
        dropped_now = s.samples_dropped_by_device() if failure is None else None
        dropped = (dropped_now - dropped_before) if None not in (dropped_now, dropped_before) else 0
        dropped_before = dropped_now
        meta = _take_meta(label, subject, session, info, port, buf, s.decoder.frames_rejected - rejected_before,
                          max(0, dropped), failure, trigger_meta, max_loss_pct)
        path = None
        if buf.received or failure is None:
            t_us, counts = buf.arrays()
            path = write_take(data_dir, meta, t_us, counts * info.scale)
            _add_to_summary(summary, meta)
        if failure is None:
            flag = f"; FLAGGED: {meta.flagged}" if meta.flagged else ""
            log(f"[record] take {i}/{takes} '{label}': {buf.received} samples, {meta.samples_lost} lost, "
                f"{meta.frames_corrupt} corrupt frames, jitter {meta.extra['timing'].get('jitter_us_std', 0):.0f} us "
                f"-> {path}{flag}")
            if max_lost is not None and summary["samples_lost"] > max_lost:
                raise CaptureError(f"{summary['samples_lost']} samples lost so far, more than --max-lost {max_lost}; "
                                   "use a shorter/better USB cable or close other programs reading the port")
            i += 1
            continue
        saved = (f"wrote the {buf.received} samples received to {path} marked complete=false" if path
                 else "nothing was saved")
        stopped = f"take {i} of {takes} ('{label}') stopped early: {failure}; {saved}"
        s, info = _come_back(port, info, failure, stopped, summary, wait_reconnect_s)
        dropped_before = s.samples_dropped_by_device()
        log(f"[record] the board is back: {info.describe()}; recording take {i} of {takes} again")
    log(f"[record] done: {summary['takes']} take(s) written ({summary['takes_flagged']} flagged, "
        f"{summary['takes_incomplete']} incomplete), {summary['samples_lost']} samples lost "
        f"({summary['loss_pct']:.3f}%), {summary['frames_corrupt']} corrupt frames, "
        f"jitter max {summary['jitter_us_max']:.0f} us")
    return summary


def _check_options(label, takes, seconds, trigger, trigger_g, trigger_dps, pre_trigger_s, trigger_timeout_s,
                   max_loss_pct, wait_reconnect_s) -> None:
    if takes < 1 or seconds <= 0:
        raise CaptureError("--takes must be at least 1 and --seconds positive")
    if trigger not in ("fixed", "motion"):
        raise CaptureError(f"--trigger must be 'fixed' or 'motion', not {trigger!r}")
    if max_loss_pct < 0 or wait_reconnect_s < 0:
        raise CaptureError("--max-loss-pct and --wait-reconnect cannot be negative")
    if trigger != "motion":
        return
    if label.lower() in STILL_LABELS:
        raise CaptureError(f"'{label}' is a still label: nothing moves to trigger a take; record it with "
                           "fixed-length takes (drop --trigger motion)")
    if trigger_g <= 0 or trigger_dps <= 0 or trigger_timeout_s <= 0:
        raise CaptureError("--trigger-g, --trigger-dps and --trigger-timeout must be positive")
    if not 0 <= pre_trigger_s < seconds:
        raise CaptureError(f"--pre-trigger-s must be at least 0 and shorter than the take ({seconds:g} s)")


def _take_meta(label, subject, session, info: DeviceInfo, port: Port, buf: TakeBuffer, frames_corrupt: int,
               dropped: int, failure, trigger_meta, max_loss_pct: float) -> TakeMeta:
    lost = buf.tracker.samples_lost
    expected = buf.received + lost
    loss_pct = 100.0 * lost / expected if expected else 0.0
    extra = {"timing": buf.tracker.timing(), "port": port.name, "firmware": info.firmware,
             "loss_pct": round(loss_pct, 4), "max_loss_pct": max_loss_pct,
             "accel_g_per_count": info.accel_g_per_count, "gyro_dps_per_count": info.gyro_dps_per_count}
    if trigger_meta:
        extra["trigger"] = trigger_meta
    if failure is not None:
        extra["stopped_early"] = str(failure)
    flagged = ""
    if loss_pct > max_loss_pct:
        flagged = (f"{lost} of {expected} samples lost ({loss_pct:.2f}%, more than --max-loss-pct "
                   f"{max_loss_pct:g}%)")
    return TakeMeta(label=label, rate_hz=info.rate_hz, subject=subject, session=session, board=info.board,
                    imu=info.imu, source="capture", samples_lost=lost, frames_corrupt=frames_corrupt,
                    samples_dropped_by_device=dropped, complete=failure is None, extra=extra, flagged=flagged)


def _add_to_summary(summary: dict, meta: TakeMeta) -> None:
    summary["takes"] += 1
    summary["samples"] += meta.samples
    summary["samples_lost"] += meta.samples_lost
    summary["frames_corrupt"] += meta.frames_corrupt
    summary["samples_dropped_by_device"] += meta.samples_dropped_by_device
    summary["takes_flagged"] += bool(meta.flagged)
    summary["takes_incomplete"] += not meta.complete
    expected = summary["samples"] + summary["samples_lost"]
    summary["loss_pct"] = round(100.0 * summary["samples_lost"] / expected, 4) if expected else 0.0
    timing = meta.extra.get("timing", {})
    for key in ("jitter_us_std", "jitter_us_max"):
        summary[key] = round(max(summary[key], float(timing.get(key, 0.0))), 3)


def _come_back(port: Port, info: DeviceInfo, failure, stopped: str, summary: dict,
               wait_reconnect_s: float) -> tuple[Session, DeviceInfo]:
    """After a take stopped early: the board reopened and its device info, or a CaptureError when it cannot
    come back (a sim:// port, Ctrl-C, no --wait-reconnect, too many reconnects, or it stays away)."""
    if isinstance(failure, str) or not port.can_reconnect or wait_reconnect_s <= 0 \
            or summary["reconnects"] >= MAX_RECONNECTS:
        raise CaptureError(f"{stopped}. Check the cable/board and run record again for the remaining takes.")
    log(f"[record] {stopped}")
    log(f"[record] waiting up to {wait_reconnect_s:g} s for the board to come back on {port.path} "
        "(plug it in again; Ctrl-C stops)")
    try:
        s, new_info = _reconnect(port, wait_reconnect_s)
    except PortGone as e:
        raise CaptureError(f"{stopped}. {e}; check the cable/board and run record again for the remaining "
                           "takes (takes already written are kept)") from None
    if (new_info.rate_hz, new_info.imu) != (info.rate_hz, info.imu):
        log(f"[record] note: the board now reports {new_info.imu} at {new_info.rate_hz:g} Hz "
            f"(was {info.imu} at {info.rate_hz:g} Hz)")
    summary["reconnects"] += 1
    return s, new_info


def _reconnect(port: Port, wait_s: float) -> tuple[Session, DeviceInfo]:
    """Reopen ``port`` by path and say hello, retrying until ``wait_s`` runs out."""
    deadline = time.monotonic() + wait_s
    port.reconnect(wait_s)
    while True:
        s = Session(port)
        try:
            return s, s.hello()
        except (PortGone, ReadTimeout) as e:
            if time.monotonic() >= deadline:
                raise PortGone(f"{port.path} came back but the board did not answer within {wait_s:g} s ({e})") from None
        time.sleep(0.3)
        try:
            port.reconnect(max(0.0, deadline - time.monotonic()))
        except PortGone:
            raise PortGone(f"{port.path} came back but went away again within {wait_s:g} s") from None


def _prompt(label: str, i: int, takes: int, countdown_s: float, motion: bool) -> None:
    when = "; hold still, recording starts when you move" if motion else ""
    if countdown_s <= 0:
        log(f"[record] take {i}/{takes}: perform '{label}' now{when}")
        return
    log(f"[record] take {i}/{takes}: get ready to perform '{label}'{when}")
    left = countdown_s
    while left > 0:
        log(f"[record]   {left:g}...")
        time.sleep(min(1.0, left))
        left -= 1.0
    log("[record]   go!")


SUMMED_KEYS = ("takes", "samples", "samples_lost", "frames_corrupt", "samples_dropped_by_device", "takes_flagged",
               "takes_incomplete", "reconnects")


def parse_labels(text: str) -> list[str]:
    """``'punch, flex,idle'`` -> ['punch', 'flex', 'idle']; empty or repeated names are refused."""
    labels = [w.strip() for w in text.split(",")]
    if not all(labels):
        raise CaptureError(f"--labels {text!r} has an empty name; give names separated by commas, e.g. punch,flex,idle")
    repeated = sorted({w for w in labels if labels.count(w) > 1})
    if repeated:
        raise CaptureError(f"--labels names {', '.join(repeated)} more than once; give each label once")
    return labels


def check_labels(labels: list[str], takes: int, seconds: float, trigger: str, **options) -> None:
    """Refuse bad options for any of ``labels`` before the first take is recorded."""
    defaults = {"trigger_g": DEFAULT_TRIGGER_G, "trigger_dps": DEFAULT_TRIGGER_DPS,
                "pre_trigger_s": DEFAULT_PRE_TRIGGER_S, "trigger_timeout_s": DEFAULT_TRIGGER_TIMEOUT_S,
                "max_loss_pct": DEFAULT_MAX_LOSS_PCT, "wait_reconnect_s": 0.0}
    o = {**defaults, **{k: v for k, v in options.items() if k in defaults and v is not None}}
    for label in labels:
        _check_options(label, takes, seconds, trigger, o["trigger_g"], o["trigger_dps"], o["pre_trigger_s"],
                       o["trigger_timeout_s"], o["max_loss_pct"], o["wait_reconnect_s"])


def combine_summaries(per_label: dict[str, dict]) -> dict:
    """One summary for several labels: totals, worst jitter, and each label's own summary."""
    parts = list(per_label.values())
    total = {k: sum(p[k] for p in parts) for k in SUMMED_KEYS}
    expected = total["samples"] + total["samples_lost"]
    total["loss_pct"] = round(100.0 * total["samples_lost"] / expected, 4) if expected else 0.0
    for key in ("jitter_us_std", "jitter_us_max"):
        total[key] = max(p[key] for p in parts)
    total["out"] = parts[0]["out"]
    total["labels"] = {label: p["takes"] for label, p in per_label.items()}
    total["per_label"] = per_label
    return total
