// Runs the core's novelty gate (ng_gate.h) on windows and gate constants given as text, so
// tests/firmware/test_gate_golden.py can compare every statistic, distance, firing and
// overridden score with converter/gate.py. Built for the host (g++) and, with
// -DNG_GATE_VECTORS_ON_QEMU and test/arm/startup.cpp, for Cortex-M4F under QEMU mps2-an386, where
// it reads the file gate_vectors.txt through semihosting (QEMU's working directory).
//
//   gate_vectors < vectors
// Whitespace-separated words:
//   gate MEAN_SCALE LEVEL ZERO_POINT SAMPLES LABELS UNKNOWN_INDEX   then the gate for what follows:
//   weights (kGateStatistics^2 values, row-major)  bias (kGateStatistics values)
//   window (SAMPLES x 6 int8, time-major) (LABELS int8 scores)
// stdout: one line per window: "stats... distance fires scores..." (the scores after the override).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ng_gate.h"

namespace {

constexpr size_t kMaxSamples = 512;
constexpr size_t kMaxLabels = 64;

struct Vectors {
  FILE* in;
  ng::GateSettings gate;
  int16_t weights[ng::kGateStatistics * ng::kGateStatistics];
  int64_t bias[ng::kGateStatistics];
  int32_t zero_point;
  size_t samples;
  size_t labels;
  int32_t unknown_index;
  int8_t q[kMaxSamples * ng::kImuChannels];
  int8_t scores[kMaxLabels];
};

Vectors g_vectors;  // static: too large for the QEMU program's stack

bool word(FILE* in, char* out, size_t n) {
  char format[16];
  snprintf(format, sizeof format, "%%%us", static_cast<unsigned>(n - 1));
  return fscanf(in, format, out) == 1;
}

bool number(FILE* in, long long* v) {
  char text[32];
  if (!word(in, text, sizeof text)) return false;
  char* end = nullptr;
  *v = strtoll(text, &end, 10);
  return end != text && *end == '\0';
}

template <typename T>
bool numbers(FILE* in, T* out, size_t n) {
  long long v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!number(in, &v)) return false;
    out[i] = static_cast<T>(v);
  }
  return true;
}

bool read_gate(Vectors& v) {
  long long f[6];
  if (!numbers(v.in, f, 6)) return false;
  v.gate.mean_scale = static_cast<int32_t>(f[0]);
  v.gate.level = f[1];
  v.zero_point = static_cast<int32_t>(f[2]);
  v.samples = static_cast<size_t>(f[3]);
  v.labels = static_cast<size_t>(f[4]);
  v.unknown_index = static_cast<int32_t>(f[5]);
  v.gate.weights = v.weights;
  v.gate.bias = v.bias;
  return v.samples >= 1 && v.samples <= kMaxSamples && v.labels >= 1 && v.labels <= kMaxLabels;
}

// The int64 as decimal digits: newlib's printf may lack %lld.
void print_int64(int64_t value) {
  char digits[24];
  int n = 0;
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  do {
    digits[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) putchar('-');
  while (n > 0) putchar(digits[--n]);
}

void run_window(Vectors& v) {
  int32_t stats[ng::kGateStatistics];
  ng::gate_statistics(v.q, v.samples, v.zero_point, v.gate.mean_scale, stats);
  const int64_t distance = ng::gate_distance(v.gate, stats);
  const bool fires = ng::gate_fires(v.gate, v.q, v.samples, v.zero_point);
  if (fires) ng::gate_override(v.scores, v.labels, v.unknown_index);
  for (size_t j = 0; j < ng::kGateStatistics; ++j) printf("%ld ", static_cast<long>(stats[j]));
  print_int64(distance);
  printf(" %d", fires ? 1 : 0);
  for (size_t i = 0; i < v.labels; ++i) printf(" %d", static_cast<int>(v.scores[i]));
  putchar('\n');
}

// 0 when every word was understood, 1 otherwise (the word is named on stderr).
int run(FILE* in) {
  Vectors& v = g_vectors;
  v.in = in;
  v.samples = 0;
  char what[16];
  while (word(in, what, sizeof what)) {
    bool ok = false;
    if (strcmp(what, "gate") == 0) {
      ok = read_gate(v);
    } else if (strcmp(what, "weights") == 0) {
      ok = numbers(in, v.weights, ng::kGateStatistics * ng::kGateStatistics);
    } else if (strcmp(what, "bias") == 0) {
      ok = numbers(in, v.bias, ng::kGateStatistics);
    } else if (strcmp(what, "window") == 0 && v.samples > 0) {
      ok = numbers(in, v.q, v.samples * ng::kImuChannels) && numbers(in, v.scores, v.labels);
      if (ok) run_window(v);
    }
    if (!ok) {
      fprintf(stderr, "gate_vectors: cannot read '%s' and what follows\n", what);
      return 1;
    }
  }
  fflush(stdout);
  return 0;
}

}  // namespace

#ifdef NG_GATE_VECTORS_ON_QEMU
#include "ng_test.h"

// test/arm/startup.cpp calls this and leaves QEMU with its status.
int ngtest::run_all() {
  FILE* in = fopen("gate_vectors.txt", "r");
  if (in == nullptr) {
    printf("gate_vectors: cannot open gate_vectors.txt in QEMU's working directory\n");
    return 1;
  }
  const int failed = run(in);
  fclose(in);
  return failed;
}
#else
int main() { return run(stdin); }
#endif
