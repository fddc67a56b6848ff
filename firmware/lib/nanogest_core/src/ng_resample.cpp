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
  const int64_t product = static_cast<int64_t>(static_cast<int32_t>(x1) - static_cast<int32_t>(x0)) *
                          static_cast<int64_t>(r);
  const int64_t magnitude = product < 0 ? -product : product;
  const int64_t rounded = (2 * magnitude + static_cast<int64_t>(den)) / (2 * static_cast<int64_t>(den));
  const int64_t y = static_cast<int64_t>(x0) + (product < 0 ? -rounded : rounded);
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
