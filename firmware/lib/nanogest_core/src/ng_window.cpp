#include "ng_window.h"

namespace ng {

SampleWindow::SampleWindow(int16_t* storage, size_t window_samples, size_t hop_samples)
    : storage_(storage), window_(window_samples), hop_(hop_samples == 0 ? 1 : hop_samples) {
  reset();
}

void SampleWindow::reset() {
  next_ = 0;
  filled_ = 0;
  since_window_ = 0;
  windows_emitted_ = 0;
}

bool SampleWindow::push(const ImuCounts& sample) {
  if (window_ == 0) return false;
  int16_t* slot = storage_ + next_ * kImuChannels;
  for (size_t c = 0; c < 3; ++c) {
    slot[c] = sample.accel[c];
    slot[3 + c] = sample.gyro[c];
  }
  next_ = (next_ + 1) % window_;
  if (filled_ < window_) {
    ++filled_;
    if (filled_ < window_) return false;
    since_window_ = 0;  // the first full window
  } else if (++since_window_ < hop_) {
    return false;
  } else {
    since_window_ = 0;
  }
  ++windows_emitted_;
  return true;
}

int16_t SampleWindow::at(size_t i, size_t c) const { return sample(i)[c]; }

const int16_t* SampleWindow::sample(size_t i) const {
  // When full, the oldest sample sits where the next one will be written.
  size_t oldest = filled_ < window_ ? 0 : next_;
  return storage_ + ((oldest + i) % window_) * kImuChannels;
}

void SampleWindow::copy_oldest_first(int16_t* out) const {
  for (size_t i = 0; i < filled_; ++i) {
    for (size_t c = 0; c < kImuChannels; ++c) out[i * kImuChannels + c] = at(i, c);
  }
}

}  // namespace ng
