#include "ng_resample.h"

namespace ng {

namespace {

uint32_t gcd(uint32_t a, uint32_t b) {
  while (b != 0) {
    uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

}  // namespace

int16_t resample_lerp(int16_t x0, int16_t x1, uint32_t r, uint32_t den) {
  if (r == 0) return x0;
  const int32_t diff = static_cast<int32_t>(x1) - static_cast<int32_t>(x0);  // |diff| <= 65535
  const uint32_t magnitude_diff = static_cast<uint32_t>(diff < 0 ? -diff : diff);
  uint32_t rounded;
  if (den <= 32767u) {
    // |diff| * r < 2^16 * 2^15, so 2 * |diff| * r + den fits 32 bits: the Cortex-M4's own divide.
    rounded = (2u * magnitude_diff * r + den) / (2u * den);
  } else {  // the same quotient in 64 bits
    const uint64_t m = static_cast<uint64_t>(magnitude_diff) * r;
    rounded = static_cast<uint32_t>((2u * m + den) / (2u * static_cast<uint64_t>(den)));
  }
  const int32_t y = static_cast<int32_t>(x0) + (diff < 0 ? -static_cast<int32_t>(rounded) : static_cast<int32_t>(rounded));
  return static_cast<int16_t>(y);  // between x0 and x1, so within int16
}

Resampler::Resampler() : in_rate_mhz_(0), out_rate_mhz_(0), step_(1), den_(1), have_prev_(false), prev_(), phase_(0) {}

bool Resampler::configure(uint32_t in_rate_mhz, uint32_t out_rate_mhz) {
  in_rate_mhz_ = in_rate_mhz;
  out_rate_mhz_ = out_rate_mhz;
  step_ = 1;
  den_ = 1;
  reset();
  if (in_rate_mhz == 0 || out_rate_mhz == 0) return false;
  if (static_cast<uint64_t>(out_rate_mhz) > static_cast<uint64_t>(kMaxResampleOutputs) * in_rate_mhz) return false;
  const uint32_t g = gcd(in_rate_mhz, out_rate_mhz);
  step_ = in_rate_mhz / g;
  den_ = out_rate_mhz / g;
  return true;
}

void Resampler::reset() {
  have_prev_ = false;
  phase_ = 0;
}

size_t Resampler::push(const ImuCounts& in, ImuCounts* out) {
  if (step_ == den_) {  // equal rates: untouched
    out[0] = in;
    return 1;
  }
  size_t n = 0;
  if (!have_prev_) {  // input 0 is output 0
    out[n++] = in;
    prev_ = in;
    have_prev_ = true;
    phase_ = step_;
    return n;
  }
  // Outputs at (0, den] after prev_ lie between prev_ and `in`.
  while (phase_ <= den_ && n < kMaxResampleOutputs) {
    for (size_t c = 0; c < 3; ++c) {
      out[n].accel[c] = resample_lerp(prev_.accel[c], in.accel[c], phase_, den_);
      out[n].gyro[c] = resample_lerp(prev_.gyro[c], in.gyro[c], phase_, den_);
    }
    ++n;
    phase_ += step_;
  }
  phase_ -= den_;
  prev_ = in;
  return n;
}

}  // namespace ng
