// The core's novelty gate (ng_gate.h) on QEMU mps2-an386 (Cortex-M4F), run by
// bench/bench_gate_arm.py with the core tests' startup.cpp (semihosting). Per window length it
// times what InferencePipeline does after each invoke: gate_fires (statistics, distance,
// comparison) and gate_override, for both kinds of gate: the window statistics (int16 whitening)
// and the vector lengths (LengthGateSettings, float). The level is 0, so every window fires and
// the override is always counted (the worst case). Prints, one fact per line:
//   GATE samples windows ticks fired    SysTick ticks for `windows` window-statistics evaluations
//   LGATE samples windows ticks fired   the same for the vector-length gate
//   SGATE samples windows ticks fired   the vector-length gate as a step model's pipeline runs it (one
//                                       sample a step, a plain GRU's): begin, add_step per sample, fires
//   CALIBRATION insns ticks             a loop of known instruction count
// (QEMU -icount shift=0 advances time per instruction, so ticks become instructions.)
// NG_GATE_BENCH_WINDOWS: the window lengths in samples, comma-separated (default 60,119).
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ng_gate.h"
#include "ng_test.h"
#include "systick_count.h"

#ifndef NG_GATE_BENCH_WINDOWS
#define NG_GATE_BENCH_WINDOWS 60, 119
#endif

namespace {

using ng_bench::kSysTickVal;
using ng_bench::systick_start;
using ng_bench::ticks_since;

constexpr size_t kWindowLengths[] = {NG_GATE_BENCH_WINDOWS};
constexpr size_t kBatch = 16;   // windows per SysTick interval (a few thousand instructions each)
constexpr size_t kBatches = 4;  // distinct window contents: kBatch x kBatches
constexpr size_t kLabels = 6;   // five gestures and unknown, as a gated model has

constexpr size_t max_length() {
  size_t m = 0;
  for (size_t w : kWindowLengths) m = w > m ? w : m;
  return m;
}

// Static: too large for the stack. On the board the constants are in flash (model_settings.h);
// here they are in RAM, which QEMU's instruction count does not tell apart.
int8_t g_windows[kBatch][max_length() * ng::kImuChannels];
int16_t g_weights[ng::kGateStatistics * ng::kGateStatistics];
int64_t g_bias[ng::kGateStatistics];
int8_t g_scores[kLabels];
float g_length_weights[ng::kLengthGateStatistics * ng::kLengthGateStatistics];
float g_length_bias[ng::kLengthGateStatistics];
// The committed default model's sizes (model_settings.h kGateInputScale/Offset, rounded): g and dps
// per input step, so the lengths and their sums are of the board's size.
const float kInputScale[ng::kImuChannels] = {0.0523f, 0.0287f, 0.0452f, 7.33f, 6.97f, 5.01f};
const float kInputOffset[ng::kImuChannels] = {0.363f, 0.086f, 0.650f, -4.76f, -4.18f, -4.07f};

uint32_t hash(uint32_t k) { return (k * 2654435761u) ^ (k >> 7) ^ 0x5bd1e995u; }

// Half the windows spread over the whole int8 range, half close to the zero point, as the golden
// vectors (tests/firmware/test_gate_golden.py): the statistics' branches go both ways.
void fill_windows(size_t samples, uint32_t seed) {
  for (size_t i = 0; i < kBatch; ++i) {
    for (size_t k = 0; k < samples * ng::kImuChannels; ++k) {
      const uint32_t h = hash(seed * 7919u + static_cast<uint32_t>(i * 100003u + k));
      g_windows[i][k] = static_cast<int8_t>(i % 2 == 0 ? (h >> 8) & 0xFFu : static_cast<int32_t>((h >> 8) % 13u) - 6);
    }
  }
}

// kBatch x kBatches evaluations of `gate` on windows of `samples`, printed as `tag samples windows ticks fired`.
void measure(const char* tag, const ng::GateSettings& gate, size_t samples) {
  uint32_t ticks = 0, fired = 0;
  for (uint32_t b = 0; b < kBatches; ++b) {
    fill_windows(samples, b);
    const uint32_t t0 = *kSysTickVal;
    for (size_t i = 0; i < kBatch; ++i) {
      if (ng::gate_fires(gate, g_windows[i], samples, 0)) {
        ng::gate_override(g_scores, kLabels, static_cast<int32_t>(kLabels - 1));
        ++fired;
      }
    }
    ticks += ticks_since(t0);
  }
  printf("%s %lu %lu %lu %lu\n", tag, static_cast<unsigned long>(samples),
         static_cast<unsigned long>(kBatch * kBatches), static_cast<unsigned long>(ticks),
         static_cast<unsigned long>(fired));
}

// The same windows gathered as InferencePipeline::push_step does for a plain GRU (a step per sample).
void measure_steps(const ng::LengthGateSettings& lengths, size_t samples) {
  uint32_t ticks = 0, fired = 0;
  ng::LengthAccumulator acc;
  for (uint32_t b = 0; b < kBatches; ++b) {
    fill_windows(samples, b);
    const uint32_t t0 = *kSysTickVal;
    for (size_t i = 0; i < kBatch; ++i) {
      ng::length_gate_begin(acc);
      for (size_t t = 0; t < samples; ++t) {
        ng::length_gate_add_step(lengths, acc, g_windows[i] + t * ng::kImuChannels, 1, 1, t, 0);
      }
      if (ng::length_gate_fires(lengths, acc)) {
        ng::gate_override(g_scores, kLabels, static_cast<int32_t>(kLabels - 1));
        ++fired;
      }
    }
    ticks += ticks_since(t0);
  }
  printf("SGATE %lu %lu %lu %lu\n", static_cast<unsigned long>(samples), static_cast<unsigned long>(kBatch * kBatches),
         static_cast<unsigned long>(ticks), static_cast<unsigned long>(fired));
}

// A float in [-scale, scale) from a hash.
float spread(uint32_t k, float scale) {
  return scale * (static_cast<float>(hash(k) >> 8) / 8388608.0f - 1.0f);
}

}  // namespace

int ngtest::run_all() {
  systick_start();
  // Constants over the whole int16 range, as the converter's scaling makes the largest 32767.
  for (size_t i = 0; i < ng::kGateStatistics * ng::kGateStatistics; ++i)
    g_weights[i] = static_cast<int16_t>(hash(static_cast<uint32_t>(i) + 17u) >> 16);
  for (size_t i = 0; i < ng::kGateStatistics; ++i)
    g_bias[i] = static_cast<int64_t>(static_cast<int32_t>(hash(static_cast<uint32_t>(i) + 4242u))) * 1000;
  // Float constants of the whitening's size (the committed model's run from about -30 to 15).
  for (size_t i = 0; i < ng::kLengthGateStatistics * ng::kLengthGateStatistics; ++i)
    g_length_weights[i] = spread(static_cast<uint32_t>(i) + 91u, 16.0f);
  for (size_t i = 0; i < ng::kLengthGateStatistics; ++i)
    g_length_bias[i] = spread(static_cast<uint32_t>(i) + 777u, 8.0f);
  // Every member explicitly: -Wextra warns of a missing initializer.
  const ng::GateSettings window_gate = {64, g_weights, g_bias, 0, nullptr};
  const ng::LengthGateSettings lengths = {kInputScale, kInputOffset, g_length_weights, g_length_bias, 0.0f};
  const ng::GateSettings length_gate = {64, g_weights, g_bias, 0, &lengths};
  for (size_t samples : kWindowLengths) {
    measure("GATE", window_gate, samples);
    measure("LGATE", length_gate, samples);
    measure_steps(lengths, samples);
  }
  ng_bench::print_calibration();
  return 0;
}
