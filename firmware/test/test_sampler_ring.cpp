#include <string.h>

#include "ng_ring.h"
#include "ng_sampler.h"
#include "ng_test.h"

using namespace ng;

TEST(sampler_has_no_drift_over_a_million_samples_at_119hz) {
  SampleClock clock;
  const uint32_t start = 0xFFFF0000u;  // the microsecond clock wraps during the run
  clock.start(119000, start);
  const uint64_t kSamples = 1000000;
  uint64_t mismatches = 0;
  uint64_t early = 0;
  for (uint64_t k = 0; k < kSamples; ++k) {
    uint64_t exact_offset = k * 1000000000ull / 119000ull;
    uint32_t due = start + static_cast<uint32_t>(exact_offset);
    if (k > 0 && clock.is_due(due - 1)) ++early;  // never due a microsecond early
    if (!clock.is_due(due)) ++mismatches;
    if (clock.due_t_us() != due) ++mismatches;
    clock.advance();
  }
  CHECK_EQ(mismatches, 0);
  CHECK_EQ(early, 0);
  // After 1e6 samples the schedule is exactly 1e6 / 119 Hz seconds in, to the microsecond
  // (adding a rounded 8403 us period would be 361 ms behind).
  CHECK_EQ(clock.due_offset_us(kSamples), 8403361344ull);
  CHECK_EQ(clock.index(), kSamples);
}

TEST(sampler_counts_samples_under_coarse_polling) {
  SampleClock clock;
  clock.start(119000, 123);
  uint32_t now = 123;
  uint64_t taken = 0;
  for (int step = 0; step < 20000; ++step) {
    now += 997;  // polling period unrelated to the sample period
    while (clock.is_due(now)) {
      clock.advance();
      ++taken;
    }
  }
  // Samples due in [0, 20000*997 us]: floor(elapsed * rate) + 1.
  uint64_t elapsed = 20000ull * 997ull;
  CHECK_EQ(taken, elapsed * 119000ull / 1000000000ull + 1);
  CHECK(clock.us_until_due() > 0);
  CHECK(clock.us_until_due() <= 8404);
}

TEST(ring_pushes_whole_frames_and_wraps) {
  uint8_t storage[10];
  ByteRing ring(storage, sizeof storage);
  const uint8_t a[6] = {1, 2, 3, 4, 5, 6};
  CHECK(ring.push(a, 6));
  CHECK(!ring.push(a, 6));  // does not fit: nothing written
  CHECK_EQ(ring.size(), 6);
  uint8_t out[10];
  CHECK_EQ(ring.read(out, 4), 4);
  CHECK_EQ(out[3], 4);
  CHECK(ring.push(a, 6));  // wraps around the end
  CHECK_EQ(ring.size(), 8);
  const uint8_t* run = nullptr;
  CHECK_EQ(ring.peek(&run), 6);  // contiguous part up to the end of storage
  CHECK_EQ(ring.read(out, 10), 8);
  const uint8_t expected[8] = {5, 6, 1, 2, 3, 4, 5, 6};
  CHECK(memcmp(out, expected, 8) == 0);
  CHECK(ring.empty());
  CHECK(ring.push(storage, 0));
  CHECK_EQ(ring.free_space(), 10);
}
