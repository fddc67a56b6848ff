#include "ng_input.h"

#include <math.h>

namespace ng {

int8_t quantize_to_int8(float value, float scale, int32_t zero_point) {
  float scaled = value / scale;
  if (scaled != scaled) scaled = 0.0f;  // NaN
  // Clamp before converting so a huge value cannot overflow the integer conversion.
  if (scaled > 1000.0f) scaled = 1000.0f;
  if (scaled < -1000.0f) scaled = -1000.0f;
  int32_t q = static_cast<int32_t>(roundf(scaled)) + zero_point;  // roundf: half away from zero
  if (q < -128) q = -128;
  if (q > 127) q = 127;
  return static_cast<int8_t>(q);
}

float normalized_value(int16_t counts, size_t c, const InputParams& params) {
  const float per_count = c < 3 ? params.accel_g_per_count : params.gyro_dps_per_count;
  const float physical = static_cast<float>(counts) * per_count;
  const float centred = physical - params.mean[c];
  return centred / params.std[c];
}

void window_to_input(const SampleWindow& window, const InputParams& params, int8_t* out) {
  for (size_t i = 0; i < window.filled(); ++i) {
    for (size_t c = 0; c < kImuChannels; ++c) {
      out[i * kImuChannels + c] =
          quantize_to_int8(normalized_value(window.at(i, c), c, params), params.input_scale, params.input_zero_point);
    }
  }
}

}  // namespace ng
