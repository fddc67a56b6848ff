"""int8 conversion and its checks: quantizing the float model (quantize), reading the flatbuffer
(flatbuffer), the board's operator policy (board_ops: what its TFLM registers and computes differently, and what
the converter emits instead), running it in TFLM and in TFLite's reference kernels (tflm, op_agreement), the refusal
rules (rules), the arena (arena), what the model costs on the nRF52840 (cost), and the converter's path for a
windowed model (window_kind)."""
