// Fixed-rate sample scheduler without drift. Sample k is due at
//   start + floor(k * 1e9 / rate_mhz) microseconds,
// computed from the index every time, never by adding a rounded period (at
// 119 Hz a rounded 8403 us period would drift by 0.36 ms per second).
// The microsecond clock is a wrapping uint32 (like Arduino's micros()); elapsed
// time is accumulated in 64 bits, so the schedule survives the wrap as long as
// the clock is polled at least once per ~71 minutes.
#pragma once
#include <stdint.h>

namespace ng {

class SampleClock {
 public:
  SampleClock() : rate_mhz_(0), start_us_(0), last_now_us_(0), elapsed_us_(0), index_(0) {}

  // Restarts the schedule: sample 0 is due at `now_us`.
  void start(uint32_t rate_mhz, uint32_t now_us);

  // Advances the clock to `now_us`; true when the next sample is due.
  bool is_due(uint32_t now_us);

  // Device time of the next sample: start + offset, wrapping like micros().
  uint32_t due_t_us() const { return start_us_ + static_cast<uint32_t>(due_offset_us(index_)); }
  // Microseconds from start to sample `index` (exact, 64-bit).
  uint64_t due_offset_us(uint64_t index) const;
  // Microseconds until the next sample is due (0 when already due), as of the last is_due().
  uint64_t us_until_due() const;

  // Marks the next sample as taken.
  void advance() { ++index_; }

  uint64_t index() const { return index_; }
  uint32_t rate_mhz() const { return rate_mhz_; }

 private:
  uint32_t rate_mhz_;
  uint32_t start_us_;
  uint32_t last_now_us_;
  uint64_t elapsed_us_;
  uint64_t index_;
};

}  // namespace ng
