"""``python -m capture``: record takes, import recordings, draw and export datasets, list boards, regenerate the protocol header.

Data (JSON summaries, port lists) goes to stdout; progress and errors to stderr. Any
problem the user can fix ends with one ``error: ...`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from capture.dataset import DatasetError
from capture.errors import CaptureError
from capture.importing.columns import IMU_CAPTURE_SAMPLES
from capture.other_motions import lacks_other_motions, missing_note
from contract.pipeline import UNKNOWN_LABEL

DEFAULT_WAIT_RECONNECT_S = 30.0
# Each command imports its own modules when it runs, so pandas (import), matplotlib (show) and pyserial
# (record, ports) stay off the path of `nanogest --help` and of every other stage's commands.


def _record_labels(a) -> list[str]:
    from capture.recorder import parse_labels

    return parse_labels(a.labels) if a.labels is not None else [a.label]


def _cmd_record(a) -> int:
    from capture.recorder import check_labels, combine_summaries, record
    from capture.wire.ports import choose_port, open_port, performs_label

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
    _note_other_motions("record", a.out)
    return 0


def _note_other_motions(command: str, data_dir: Path) -> None:
    """At the end of a recording or import: one line when DATA_DIR has no other motions yet."""
    if lacks_other_motions(data_dir):
        print(f"[{command}] note: {missing_note(data_dir)}", file=sys.stderr)


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
    from capture.importing.arduino_import import import_file

    summary = import_file(a.file, a.out, a.label, subject=a.subject, session=a.session, rate_hz=a.rate_hz,
                          samples_per_take=a.samples_per_take)
    print(f"[import] {summary['takes']} take(s), {summary['samples']} samples -> {a.out}", file=sys.stderr)
    print(json.dumps(summary))
    _note_other_motions("import", a.out)
    return 0


def _cmd_import_any(a) -> int:
    from capture.importing.columns import parse_columns_option
    from capture.importing.importer import ImportOptions, import_paths

    opts = ImportOptions(label=a.label, subject=a.subject, session=a.session, layout=a.layout, board=a.board,
                         rate_hz=a.rate_hz, take_samples=a.take_samples, samples_per_take=a.samples_per_take,
                         split_gap_s=a.split_gap_s, accel_units=a.accel_units, gyro_units=a.gyro_units,
                         time_unit=a.time_unit, axes=a.axes, again=a.again,
                         columns=parse_columns_option(a.columns) if a.columns else None)
    summary = import_paths(a.paths, a.out, opts)
    print(f"[import] {summary['takes']} take(s), {summary['samples']} samples from {summary['files']} file(s) "
          f"({summary['files_failed']} failed, {summary['files_skipped']} skipped) -> {a.out}", file=sys.stderr)
    print(json.dumps(summary))
    _note_other_motions("import", a.out)
    if summary["files_failed"]:
        return 2
    return 0


def _cmd_show(a) -> int:
    from capture.show import show

    summary = show(a.data_dir, out_dir=a.out, label=a.label)
    for path in summary["files"]:
        print(f"[show] wrote {path}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


def _cmd_export_ei(a) -> int:
    from capture.importing.edge_impulse import export_dataset

    summary = export_dataset(a.data_dir, a.out, fmt=a.format, label=a.label, include_flagged=a.include_flagged)
    print(f"[export-ei] {summary['takes']} take(s) -> {a.out}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


def _cmd_ports(a) -> int:
    from capture.wire.ports import find_ports, format_ports

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
    from capture.wire.protocol_header import HEADER_PATH, write_header

    path = write_header(a.path or HEADER_PATH)
    print(f"[capture] wrote {path}", file=sys.stderr)
    print(str(path))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m capture", description=__doc__.splitlines()[0].split(": ", 1)[1])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_ports_parser, add_record_parser, add_import_arduino_parser, add_import_parser, add_show_parser,
                add_export_ei_parser, add_protocol_header_parser):
        add(sub)
    return p


RECORD_EPILOG = """examples:
  %(prog)s --label punch --takes 10 --subject ann --out data
  %(prog)s --label punch --takes 10 --out data --port /dev/ttyACM0
  %(prog)s --label wave --takes 5 --out data --port 'sim://?subject=p1&speed=20'   (the virtual board)
  %(prog)s --labels punch,flex,wave,circle,idle --takes 3 --subject me --out me    (a calibration set)
  %(prog)s --label unknown --takes 20 --subject ann --out data   (other motions: reaching, scratching, turning
      the wrist, waving to someone; they teach the model to report unknown instead of one of your gestures)"""


def add_record_parser(sub) -> None:
    r = sub.add_parser("record", help="record labelled takes from a board or the virtual board",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=RECORD_EPILOG,
                       description=textwrap.fill(
                           "Record labelled takes into DATA_DIR/<label>/ (new takes never overwrite old ones). Each "
                           "take's JSON holds its subject, session and integrity (samples lost, corrupt frames, "
                           "device drops, timing jitter, flagged). Prints a JSON summary on stdout.", 100))
    r.add_argument("--port", help="serial device (e.g. /dev/ttyACM0, COM5) or sim://... URL; "
                                  "default: the single Nano 33 BLE found")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("--label", help=f"the gesture being recorded (e.g. punch), or {UNKNOWN_LABEL!r} for everyday "
                                       "motions that are none of your gestures")
    which.add_argument("--labels", metavar="L1,L2,...",
                       help="record several gestures in one go, --takes of each in turn (e.g. "
                            "punch,flex,wave,circle,idle: a short calibration set for 'nanogest adapt')")
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


def add_import_arduino_parser(sub) -> None:
    i = sub.add_parser("import-arduino", help="import the output of the official IMU_Capture sketch",
                       description="Import IMU_Capture CSV (aX,aY,aZ,gX,gY,gZ in g and deg/s, takes separated by "
                                   "blank lines) into DATA_DIR/<label>/. Unusable lines are reported on stderr with "
                                   "their line number. Prints a JSON summary on stdout.",
                       epilog="example: %(prog)s serial_monitor.csv --label punch --subject ann --out data")
    i.add_argument("file", type=Path, metavar="FILE.csv", help="text copied from the Serial Monitor")
    i.add_argument("--label", required=True, help="the gesture in this file")
    i.add_argument("--out", type=Path, required=True, help="dataset directory (DATA_DIR)")
    i.add_argument("--subject", default="unknown", help="who performed it (default unknown)")
    i.add_argument("--session", default="s1", help="session name (default s1)")
    i.add_argument("--rate-hz", type=float, default=119.0, help="sample rate of the sketch (default 119, LSM9DS1)")
    i.add_argument("--samples-per-take", type=int, default=IMU_CAPTURE_SAMPLES,
                   help="rows per take when the file has a blank line after every row (default 119)")
    i.set_defaults(func=_cmd_import)


def add_ports_parser(sub) -> None:
    pp = sub.add_parser("ports", help="list USB serial ports and which are Nano 33 BLE boards",
                        description="List USB serial ports by VID:PID; a Nano 33 BLE running a sketch is 2341:805A "
                                    "(2341:005A while in its bootloader).",
                        epilog="example: %(prog)s --json")
    pp.add_argument("--json", action="store_true", help="print the list as JSON")
    pp.set_defaults(func=_cmd_ports)


def add_protocol_header_parser(sub) -> None:
    g = sub.add_parser("gen-protocol-header", help="regenerate the firmware's protocol header from protocol_spec.py",
                       description="Write firmware/lib/nanogest_core/src/ng_protocol_defs.h from capture/wire/protocol_spec.py.",
                       epilog="example: %(prog)s --path /tmp/ng_protocol_defs.h")
    g.add_argument("--path", type=Path, default=None, help="write here instead of the firmware tree")
    g.set_defaults(func=_cmd_header)


IMPORT_EPILOG = """examples:
  %(prog)s punch.csv --label punch --subject ann --out data
  %(prog)s recordings/ --layout '{subject}/{label}_{n}.csv' --out data
  %(prog)s rev2_log.csv --board rev2 --label wave --out data
  %(prog)s ei-export/training --out data      (Edge Impulse JSON/CSV: label from the file name)
Each file's report (stderr) gives rows used, lines ignored and why, takes found and what started each, the rate
and units found; run it again on the same file and it is skipped (--again to import it twice)."""


def add_import_parser(sub) -> None:
    m = sub.add_parser(
        "import", help="import recordings in any common shape (IMU_Capture, other sketches' logs, Edge Impulse)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=IMPORT_EPILOG,
        description=textwrap.fill("Import CSV/TSV/text recordings and Edge Impulse samples (files or folders) into DATA_DIR/<label>/. "
                    "Columns are found by their header (aX/ax/acc_x/AccX/accelerometerX..., gX/gyr_x/gyroX..., an "
                    "optional time column timestamp/time_ms/millis/t_us..., label and subject columns); a file without "
                    "a header must be six numbers per row (IMU_Capture). Takes are cut at blank or empty-cell rows, "
                    "repeated headers, time gaps, label changes, or every --take-samples rows. Units (g or m/s^2, deg/s "
                    "or rad/s) are read from the header or guessed from the values, always stated, and can be forced. "
                    "Nothing in DATA_DIR is overwritten. Prints a JSON summary on stdout.", 100))
    m.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="files or folders (searched for .csv .txt .tsv .log .json)")
    m.add_argument("--out", type=Path, required=True, help="dataset directory (DATA_DIR)")
    m.add_argument("--label", help="the gesture in every file (default: --layout, a label column, or the file name)")
    m.add_argument("--subject", help="who performed it (default: --layout, a subject column, or unknown)")
    m.add_argument("--session", help="session name (default: --layout's {session} or s1)")
    m.add_argument("--layout", metavar="PATTERN",
                   help="where label/subject/session/take number sit in the path, matched at its end, e.g. "
                        "'{subject}/{label}_{n}.csv' or '{label}.{any}.json'; '*' matches anything in a name")
    m.add_argument("--board", choices=("rev1", "rev2"), default=None,
                   help="the board the file came from: rev1 (LSM9DS1, 119 Hz) or rev2 (BMI270, 100 Hz); sets the "
                        "default rate and the take's board/imu (default: unknown, 119 Hz)")
    m.add_argument("--axes", metavar="MAP", help="remap axes of both sensors, e.g. -y,-x,z; 'bmi270-chip' turns "
                   "the BMI270's own axes into the Rev2 library's (x=-y, y=-x), as the firmware records them")
    m.add_argument("--rate-hz", type=float, default=None,
                   help="sample rate (default: from the time column, else the board's IMU_Capture rate)")
    m.add_argument("--take-samples", type=int, default=None, metavar="N", help="cut takes every N rows (fixed take length)")
    m.add_argument("--samples-per-take", type=int, default=IMU_CAPTURE_SAMPLES, metavar="N",
                   help="IMU_Capture's rows per take, for blocks pasted back to back without a blank line and files "
                        "with a blank line after every row (default %(default)s, the sketch's numSamples, on Rev2 too)")
    m.add_argument("--split-gap-s", type=float, default=0.3, metavar="S",
                   help="a pause in the time column longer than this (and 5 sample steps) starts a new take (default 0.3)")
    m.add_argument("--accel-units", metavar="UNIT", help="g, ms2 (m/s^2) or mg (default: header, else guessed)")
    m.add_argument("--gyro-units", metavar="UNIT", help="dps (deg/s), rads (rad/s) or mdps (default: header, else guessed)")
    m.add_argument("--time-unit", choices=("s", "ms", "us"), help="unit of the time column (default: header, else its step size)")
    m.add_argument("--columns", metavar="ROLES", help="for files without a header: each column's role, e.g. t,ax,ay,az,gx,gy,gz "
                   "('-' skips a column)")
    m.add_argument("--again", action="store_true", help="import files already imported into DATA_DIR again")
    m.set_defaults(func=_cmd_import_any)


def add_show_parser(sub) -> None:
    s = sub.add_parser("show", help="draw the takes of each label overlaid (PNG), to spot mislabeled or corrupted takes",
                       description="Draw each label's takes overlaid, one panel per channel, into OUT/<label>.png "
                                   "(default DATA_DIR/.show/). The take least like its label's others is drawn in red "
                                   "and named. Prints a JSON summary on stdout.",
                       epilog="example: %(prog)s data --label punch   (then open data/.show/punch.png)")
    s.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory")
    s.add_argument("--label", help="only this label")
    s.add_argument("--out", type=Path, default=None, help="folder for the PNGs (default DATA_DIR/.show)")
    s.set_defaults(func=_cmd_show)


def add_export_ei_parser(sub) -> None:
    e = sub.add_parser("export-ei", help="export DATA_DIR as Edge Impulse data acquisition samples",
                       description="Write every usable take as an Edge Impulse sample <label>.<take>.json (data "
                                   "acquisition format, unsigned; accelerometer m/s2, gyroscope deg/s) or .csv "
                                   "(timestamp in ms). Import them back with: nanogest import OUT "
                                   "--layout '{label}.{subject}-{session}-{n}.json'.",
                       epilog="example: %(prog)s data --out ei-upload --format csv")
    e.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset directory")
    e.add_argument("--out", type=Path, required=True, help="folder to write (files already there are never overwritten)")
    e.add_argument("--format", choices=("json", "csv"), default="json", help="json (default) or csv")
    e.add_argument("--label", help="only this label")
    e.add_argument("--include-flagged", action="store_true", help="also export flagged or incomplete takes")
    e.set_defaults(func=_cmd_export_ei)


def run(args: argparse.Namespace) -> int:
    """Run a parsed capture command (``args.func``); a problem the user can fix ends in one ``error:`` line."""
    try:
        return args.func(args)
    except (CaptureError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; takes already written are kept", file=sys.stderr)
        return 130


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
