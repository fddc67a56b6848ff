// The motion gate's measure (ng_postprocess.h) on QEMU mps2-an386 (Cortex-M4F), run by
// bench/bench_motion_arm.py with the core tests' startup.cpp (semihosting). Per window length it
// times what InferencePipeline runs for the motion gate, one fact per line:
//   MSTEP samples windows ticks base   a step model's (a plain GRU, one sample a step): per window
//                                      motion_begin, motion_add of each step's new sample, motion_finish;
//                                      `ticks` with the samples pushed into the step's SampleWindow,
//                                      `base` the pushes alone (the pipeline does them anyway)
//   MWIN samples windows ticks         a windowed model's window_motion over a whole window
//   CALIBRATION insns ticks            a loop of known instruction count
// (QEMU -icount shift=0 advances time per instruction, so ticks become instructions.)
// NG_MOTION_BENCH_WINDOWS: the window lengths in samples, comma-separated.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ng_postprocess.h"
#include "ng_test.h"
#include "ng_window.h"
#include "systick_count.h"

#ifndef NG_MOTION_BENCH_WINDOWS
#define NG_MOTION_BENCH_WINDOWS 40, 119
#endif

namespace {

using ng_bench::kSysTickVal;
using ng_bench::systick_start;
using ng_bench::ticks_since;

constexpr size_t kWindowLengths[] = {NG_MOTION_BENCH_WINDOWS};
constexpr size_t kWindows = 16;  // windows per SysTick interval

constexpr size_t max_length() {
  size_t m = 0;
  for (size_t w : kWindowLengths) m = w > m ? w : m;
  return m;
}

int16_t g_storage[max_length() * ng::kImuChannels];
volatile float g_sink;  // keeps the results from being optimized away

uint32_t hash(uint32_t k) { return (k * 2654435761u) ^ (k >> 7) ^ 0x5bd1e995u; }

// Counts over the whole int16 range (the worst case for nothing: the sums are int64 whatever the values).
ng::ImuCounts sample(uint32_t k) {
  ng::ImuCounts s;
  for (int c = 0; c < 3; ++c) {
    s.accel[c] = static_cast<int16_t>(hash(6 * k + c) >> 16);
    s.gyro[c] = static_cast<int16_t>(hash(6 * k + 3 + c) >> 16);
  }
  return s;
}

// kWindows windows of `samples` steps; `measure` false: the pushes alone.
uint32_t step_windows(size_t samples, bool measure) {
  ng::SampleWindow step(g_storage, 1, 1);  // a plain GRU's: one sample a step
  ng::MotionAccumulator acc;
  const uint32_t t0 = *kSysTickVal;
  for (size_t w = 0; w < kWindows; ++w) {
    if (measure) ng::motion_begin(acc);
    for (size_t t = 0; t < samples; ++t) {
      step.push(sample(static_cast<uint32_t>(w * samples + t)));
      if (measure) ng::motion_add(acc, step, 0, 1);
    }
    if (measure) g_sink = ng::motion_finish(acc, 0.000122f, 0.07f, 100.0f);
  }
  return ticks_since(t0);
}

uint32_t whole_windows(size_t samples) {
  ng::SampleWindow window(g_storage, samples, samples);
  for (size_t t = 0; t < samples; ++t) window.push(sample(static_cast<uint32_t>(t)));
  const uint32_t t0 = *kSysTickVal;
  for (size_t w = 0; w < kWindows; ++w) g_sink = ng::window_motion(window, 0.000122f, 0.07f, 100.0f);
  return ticks_since(t0);
}

}  // namespace

int ngtest::run_all() {
  systick_start();
  for (size_t samples : kWindowLengths) {
    const uint32_t with = step_windows(samples, true), base = step_windows(samples, false);
    printf("MSTEP %lu %lu %lu %lu\n", static_cast<unsigned long>(samples), static_cast<unsigned long>(kWindows),
           static_cast<unsigned long>(with), static_cast<unsigned long>(base));
    printf("MWIN %lu %lu %lu\n", static_cast<unsigned long>(samples), static_cast<unsigned long>(kWindows),
           static_cast<unsigned long>(whole_windows(samples)));
  }
  ng_bench::print_calibration();
  return 0;
}
