"""``python -m capture``: record takes, import IMU_Capture CSV, list boards, regenerate the protocol header.

Data (JSON summaries, port lists) goes to stdout; progress and errors to stderr. Any
problem the user can fix ends with one ``error: ...`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from capture.dataset import DatasetError
from capture.errors import CaptureError

DEFAULT_WAIT_RECONNECT_S = 30.0


def _record_labels(a) -> list[str]:
    from capture.recorder import parse_labels

    return parse_labels(a.labels) if a.labels is not None else [a.label]


def _cmd_record(a) -> int:
    from capture.ports import choose_port, open_port, performs_label
    from capture.recorder import check_labels, combine_summaries, record

    labels = _record_labels(a)
    trigger = dict(trigger_g=a.trigger_g, trigger_dps=a.trigger_dps, pre_trigger_s=a.pre_trigger_s,
                   trigger_timeout_s=a.trigger_timeout, max_loss_pct=a.max_loss_pct)
    check_labels(labels, a.takes, a.seconds, a.trigger, **trigger, wait_reconnect_s=a.wait_reconnect)
    url = choose_port(a.port)
    reopen = performs_label(url)  # the simulated person acts out the label it was started with
    summaries, port = {}, None
    try:
        for n, label in enumerate(labels, 1):
            if port is None or reopen:
                if port is not None:
                    port.close()
                port = open_port(url, label=label, takes=a.takes, take_seconds=a.seconds)
            if len(labels) > 1:
                print(f"[record] label {n}/{len(labels)}: '{label}' ({a.takes} take(s))", file=sys.stderr)
            summaries[label] = record(port, a.out, label, a.takes, seconds=a.seconds, subject=a.subject,
                                      session=a.session, countdown_s=a.countdown, max_lost=a.max_lost,
                                      trigger=a.trigger, wait_reconnect_s=_wait_reconnect(a, port), **trigger)
    finally:
        if port is not None:
            port.close()
    print(json.dumps(summaries[labels[0]] if a.labels is None else combine_summaries(summaries)))
    return 0


def _wait_reconnect(a, port) -> float:
    wait_s = a.wait_reconnect
    if wait_s is None:
        return DEFAULT_WAIT_RECONNECT_S if port.can_reconnect else 0.0
    if wait_s > 0 and not port.can_reconnect:
        print("[record] note: --wait-reconnect does not apply to sim:// (the virtual board cannot come back)",
              file=sys.stderr)
        return 0.0
    return wait_s


def _cmd_import(a) -> int:
    from capture.arduino_import import import_file

    summary = import_file(a.file, a.out, a.label, subject=a.subject, session=a.session, rate_hz=a.rate_hz,
                          samples_per_take=a.samples_per_take)
    print(f"[import] {summary['takes']} take(s), {summary['samples']} samples -> {a.out}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


def _cmd_ports(a) -> int:
    from capture.ports import find_ports, format_ports

    ports = find_ports()
    if a.json:
        print(json.dumps([p.__dict__ for p in ports]))
        return 0
    if not ports:
        print("no USB serial devices found; plug the board in with a data cable (or use --port sim:// to record "
              "from the virtual board)", file=sys.stderr)
        return 0
    print(format_ports(ports))
    print("* = Nano 33 BLE running a sketch; pass its path to record with --port PATH", file=sys.stderr)
    return 0


def _cmd_header(a) -> int:
    from capture.protocol_header import HEADER_PATH, write_header

    path = write_header(a.path or HEADER_PATH)
    print(f"[capture] wrote {path}", file=sys.stderr)
    print(str(path))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m capture", description=__doc__.splitlines()[0].split(": ", 1)[1])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("record", help="record labelled takes from a board or the virtual board",
                       description="Record labelled takes into DATA_DIR/<label>/ (new takes never overwrite old ones). Each take's "
                                   "JSON holds its subject, session and integrity (samples lost, corrupt frames, "
                                   "device drops, timing jitter, flagged). Prints a JSON summary on stdout.",
                       epilog="examples: --port /dev/ttyACM0 | --port 'sim://?subject=p1&speed=20' | "
                              "--port 'sim://?replay=takes.csv' | calibration set for one person: "
                              "--labels punch,flex,wave,circle,idle --takes 3 --subject me")
    r.add_argument("--port", help="serial device (e.g. /dev/ttyACM0, COM5) or sim://... URL; "
                                  "default: the single Nano 33 BLE found")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("--label", help="the gesture being recorded (e.g. punch)")
    which.add_argument("--labels", metavar="L1,L2,...",
                       help="record several gestures in one go, --takes of each in turn (e.g. "
                            "punch,flex,wave,circle,idle: a short calibration set for 'python -m training adapt')")
    r.add_argument("--takes", type=int, default=1, help="number of takes to record (of each label) (default 1)")
    r.add_argument("--out", type=Path, required=True, help="dataset directory (DATA_DIR)")
    r.add_argument("--seconds", type=float, default=1.0, help="length of each take in seconds (default 1.0)")
    r.add_argument("--subject", default="unknown", help="who performs the gesture (default unknown)")
    r.add_argument("--session", default="s1", help="recording session name (default s1)")
    r.add_argument("--countdown", type=float, default=3.0, help="seconds of countdown before each take; 0 to skip (default 3)")
    r.add_argument("--max-lost", type=int, default=None, metavar="N", help="stop if more than N samples are lost in total")
    r.add_argument("--max-loss-pct", type=float, default=1.0, metavar="PCT",
                   help="flag a take that lost more than this %% of its samples; flagged takes stay out of "
                        "training unless asked for (default 1.0)")
    r.add_argument("--trigger", choices=("fixed", "motion"), default="fixed",
                   help="fixed: each take starts after the countdown; motion: stream while you hold still and "
                        "start the take when you move (not for still labels such as idle) (default fixed)")
    r.add_argument("--trigger-g", type=float, default=0.3, metavar="G",
                   help="motion: deviation of |accel| from its still level that starts a take, in g (default 0.3)")
    r.add_argument("--trigger-dps", type=float, default=60.0, metavar="DPS",
                   help="motion: gyroscope deviation from its still bias that starts a take, in deg/s (default 60)")
    r.add_argument("--pre-trigger-s", type=float, default=0.25, metavar="S",
                   help="motion: seconds kept from before the trigger; the take is --seconds long from there "
                        "(default 0.25)")
    r.add_argument("--trigger-timeout", type=float, default=10.0, metavar="S",
                   help="motion: give up with an error if nothing moves for this many seconds (default 10)")
    r.add_argument("--wait-reconnect", type=float, default=None, metavar="S",
                   help="if the board is unplugged mid-take, wait up to S seconds for it to come back and go on "
                        "(default 30 for serial ports; sim:// cannot come back)")
    r.set_defaults(func=_cmd_record)

    i = sub.add_parser("import-arduino", help="import the output of the official IMU_Capture sketch",
                       description="Import IMU_Capture CSV (aX,aY,aZ,gX,gY,gZ in g and deg/s, takes separated by "
                                   "blank lines) into DATA_DIR/<label>/. Unusable lines are reported on stderr with "
                                   "their line number. Prints a JSON summary on stdout.")
    i.add_argument("file", type=Path, metavar="FILE.csv", help="text copied from the Serial Monitor")
    i.add_argument("--label", required=True, help="the gesture in this file")
    i.add_argument("--out", type=Path, required=True, help="dataset directory (DATA_DIR)")
    i.add_argument("--subject", default="unknown", help="who performed it (default unknown)")
    i.add_argument("--session", default="s1", help="session name (default s1)")
    i.add_argument("--rate-hz", type=float, default=119.0, help="sample rate of the sketch (default 119, LSM9DS1)")
    i.add_argument("--samples-per-take", type=int, default=119,
                   help="rows per take when the file has a blank line after every row (default 119)")
    i.set_defaults(func=_cmd_import)

    pp = sub.add_parser("ports", help="list USB serial ports and which are Nano 33 BLE boards",
                        description="List USB serial ports by VID:PID; a Nano 33 BLE running a sketch is 2341:805A "
                                    "(2341:005A while in its bootloader).")
    pp.add_argument("--json", action="store_true", help="print the list as JSON")
    pp.set_defaults(func=_cmd_ports)

    g = sub.add_parser("gen-protocol-header", help="regenerate the firmware's protocol header from protocol_spec.py",
                       description="Write firmware/lib/nanogest_core/src/ng_protocol_defs.h from capture/protocol_spec.py.")
    g.add_argument("--path", type=Path, default=None, help="write here instead of the firmware tree")
    g.set_defaults(func=_cmd_header)
    _add_inference_commands(sub)
    return p


def _add_inference_commands(sub) -> None:
    """``replay``, ``monitor`` and ``verify-board``: the board-side tools (boardtools/replay.py,
    monitor.py, board_check.py; also ``python -m boardtools``), kept here under their first names.
    This entry point sits above every stage, so it alone in capture may import boardtools
    (tests/test_import_graph.py allows exactly this edge)."""
    from boardtools.board_check import add_verify_parser
    from boardtools.monitor import add_monitor_parser
    from boardtools.replay import add_replay_parser

    add_replay_parser(sub)
    add_monitor_parser(sub)
    add_verify_parser(sub)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CaptureError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; takes already written are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
