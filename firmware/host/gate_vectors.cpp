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
// or, for the gate of the vector lengths (LengthGateSettings), floats as their 32 bits in decimal:
//   lgate LEVEL_BITS ZERO_POINT SAMPLES LABELS UNKNOWN_INDEX
//   lscale (6)  loffset (6)  lweights (kLengthGateStatistics^2)  lbias (kLengthGateStatistics)
//   then windows as above;
//   after them, optionally: lsteps CHUNK STRIDE   the windows that follow are a step model's (ng_step.h):
//   SAMPLES = (steps - 1) * STRIDE + CHUNK, fed step by step as InferencePipeline feeds its gate
//   (ng::length_gate_add_step on each step's CHUNK samples).
// stdout: one line per window: "stats... distance fires scores..." (the scores after the override;
// a length gate's statistics and distance as their float bits).
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
  ng::LengthGateSettings lengths;
  float scale[ng::kImuChannels];
  float offset[ng::kImuChannels];
  float length_weights[ng::kLengthGateStatistics * ng::kLengthGateStatistics];
  float length_bias[ng::kLengthGateStatistics];
  size_t step_chunk;   // 0: whole windows; else a step model's samples per step
  size_t step_stride;
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

// Floats travel as their bits, so both sides read and write them exactly.
float from_bits(long long bits) {
  const uint32_t u = static_cast<uint32_t>(bits);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

unsigned long to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return static_cast<unsigned long>(u);
}

bool floats(FILE* in, float* out, size_t n) {
  long long v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!number(in, &v)) return false;
    out[i] = from_bits(v);
  }
  return true;
}

bool read_window_shape(Vectors& v, const long long* f) {
  v.zero_point = static_cast<int32_t>(f[0]);
  v.samples = static_cast<size_t>(f[1]);
  v.labels = static_cast<size_t>(f[2]);
  v.unknown_index = static_cast<int32_t>(f[3]);
  return v.samples >= 1 && v.samples <= kMaxSamples && v.labels >= 1 && v.labels <= kMaxLabels;
}

bool read_length_gate(Vectors& v) {
  long long f[5];
  if (!numbers(v.in, f, 5)) return false;
  v.lengths.level = from_bits(f[0]);
  v.lengths.input_scale = v.scale;
  v.lengths.input_offset = v.offset;
  v.lengths.weights = v.length_weights;
  v.lengths.bias = v.length_bias;
  v.gate.lengths = &v.lengths;
  v.step_chunk = 0;
  return read_window_shape(v, f + 1);
}

bool read_gate(Vectors& v) {
  long long f[6];
  if (!numbers(v.in, f, 6)) return false;
  v.gate.mean_scale = static_cast<int32_t>(f[0]);
  v.gate.level = f[1];
  v.gate.weights = v.weights;
  v.gate.bias = v.bias;
  v.gate.lengths = nullptr;
  return read_window_shape(v, f + 2);
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

bool read_steps(Vectors& v) {
  long long f[2];
  if (v.gate.lengths == nullptr || !numbers(v.in, f, 2) || f[0] < 1 || f[1] < 1) return false;
  v.step_chunk = static_cast<size_t>(f[0]);
  v.step_stride = static_cast<size_t>(f[1]);
  return v.samples >= v.step_chunk && (v.samples - v.step_chunk) % v.step_stride == 0;
}

// A step model's window gathered step by step, each step given its chunk as the pipeline's input holds it.
void step_lengths(const Vectors& v, ng::LengthAccumulator& acc) {
  ng::length_gate_begin(acc);
  const size_t steps = (v.samples - v.step_chunk) / v.step_stride + 1;
  for (size_t j = 0; j < steps; ++j) {
    ng::length_gate_add_step(v.lengths, acc, v.q + j * v.step_stride * ng::kImuChannels, v.step_chunk,
                             v.step_stride, j, v.zero_point);
  }
}

// A length gate's statistics and distance, as their float bits; whether it fires.
bool print_length_measures(const Vectors& v) {
  float stats[ng::kLengthGateStatistics];
  ng::LengthAccumulator acc;
  if (v.step_chunk > 0) {
    step_lengths(v, acc);
    ng::length_gate_finish(acc, stats);
  } else {
    ng::length_gate_statistics(v.lengths, v.q, v.samples, v.zero_point, stats);
  }
  for (size_t j = 0; j < ng::kLengthGateStatistics; ++j) printf("%lu ", to_bits(stats[j]));
  printf("%lu", to_bits(ng::length_gate_distance(v.lengths, stats)));
  return v.step_chunk > 0 ? ng::length_gate_fires(v.lengths, acc) : ng::gate_fires(v.gate, v.q, v.samples, v.zero_point);
}

// A window gate's whole-number statistics and distance.
void print_window_measures(const Vectors& v) {
  int32_t stats[ng::kGateStatistics];
  ng::gate_statistics(v.q, v.samples, v.zero_point, v.gate.mean_scale, stats);
  for (size_t j = 0; j < ng::kGateStatistics; ++j) printf("%ld ", static_cast<long>(stats[j]));
  print_int64(ng::gate_distance(v.gate, stats));
}

void run_window(Vectors& v) {
  bool fires;
  if (v.gate.lengths != nullptr) {
    fires = print_length_measures(v);
  } else {
    print_window_measures(v);
    fires = ng::gate_fires(v.gate, v.q, v.samples, v.zero_point);
  }
  if (fires) ng::gate_override(v.scores, v.labels, v.unknown_index);
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
    } else if (strcmp(what, "lgate") == 0) {
      ok = read_length_gate(v);
    } else if (strcmp(what, "lscale") == 0) {
      ok = floats(in, v.scale, ng::kImuChannels);
    } else if (strcmp(what, "loffset") == 0) {
      ok = floats(in, v.offset, ng::kImuChannels);
    } else if (strcmp(what, "lweights") == 0) {
      ok = floats(in, v.length_weights, ng::kLengthGateStatistics * ng::kLengthGateStatistics);
    } else if (strcmp(what, "lbias") == 0) {
      ok = floats(in, v.length_bias, ng::kLengthGateStatistics);
    } else if (strcmp(what, "lsteps") == 0) {
      ok = read_steps(v);
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
