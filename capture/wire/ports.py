"""Finding and opening boards: real serial ports and ``sim://`` virtual boards.

``open_port(url)`` accepts a serial device path (``/dev/ttyACM0``, ``COM5``) or a
``sim://`` URL. ``sim://?subject=p1&session=s1&rate=119&speed=20&imu=lsm9ds1`` writes a
replay file with ``capture.synth`` (the simulated person performs the label being
recorded), ``sim://?replay=FILE.csv`` replays a file; either way the virtual board
(``firmware/build/host/virtual_board``, built on demand) is started on it and its
pseudo-terminal is opened exactly like a USB board. The simulated person performs one
label per board process, so recording several labels reopens such a port for each label
(``performs_label``).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import serial
from serial.tools import list_ports

from capture import synth
from capture.errors import CaptureError, PortGone

REPO_ROOT = Path(__file__).resolve().parents[2]
VIRTUAL_BOARD = REPO_ROOT / "firmware" / "build" / "host" / "virtual_board"
BAUD = 115200  # ignored by USB CDC and ptys, required by the API

ARDUINO_VID = 0x2341
NANO33BLE_PIDS = {0x805A: "Nano 33 BLE (running a sketch)", 0x005A: "Nano 33 BLE (bootloader: press reset once)"}
SIM_DEFAULT_RATE_HZ = {"lsm9ds1": 119.0, "bmi270": 100.0}
SIM_KEYS = {"subject", "session", "rate", "speed", "imu", "replay", "seed"}


@dataclass
class SimOptions:
    """What a sim:// URL asks for, plus what the recorder tells it about the takes."""

    subject: str = "sim"
    session: str = "s1"
    imu: str = "lsm9ds1"
    rate_hz: float | None = None
    speed: float = 20.0
    replay: Path | None = None
    seed: int | None = None


def parse_sim_url(url: str) -> SimOptions:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - SIM_KEYS)
    if unknown:
        raise CaptureError(f"{url}: unknown sim:// option {unknown[0]!r}; use {', '.join(sorted(SIM_KEYS))}")
    opts = SimOptions()
    try:
        opts.subject = query.get("subject", opts.subject)
        opts.session = query.get("session", opts.session)
        opts.imu = query.get("imu", opts.imu).lower()
        opts.speed = float(query.get("speed", opts.speed))
        opts.rate_hz = float(query["rate"]) if "rate" in query else None
        opts.seed = int(query["seed"]) if "seed" in query else None
    except ValueError as e:
        raise CaptureError(f"{url}: rate, speed and seed must be numbers ({e})") from None
    if opts.imu not in SIM_DEFAULT_RATE_HZ:
        raise CaptureError(f"{url}: imu must be one of {', '.join(SIM_DEFAULT_RATE_HZ)}, not {opts.imu!r}")
    if opts.speed <= 0 or (opts.rate_hz is not None and opts.rate_hz <= 0):
        raise CaptureError(f"{url}: rate and speed must be positive")
    if opts.rate_hz is None:
        opts.rate_hz = SIM_DEFAULT_RATE_HZ[opts.imu]
    if "replay" in query:
        opts.replay = Path(query["replay"]).expanduser()
        if not opts.replay.is_file():
            raise CaptureError(f"{url}: replay file {opts.replay} does not exist")
    return opts


def performs_label(url: str) -> bool:
    """Whether the port acts out the label it is opened for (``sim://`` without ``?replay=``):
    such a port must be opened again for every label recorded."""
    return url.startswith("sim://") and parse_sim_url(url).replay is None


class Port:
    """An open serial connection (real board or virtual board) with byte-level I/O.

    ``path`` is set when the port can be reopened by path after the board comes back
    (a serial device); a ``sim://`` port's virtual board cannot come back.
    """

    def __init__(self, ser: serial.Serial, name: str, process: subprocess.Popen | None = None, tmpdir=None,
                 path: str | None = None):
        self.serial = ser
        self.name = name
        self.process = process
        self.path = path
        self._tmpdir = tmpdir

    @property
    def can_reconnect(self) -> bool:
        return self.path is not None and self.process is None

    def reconnect(self, wait_s: float, poll_s: float = 0.2) -> None:
        """Close, then wait up to ``wait_s`` for ``path`` to reappear and reopen it.

        Raises ``PortGone`` if it does not come back in time (or cannot come back)."""
        if not self.can_reconnect:
            raise PortGone(f"{self.name} cannot come back (a virtual board ends with its process)")
        try:
            self.serial.close()
        except (serial.SerialException, OSError):
            pass
        deadline = time.monotonic() + wait_s
        reason = "it did not reappear"
        while True:
            if os.path.exists(self.path):
                try:
                    self.serial = serial.Serial(self.path, BAUD, timeout=0.05, write_timeout=2)
                    return
                except (serial.SerialException, OSError) as e:
                    reason = f"it reappeared but could not be opened ({e})"
            if time.monotonic() >= deadline:
                raise PortGone(f"{self.path} did not come back within {wait_s:g} s ({reason})")
            time.sleep(poll_s)

    def write(self, data: bytes) -> None:
        try:
            self.serial.write(data)
            self.serial.flush()
        except (serial.SerialException, OSError):
            raise PortGone(f"the board on {self.name} disconnected") from None

    def read(self) -> bytes:
        """Whatever has arrived (waits up to the port timeout; b'' if nothing)."""
        try:
            data = self.serial.read(max(1, self.serial.in_waiting))
        except (serial.SerialException, OSError, TypeError):
            raise PortGone(f"the board on {self.name} disconnected") from None
        if not data and self.process is not None and self.process.poll() is not None:
            raise PortGone(f"the virtual board on {self.name} exited (status {self.process.returncode})")
        return data

    def close(self) -> None:
        try:
            self.serial.close()
        except (serial.SerialException, OSError):
            pass
        if self.process is not None:
            _stop_process(self.process)
            self.process = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> Port:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_port(url: str, *, label: str | None = None, takes: int = 1, take_seconds: float = 1.0) -> Port:
    """Open a serial device path or a ``sim://`` URL (``label``/``takes`` feed the simulator)."""
    if url.startswith("sim://"):
        return _open_sim(url, label, takes, take_seconds)
    if "://" in url:
        raise CaptureError(f"{url}: unknown port kind; pass a serial device like /dev/ttyACM0 or a sim:// URL")
    try:
        ser = serial.Serial(url, BAUD, timeout=0.05, write_timeout=2)
    except (serial.SerialException, OSError, ValueError) as e:
        reason = "no such device" if url.startswith("/") and not os.path.exists(url) else str(e)
        raise CaptureError(f"cannot open port {url}: {reason}; list boards with: nanogest ports") from None
    return Port(ser, url, path=url)


# ------------------------------------------------------------------------- sim://


def ensure_virtual_board() -> Path:
    """The virtual board binary, built with ``make -C firmware host`` if missing."""
    if VIRTUAL_BOARD.is_file():
        return VIRTUAL_BOARD
    print(f"[capture] {VIRTUAL_BOARD.relative_to(REPO_ROOT)} is missing; building it with `make -C firmware host`",
          file=sys.stderr, flush=True)
    proc = subprocess.run(["make", "-C", str(REPO_ROOT / "firmware"), "host"], stdout=sys.stderr, stderr=sys.stderr)
    if proc.returncode != 0 or not VIRTUAL_BOARD.is_file():
        raise CaptureError("could not build the virtual board (`make -C firmware host` failed; see its output above)")
    return VIRTUAL_BOARD


def _write_synth_replay(path: Path, opts: SimOptions, label: str, takes: int, take_seconds: float) -> None:
    seed = opts.seed if opts.seed is not None else 0  # synth already seeds by subject, session, label, take
    try:
        synth.write_replay_csv(path, label, takes, opts.rate_hz, opts.subject, opts.session, take_seconds, seed)
    except ValueError as e:  # synth.SynthError: e.g. a label it cannot perform
        raise CaptureError(f"the simulator cannot perform {label!r}: {e}; record with sim://?replay=FILE.csv") from None


def _open_sim(url: str, label: str | None, takes: int, take_seconds: float) -> Port:
    opts = parse_sim_url(url)
    binary = ensure_virtual_board()
    tmpdir = None
    replay = opts.replay
    if replay is None:
        if not label:
            raise CaptureError(f"{url}: the simulator needs a label to perform (pass --label) or ?replay=FILE.csv")
        tmpdir = tempfile.TemporaryDirectory(prefix="nanogest-sim-")
        replay = Path(tmpdir.name) / f"{label}.csv"
        _write_synth_replay(replay, opts, label, max(1, takes), take_seconds)
    cmd = [str(binary), "--replay", str(replay), "--rate-hz", f"{opts.rate_hz:g}", "--speed", f"{opts.speed:g}",
           "--imu", opts.imu]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr)
    try:
        pty_path = _first_line(proc, timeout_s=10.0)
        ser = serial.Serial(pty_path, BAUD, timeout=0.05, write_timeout=2)
    except (CaptureError, serial.SerialException, OSError) as e:
        _stop_process(proc)
        if tmpdir is not None:
            tmpdir.cleanup()
        if isinstance(e, CaptureError):
            raise
        raise CaptureError(f"cannot open the virtual board's pty ({e})") from None
    print(f"[capture] virtual board on {pty_path} (pid {proc.pid}, replay {replay.name}, "
          f"{opts.rate_hz:g} Hz x{opts.speed:g}, {opts.imu})", file=sys.stderr, flush=True)
    return Port(ser, f"{url} ({pty_path})", process=proc, tmpdir=tmpdir)


def _first_line(proc: subprocess.Popen, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    line = b""
    fd = proc.stdout.fileno()
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise CaptureError(f"the virtual board printed no pty path within {timeout_s:g} s")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 1)
            if not chunk:
                code = proc.wait()
                raise CaptureError(f"the virtual board exited (status {code}) before printing its pty path")
            line += chunk
    return line.decode().strip()


def _stop_process(proc: subprocess.Popen) -> None:
    for pipe in (proc.stdin, proc.stdout):
        try:
            if pipe:
                pipe.close()
        except OSError:
            pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------- discovery


@dataclass
class FoundPort:
    device: str
    vid: int | None
    pid: int | None
    description: str
    note: str
    is_candidate: bool


def classify_port(device: str, vid: int, pid: int, description: str = "") -> FoundPort:
    """What a USB serial device is, from its VID:PID."""
    if vid == ARDUINO_VID and pid in NANO33BLE_PIDS:
        return FoundPort(device, vid, pid, description, NANO33BLE_PIDS[pid], pid == 0x805A)
    note = "not a Nano 33 BLE (another Arduino board)" if vid == ARDUINO_VID else "not an Arduino board"
    return FoundPort(device, vid, pid, description, note, False)


def find_ports() -> list[FoundPort]:
    """USB serial ports: Nano 33 BLE boards first (candidates), then other USB devices."""
    found = [classify_port(info.device, info.vid, info.pid, info.description or "")
             for info in list_ports.comports() if info.vid is not None]  # vid None: built-in UARTs
    return sorted(found, key=lambda p: (not p.is_candidate, p.device))


def format_ports(ports: list[FoundPort]) -> str:
    lines = []
    for p in ports:
        mark = "*" if p.is_candidate else " "
        lines.append(f"{mark} {p.device:20s} {p.vid:04X}:{p.pid:04X}  {p.note}  [{p.description}]")
    return "\n".join(lines)


def choose_port(requested: str | None) -> str:
    """The port to use: ``requested`` as given, else the single Nano 33 BLE found."""
    if requested:
        return requested
    ports = find_ports()
    candidates = [p for p in ports if p.is_candidate]
    if len(candidates) == 1:
        print(f"[capture] using {candidates[0].device} ({candidates[0].note})", file=sys.stderr)
        return candidates[0].device
    listing = format_ports(ports) or "  (no USB serial devices found)"
    print(f"USB serial ports (* = Nano 33 BLE running a sketch):\n{listing}", file=sys.stderr)
    if not candidates:
        raise CaptureError("no Nano 33 BLE found; plug it in (a data USB cable), or pass --port PATH, "
                           "or try without hardware: --port sim://")
    raise CaptureError(f"{len(candidates)} Nano 33 BLE boards found; choose one with --port PATH")
