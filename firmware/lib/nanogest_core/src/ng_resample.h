// The fixed-ratio resampler: the IMU's stream at its own rate -> the model's rate, so a model
// trained at any rate runs on either board revision (Rev1 LSM9DS1 119 Hz, Rev2 BMI270 100 Hz).
// The laptop's copy is contract/resample.py (training resamples recorded takes with it, replay
// predicts the board with it); a golden test compares the two on the same counts.
//
// The arithmetic, stated once (all integer, so both languages give the same int16):
//   rates in millihertz; g = gcd(in, out); step = in / g; den = out / g.
//   Output sample k lies at input position k * step / den; output 0 is input 0.
//   With i = floor(k * step / den) and r = k * step - i * den (0 <= r < den):
//     y_k = x_i                                             when r == 0
//     y_k = x_i + round_half_away((x_{i+1} - x_i) * r / den)  otherwise
//   per channel, in exact integer arithmetic (32 bits while den <= 32767, else 64). Equal rates give step = den = 1: every sample
//   passes through unchanged. No low-pass filter: going down (119 -> 50 Hz) keeps the
//   linearly interpolated values, as training sees them.
// Streaming: output k is produced when the input sample at or after its position arrives
// (y_k needs x_{i+1} only when r > 0), so n inputs give every k with k * step <= (n-1) * den,
// exactly the outputs the laptop computes for a take of n samples.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_contract_defs.h"
#include "ng_imu.h"

namespace ng {

// The most outputs one input can produce: the model's rate may be at most this many times the IMU's
// (contract/resample.py MAX_RESAMPLE_OUTPUTS, generated into ng_contract_defs.h).
constexpr size_t kMaxResampleOutputs = contract::kMaxResampleOutputs;

class Resampler {
 public:
  Resampler();
  // Sets the ratio (and forgets the stream). False, and the resampler passes samples through,
  // when a rate is 0 or out_rate_mhz > kMaxResampleOutputs * in_rate_mhz.
  bool configure(uint32_t in_rate_mhz, uint32_t out_rate_mhz);
  // A new take or stream: the next input is output 0.
  void reset();
  // Feeds one input sample; writes the outputs it completes to out[0..] (at most
  // kMaxResampleOutputs) and returns how many.
  size_t push(const ImuCounts& in, ImuCounts* out);

  bool passes_through() const { return step_ == den_; }
  uint32_t in_rate_mhz() const { return in_rate_mhz_; }
  uint32_t out_rate_mhz() const { return out_rate_mhz_; }
  uint32_t step() const { return step_; }
  uint32_t den() const { return den_; }

 private:
  uint32_t in_rate_mhz_;
  uint32_t out_rate_mhz_;
  uint32_t step_;
  uint32_t den_;
  bool have_prev_;
  ImuCounts prev_;
  // Position of the next output after prev_, in 1/den of an input sample (0 < phase_ <= step_
  // after each push): it is due once the input at or after it has arrived.
  uint32_t phase_;
};

// One channel of y_k: x0 + round_half_away((x1 - x0) * r / den), 0 <= r <= den.
int16_t resample_lerp(int16_t x0, int16_t x1, uint32_t r, uint32_t den);

}  // namespace ng
