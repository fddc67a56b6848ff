"""The board's own TFLM on the laptop: the TFLM library the firmware links (the pinned lib_deps
entry of platformio.ini, or a directory the user names) built for the host with g++ as a shared
library, and run through ctypes (converter/board/board_runtime.py) with the same calls as the PyPI
``tflite-micro`` interpreter.

Where the sources come from, first found wins:
  1. the directory passed as ``board_tflm`` (``--board-tflm DIR``),
  2. the environment variable NANOGEST_BOARD_TFLM,
  3. what PlatformIO installs for the pinned dependency: .pio/libdeps/nano33ble/Chirale_TensorFLowLite*
     under the project root.
A directory is the library's root (library.properties + src/tensorflow/lite/micro/).

The build compiles the library's own kernel set (its CMSIS-NN kernels with CMSIS-NN's portable C
code paths, its reference kernels for every other op) with the defines the Arduino build uses,
plus firmware/host/board_tflm_api.cpp (our C API). Objects and the library are cached under
firmware/build/board_tflm/, keyed by a hash of each source and the flags: the first build takes
minutes (progress on stderr), later ones are instant.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from converter import ConverterError
from converter.board.board_runtime import BoardKernels, BoardSources

REPO = Path(__file__).resolve().parents[2]
ENV_VAR = "NANOGEST_BOARD_TFLM"
PIO_ENV = "nano33ble"
PIO_LIBDEPS = REPO / ".pio" / "libdeps" / PIO_ENV
# PlatformIO names the folder after the library's manifest name: "Chirale_TensorFLowLite" (sic).
PIO_LIBRARY_GLOB = "Chirale_TensorF[lL]owLite*"
API_SOURCE = REPO / "firmware" / "host" / "board_tflm_api.cpp"
CACHE_DIR = REPO / "firmware" / "build" / "board_tflm"
CACHE_ENV_VAR = "NANOGEST_BOARD_TFLM_CACHE"
PLATFORMIO_INI = REPO / "platformio.ini"
PINNED_PATTERN = re.compile(r"^\s*[\w.-]+/(Chirale_TensorF[lL]owLite)@([\w.]+)\s*$", re.M)

# The Arduino build's view of the library: ARDUINO selects the CMSIS-NN kernel registrations
# (Register_*_INT8 from kernels/cmsis_nn/), ARDUINO_EXCLUDE_CODE leaves out system_setup.cpp's Serial
# DebugLog (our API defines DebugLog). -funsigned-char: char is unsigned on ARM. -ffp-contract=off:
# no fused multiply-add where the board's build has none.
DEFINES = ["-DARDUINO=10607", "-DARDUINO_ARCH_MBED", "-DARDUINO_EXCLUDE_CODE"]
COMMON_FLAGS = ["-O2", "-fPIC", "-funsigned-char", "-ffp-contract=off", "-fno-exceptions", "-w", *DEFINES]
CXX_FLAGS = ["-std=gnu++14", "-fno-rtti"]
C_FLAGS = ["-std=gnu11"]
# Files of the library that are not part of the kernel set the firmware links.
EXCLUDED = re.compile(r"(/experimental/|/test_helper|/kernel_runner\.cpp$|/mock_micro_graph\.cpp$|"
                      r"/fake_micro_context\.cpp$)")


class BoardSourcesMissing(ConverterError):
    """No board library sources where they were looked for (the message says where)."""


def library_properties(root: Path) -> dict[str, str]:
    props = {}
    for line in (root / "library.properties").read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


def _check_root(root: Path, found_by: str) -> BoardSources:
    where = f"{root} (from {found_by})"
    if not root.is_dir():
        raise ConverterError(f"{where}: no such directory; name the board TFLM library's root (it holds library.properties)")
    if not (root / "library.properties").is_file():
        raise ConverterError(f"{where}: has no library.properties; name the library's root directory, not its src/")
    if not (root / "src" / "tensorflow" / "lite" / "micro" / "micro_interpreter.h").is_file():
        raise ConverterError(f"{where}: has no src/tensorflow/lite/micro/micro_interpreter.h; not a TFLM library")
    props = library_properties(root)
    return BoardSources(root.resolve(), props.get("name", root.name), props.get("version", "unknown"), found_by)


def searched_places(board_tflm: Path | None = None) -> str:
    places = ([f"--board-tflm {board_tflm}"] if board_tflm else []) + [
        f"${ENV_VAR} (unset)" if not os.environ.get(ENV_VAR) else f"${ENV_VAR}={os.environ[ENV_VAR]}",
        str(PIO_LIBDEPS / PIO_LIBRARY_GLOB)]
    return ", ".join(places)


def find_sources(board_tflm: Path | str | None = None) -> BoardSources:
    """The board library's sources (see the module doc for the order); BoardSourcesMissing if none."""
    if board_tflm:
        return _check_root(Path(board_tflm), "--board-tflm")
    if os.environ.get(ENV_VAR):
        return _check_root(Path(os.environ[ENV_VAR]), ENV_VAR)
    found = sorted(PIO_LIBDEPS.glob(PIO_LIBRARY_GLOB)) if PIO_LIBDEPS.is_dir() else []
    for root in found:
        if (root / "library.properties").is_file():
            return _check_root(root, "platformio")
    raise BoardSourcesMissing(
        f"the board's TFLM sources were not found at {searched_places(None)}; run `pio pkg install -e {PIO_ENV}` "
        f"or set {ENV_VAR} to the library's directory")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def library_sources(src: Path) -> list[Path]:
    cpp = [p for p in sorted((src / "tensorflow").rglob("*.cpp")) if not EXCLUDED.search(p.as_posix())]
    c = sorted((src / "third_party" / "cmsis_nn" / "Source").rglob("*.c"))
    return cpp + c


def _include_flags(src: Path) -> list[str]:
    return [f"-I{src}", f"-I{src / 'third_party/flatbuffers/include'}", f"-I{src / 'third_party/gemmlowp'}",
            f"-I{src / 'third_party/ruy'}"]


def _compiler(kind: str) -> str:
    name = os.environ.get("CXX" if kind == "c++" else "CC") or ("g++" if kind == "c++" else "gcc")
    path = shutil.which(name)
    if path is None:
        raise ConverterError(f"building the board's TFLM needs {name}; install it (apt-get install g++)")
    return path


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:20]


def _headers_digest(src: Path) -> bytes:
    """One hash of every header of the library (an object depends on headers we do not track one by one)."""
    h = hashlib.sha256()
    for p in sorted(src.rglob("*.h")):
        h.update(p.relative_to(src).as_posix().encode())
        h.update(p.read_bytes())
    return h.digest()


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV_VAR) or CACHE_DIR)


def build_jobs() -> int:
    try:
        return max(1, int(os.environ.get("NANOGEST_BUILD_JOBS", "")))
    except ValueError:
        return min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Target:
    """What the board library is compiled for: the laptop (a shared library with our C API, for ctypes)
    or the board's CPU (a static archive of the library alone, for the QEMU bench)."""

    name: str
    cxx: str
    cc: str
    flags: tuple
    with_api: bool


HOST = Target("host", "g++", "gcc", tuple(COMMON_FLAGS), True)
def board_optimization(ini: Path | None = None) -> str:
    """The -O level platformio.ini builds the firmware and its libraries at (its build_flags; the
    framework's -Os when it sets none or the file is missing)."""
    try:
        text = (ini or PLATFORMIO_INI).read_text()
    except OSError:
        return "-Os"
    flags = re.search(r"^build_flags\s*=(.*)$", text, re.M)
    levels = re.findall(r"(?<!\S)(-O[0-3sgz]?)(?!\S)", flags.group(1)) if flags else []
    return levels[-1] if levels else "-Os"


# The board's CPU with the project's ARM test setup (firmware/Makefile: hard float, as QEMU's tests; the
# Arduino build uses softfp float, which changes float code, not the int8 kernels), at the firmware's -O level.
CORTEX_M4F = Target("cortex-m4f", "arm-none-eabi-g++", "arm-none-eabi-gcc",
                    ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", board_optimization(),
                     "-funsigned-char",
                     "-ffunction-sections", "-fdata-sections", "-fno-exceptions", "-w", "-DARM_MATH_CM4",
                     "-D__FPU_PRESENT=1", *DEFINES), False)


def _tool(name: str, env: str | None = None) -> str:
    name = (os.environ.get(env) if env else None) or name
    path = shutil.which(name)
    if path is None:
        raise ConverterError(f"building the board's TFLM needs {name}; install it "
                             f"(apt-get install {'gcc-arm-none-eabi libnewlib-arm-none-eabi' if 'arm' in name else 'g++'})")
    return path


def build_library(sources: BoardSources, target: Target = HOST) -> Path:
    """The board's TFLM built for ``target`` (cached; see the module doc): for the host a shared
    library with our C API, for Cortex-M4F a static archive."""
    if target is HOST:
        cxx, cc = _compiler("c++"), _compiler("c")
    else:
        cxx, cc = _tool(target.cxx), _tool(target.cc)
    src = sources.src
    files = library_sources(src) + ([API_SOURCE] if target.with_api else [])
    includes = _include_flags(src)
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    flags_key = " ".join([*target.flags, *CXX_FLAGS, *C_FLAGS, *version]).encode()
    headers_key = _headers_digest(src)  # the API's own text is in its object's key like every source's
    cache = cache_dir()
    obj_dir = cache / ("obj" if target is HOST else f"obj-{target.name}")
    obj_dir.mkdir(parents=True, exist_ok=True)

    jobs = []
    for path in files:
        text = path.read_bytes()
        obj = obj_dir / f"{path.stem}-{_digest(text, headers_key, flags_key)}.o"
        is_c = path.suffix == ".c"
        cmd = [cc if is_c else cxx, *target.flags, *(C_FLAGS if is_c else CXX_FLAGS), *includes, "-c", str(path), "-o"]
        jobs.append((path, obj, cmd))
    lib_key = _digest(*(o.name.encode() for _, o, _ in jobs))
    lib = cache / (f"libng_board_tflm-{lib_key}.so" if target is HOST else f"libboard_tflm-{target.name}-{lib_key}.a")
    if lib.is_file():
        return lib

    todo = [j for j in jobs if not j[1].is_file()]
    start = time.monotonic()
    if todo:
        _log(f"building {sources.label} for {target.name} from {sources.root}: {len(todo)} of {len(jobs)} sources "
             f"to compile with {build_jobs()} job(s) (cached in {cache}) ...")

    def compile_one(job):
        path, obj, cmd = job
        tmp = obj.with_suffix(f".{os.getpid()}.tmp")
        proc = subprocess.run(cmd + [str(tmp)], capture_output=True, text=True)
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            return path, proc.stderr.strip()
        tmp.replace(obj)
        return path, None

    done = 0
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=build_jobs()) as pool:
        for path, error in pool.map(compile_one, todo):
            done += 1
            if error:
                failures.append((path, error))
            if done % 10 == 0 or done == len(todo):
                _log(f"  compiled {done}/{len(todo)} ({time.monotonic() - start:.0f} s)")
    if failures:
        path, error = failures[0]
        raise ConverterError(f"building {sources.label} for {target.name} failed on {len(failures)} file(s); first: "
                             f"{path}:\n{error[-2000:]}")
    tmp = lib.with_suffix(f".{os.getpid()}.tmp")
    objects = [str(o) for _, o, _ in jobs]
    if target is HOST:
        cmd = [cxx, "-shared", "-Wl,--no-undefined", "-o", str(tmp), *objects, "-lm"]
    else:
        cmd = [_tool("arm-none-eabi-ar"), "rcs", str(tmp), *objects]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConverterError(f"linking {sources.label} for {target.name} failed:\n{proc.stderr[-2000:]}")
    tmp.replace(lib)
    if todo:
        _log(f"built {lib} in {time.monotonic() - start:.0f} s")
    return lib


def pinned_library(ini: Path | None = None) -> dict:
    """{"name", "version"} of the TFLM library platformio.ini pins for the board (the firmware links it)."""
    ini = ini or PLATFORMIO_INI
    try:
        text = ini.read_text()
    except OSError as e:
        raise ConverterError(f"{ini}: cannot read the board's pinned libraries ({e.strerror})") from None
    m = PINNED_PATTERN.search(text)
    if m is None:
        raise ConverterError(f"{ini}: no pinned TFLM library (lib_deps = OWNER/Chirale_TensorFLowLite@VERSION)")
    return {"name": m.group(1), "version": m.group(2)}


def check_pinned(sources: BoardSources) -> None:
    """Sources of another library or version than the pin are refused: running them says nothing about
    the firmware."""
    pin = pinned_library()
    if (sources.name.lower(), sources.version) != (pin["name"].lower(), pin["version"]):
        raise ConverterError(f"the board TFLM sources at {sources.root} are {sources.label}, but platformio.ini pins "
                             f"{pin['name']} {pin['version']}; name the pinned library's directory")


_loaded: dict = {}


def load(board_tflm: Path | str | None = None):
    """Find (see find_sources), check against the pin, build (cached) and load the board's TFLM (a
    converter.board.board_runtime.BoardKernels); BoardSourcesMissing when there are no sources, ConverterError when they are not the pinned
    library or do not build."""
    sources = find_sources(board_tflm)
    check_pinned(sources)
    library = build_library(sources)
    if library not in _loaded:
        _loaded[library] = BoardKernels(sources, library)
    return _loaded[library]


def load_or_reason(board_tflm: Path | str | None = None) -> tuple:
    """(BoardKernels, None), or (None, why not) when the sources are absent."""
    try:
        return load(board_tflm), None
    except BoardSourcesMissing as e:
        return None, str(e)
