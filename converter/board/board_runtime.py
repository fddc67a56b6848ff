"""The board's TFLM as built by converter/board/board_tflm.py, loaded with ctypes: BoardKernels makes
BoardInterpreters that take the same calls as the PyPI ``tflite-micro`` interpreter (int8 tensors),
through the C API of firmware/host/board_tflm_api.cpp."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converter import ConverterError


@dataclass(frozen=True)
class BoardSources:
    """Where a board library's sources are and what they are (converter/board/board_tflm.py finds them)."""

    root: Path  # the library's root directory (library.properties)
    name: str
    version: str
    found_by: str  # "--board-tflm", "NANOGEST_BOARD_TFLM" or "platformio"

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def src(self) -> Path:
        return self.root / "src"


class _Api:
    """The C API of one loaded library (firmware/host/board_tflm_api.cpp)."""

    def __init__(self, path: Path):
        lib = ctypes.CDLL(str(path))
        vp, sz, i8p = ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int8)
        sig = {
            "ng_board_tflm_error": (ctypes.c_char_p, []),
            "ng_board_tflm_open": (vp, [ctypes.c_char_p, sz, sz]),
            "ng_board_tflm_close": (None, [vp]),
            "ng_board_tflm_count": (ctypes.c_int, [vp, ctypes.c_int]),
            "ng_board_tflm_bytes": (ctypes.c_long, [vp, ctypes.c_int, ctypes.c_int]),
            "ng_board_tflm_set_input": (ctypes.c_int, [vp, ctypes.c_int, i8p, sz]),
            "ng_board_tflm_invoke": (ctypes.c_int, [vp]),
            "ng_board_tflm_get_output": (ctypes.c_int, [vp, ctypes.c_int, i8p, sz]),
            "ng_board_tflm_arena_used_bytes": (ctypes.c_long, [vp]),
        }
        for name, (res, args) in sig.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
            setattr(self, name[len("ng_board_tflm_"):], fn)

    def last_error(self) -> str:
        return (self.error() or b"").decode(errors="replace")


class BoardInterpreter:
    """One model in the board's TFLM: ``set_input(array, pos)``, ``invoke()``, ``get_output(pos)``,
    as the PyPI ``tflite_micro`` runtime.Interpreter (int8 tensors only)."""

    def __init__(self, kernels: "BoardKernels", model_bytes: bytes, arena_bytes: int):
        self._api = kernels.api
        self._model = bytes(model_bytes)
        self._handle = self._api.open(self._model, len(self._model), int(arena_bytes))
        if not self._handle:
            raise ConverterError(f"{kernels.label} refuses the model with a {arena_bytes}-byte arena: {self._api.last_error()}")
        self._in_bytes = [self._api.bytes(self._handle, 0, i) for i in range(self._api.count(self._handle, 0))]
        self._out_bytes = [self._api.bytes(self._handle, 1, i) for i in range(self._api.count(self._handle, 1))]

    def __del__(self):
        if getattr(self, "_handle", None):
            self._api.close(self._handle)
            self._handle = None

    def set_input(self, values: np.ndarray, position: int) -> None:
        data = np.ascontiguousarray(values, dtype=np.int8).reshape(-1)
        ptr = data.ctypes.data_as(ctypes.POINTER(ctypes.c_int8))
        if self._api.set_input(self._handle, int(position), ptr, data.size) != 0:
            raise ConverterError(f"board TFLM: {self._api.last_error()}")

    def invoke(self) -> None:
        if self._api.invoke(self._handle) != 0:
            raise ConverterError(f"board TFLM: {self._api.last_error()}")

    def get_output(self, position: int) -> np.ndarray:
        out = np.empty(self._out_bytes[position], dtype=np.int8)
        if self._api.get_output(self._handle, int(position), out.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)), out.size) != 0:
            raise ConverterError(f"board TFLM: {self._api.last_error()}")
        return out

    def arena_used_bytes(self) -> int:
        return int(self._api.arena_used_bytes(self._handle))


class BoardKernels:
    """The built board TFLM: ``interpreter(model_bytes, arena_bytes)`` makes a BoardInterpreter."""

    def __init__(self, sources: BoardSources, library: Path):
        self.sources = sources
        self.library = library
        self.api = _Api(library)

    @property
    def label(self) -> str:
        return self.sources.label

    def interpreter(self, model_bytes: bytes, arena_bytes: int) -> BoardInterpreter:
        return BoardInterpreter(self, model_bytes, arena_bytes)

    def describe(self) -> dict:
        return {"library": self.sources.name, "version": self.sources.version, "sources": str(self.sources.root),
                "found_by": self.sources.found_by, "built": str(self.library)}
