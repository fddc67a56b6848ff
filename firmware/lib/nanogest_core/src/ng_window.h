// The last window of IMU samples, kept in a ring of caller-provided storage (no heap).
// push() one sample at a time; it returns true when a new window is complete: first
// after `window_samples` samples, then every `hop_samples` samples. copy_oldest_first()
// reads the window in time order.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_imu.h"

namespace ng {

constexpr size_t kImuChannels = contract::kChannelCount;  // aX aY aZ gX gY gZ (ng_contract_defs.h)

class SampleWindow {
 public:
  // `storage` holds window_samples * kImuChannels counts. A hop of 0 is taken as 1.
  SampleWindow(int16_t* storage, size_t window_samples, size_t hop_samples);

  // Adds a sample; true when it completes a window.
  bool push(const ImuCounts& sample);
  // Forgets every sample (a new take or stream begins).
  void reset();

  // Counts of sample `i` (0 = oldest of the current window) and channel `c`.
  int16_t at(size_t i, size_t c) const;
  // The kImuChannels counts of sample `i` (0 = oldest), in channel order.
  const int16_t* sample(size_t i) const;
  // Copies the window, oldest sample first, channels interleaved: out[i * 6 + c].
  void copy_oldest_first(int16_t* out) const;

  size_t window_samples() const { return window_; }
  size_t hop_samples() const { return hop_; }
  size_t filled() const { return filled_; }
  uint32_t windows_emitted() const { return windows_emitted_; }

 private:
  int16_t* storage_;
  size_t window_;
  size_t hop_;
  size_t next_;    // ring slot the next sample goes to
  size_t filled_;  // samples held, up to window_
  size_t since_window_;
  uint32_t windows_emitted_;
};

}  // namespace ng
