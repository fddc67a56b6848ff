#include "ng_arena.h"

#include <stdio.h>

namespace ng {

size_t format_arena_too_small(char* out, size_t capacity, uint32_t arena_bytes, uint32_t measured_bytes) {
  if (capacity == 0) return 0;
  char measured[24];
  if (measured_bytes == 0) {
    snprintf(measured, sizeof measured, "unknown");
  } else {
    snprintf(measured, sizeof measured, "%lu bytes", static_cast<unsigned long>(measured_bytes));
  }
  int n = snprintf(out, capacity,
                   "tensor arena of %lu bytes is too small for this model (the converter measured %s on a "
                   "64-bit host); reconvert and rebuild",
                   static_cast<unsigned long>(arena_bytes), measured);
  if (n < 0) {
    out[0] = '\0';
    return 0;
  }
  return static_cast<size_t>(n) < capacity ? static_cast<size_t>(n) : capacity - 1;
}

}  // namespace ng
