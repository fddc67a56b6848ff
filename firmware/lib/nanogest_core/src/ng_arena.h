// The report for a model that does not fit its tensor arena: TFLM's AllocateTensors
// fails (on the board) or the interpreter refuses or crashes (on the virtual board), and
// modes inference / replay / text-inference then answer ERROR model_failed with this text.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace ng {

// Longest message format_arena_too_small() writes, with its terminator.
constexpr size_t kArenaMessageMaxBytes = 160;

// Writes "tensor arena of N bytes is too small for this model (the converter measured M bytes
// on a 64-bit host); reconvert and rebuild" into `out` (NUL-terminated, cut to `capacity`);
// measured_bytes 0 means the size is unknown. Returns the length without the NUL.
size_t format_arena_too_small(char* out, size_t capacity, uint32_t arena_bytes, uint32_t measured_bytes);

}  // namespace ng
