// The model's input tensor from a window of counts:
//   counts -> physical units (count * g or deg/s per count, the IMU's own scales)
//   -> normalized ((x - mean[c]) / std[c], the contract's values)
//   -> int8 (round half away from zero of x / scale, plus zero point, clamped to
//      [-128, 127]; exactly TFLite's QUANTIZE with the input tensor's parameters).
// Every step is one float32 operation in this order, the same as numpy float32 on
// the host, so the host can predict the tensor byte for byte. Build with
// -ffp-contract=off so the compiler does not fuse a multiply and a subtract.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_imu.h"
#include "ng_window.h"

namespace ng {

struct InputParams {
  float accel_g_per_count;
  float gyro_dps_per_count;
  const float* mean;  // kImuChannels values
  const float* std;   // kImuChannels values, all > 0
  float input_scale;  // > 0
  int32_t input_zero_point;
};

// One normalized value -> int8, as TFLite quantizes (NaN gives the zero point).
int8_t quantize_to_int8(float value, float scale, int32_t zero_point);

// The normalized float of one count of channel `c`.
float normalized_value(int16_t counts, size_t c, const InputParams& params);

// Fills out[i * kImuChannels + c] for every sample of the (full) window.
void window_to_input(const SampleWindow& window, const InputParams& params, int8_t* out);

}  // namespace ng
