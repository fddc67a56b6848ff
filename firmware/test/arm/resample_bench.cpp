// The core's resampler (ng_resample.h) on QEMU mps2-an386 (Cortex-M4F), run by
// bench/bench_resample.py with the core tests' startup.cpp (semihosting). Prints, one fact per line:
//   RESAMPLE in_mhz out_mhz inputs outputs ticks checksum   SysTick ticks for `inputs` pushes
//   CALIBRATION insns ticks                                 a loop of known instruction count
// (QEMU -icount shift=0 advances time per instruction, so ticks become instructions.)
#include <stdint.h>
#include <stdio.h>

#include "ng_resample.h"
#include "ng_test.h"
#include "systick_count.h"

namespace {

using ng_bench::kSysTickVal;
using ng_bench::systick_start;
using ng_bench::ticks_since;

// A varied stream (a hash of the index), so the arithmetic is not constant-folded.
ng::ImuCounts sample(uint32_t k) {
  ng::ImuCounts s;
  for (int c = 0; c < 3; ++c) {
    s.accel[c] = static_cast<int16_t>((k * 2654435761u + 977u * static_cast<uint32_t>(c)) >> 16);
    s.gyro[c] = static_cast<int16_t>((k * 40503u + 31337u * static_cast<uint32_t>(c)) & 0xFFFFu);
  }
  return s;
}

void measure(uint32_t in_mhz, uint32_t out_mhz, uint32_t inputs) {
  ng::Resampler r;
  r.configure(in_mhz, out_mhz);
  ng::ImuCounts out[ng::kMaxResampleOutputs];
  uint32_t outputs = 0, checksum = 0, ticks = 0;
  // In chunks, so SysTick's 24 bits never wrap between two reads; the stream's making is not counted.
  ng::ImuCounts chunk[64];
  for (uint32_t done = 0; done < inputs; done += 64) {
    for (uint32_t i = 0; i < 64; ++i) chunk[i] = sample(done + i);
    const uint32_t t0 = *kSysTickVal;
    for (uint32_t i = 0; i < 64; ++i) {
      const size_t n = r.push(chunk[i], out);
      outputs += n;
      for (size_t j = 0; j < n; ++j) checksum += static_cast<uint16_t>(out[j].accel[0] ^ out[j].gyro[2]);
    }
    ticks += ticks_since(t0);
  }
  printf("RESAMPLE %lu %lu %lu %lu %lu %lu\n", static_cast<unsigned long>(in_mhz), static_cast<unsigned long>(out_mhz),
         static_cast<unsigned long>(inputs), static_cast<unsigned long>(outputs), static_cast<unsigned long>(ticks),
         static_cast<unsigned long>(checksum));
}

}  // namespace

int ngtest::run_all() {
  systick_start();
  const uint32_t pairs[][2] = {{119000, 119000}, {100000, 119000}, {119000, 100000}, {119000, 50000}, {100000, 50000}};
  for (const auto& p : pairs) measure(p[0], p[1], 64u * 40u);
  ng_bench::print_calibration();
  return 0;
}
