"""The board's own TFLM library on the laptop: its sources and host build (board_tflm), the ctypes
runtime over it (board_runtime), the converter's check against it (board_verify), and its build for
Cortex-M4F measured in QEMU (board_arm)."""
