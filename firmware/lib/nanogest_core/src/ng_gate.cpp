#include "ng_gate.h"

#include <math.h>

namespace ng {

namespace {

// Channel c's four statistics; the sums are int64 so no window length can overflow them.
void channel_statistics(const int8_t* q, size_t samples, size_t c, int32_t zero_point, int32_t mean_scale,
                        int32_t* stats) {
  int32_t high = -256, low = 256;
  int64_t above = 0, below = 0;
  for (size_t t = 0; t < samples; ++t) {
    const int32_t d = static_cast<int32_t>(q[t * kImuChannels + c]) - zero_point;
    if (d > high) high = d;
    if (d < low) low = d;
    if (d > 0) above += d;
    if (d < 0) below -= d;
  }
  const int64_t w = static_cast<int64_t>(samples);
  stats[c] = high;
  stats[kImuChannels + c] = -low;
  // Rounded to the nearest step; all non-negative, so C's division truncates as Python's // floors.
  stats[2 * kImuChannels + c] = static_cast<int32_t>((mean_scale * above + w / 2) / w);
  stats[3 * kImuChannels + c] = static_cast<int32_t>((mean_scale * below + w / 2) / w);
}

int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

// The length of the three-channel vector from channel `first` of one int8 sample, in g or dps.
float vector_length(const LengthGateSettings& gate, const int8_t* sample, int32_t zero_point, size_t first) {
  float sum = 0.0f;
  for (size_t c = first; c < first + 3; ++c) {
    const float v = static_cast<float>(static_cast<int32_t>(sample[c]) - zero_point) * gate.input_scale[c] +
                    gate.input_offset[c];
    sum += v * v;
  }
  return sqrtf(sum);
}

// One sample's lengths into one sensor's running statistics (s = 0 accelerometer, 1 gyroscope): the
// sums are of each length less the window's first, so the variance is no difference of two large sums.
void add_length(LengthAccumulator& acc, size_t s, float n) {
  if (acc.samples == 0) {
    acc.origin[s] = acc.high[s] = acc.low[s] = n;
    acc.sum[s] = acc.squares[s] = 0.0f;
    return;
  }
  if (n > acc.high[s]) acc.high[s] = n;
  if (n < acc.low[s]) acc.low[s] = n;
  const float d = n - acc.origin[s];
  acc.sum[s] += d;
  acc.squares[s] += d * d;
}

}  // namespace

void length_gate_begin(LengthAccumulator& acc) { acc.samples = 0; }

void length_gate_add(const LengthGateSettings& gate, LengthAccumulator& acc, const int8_t* q, size_t samples,
                     int32_t zero_point) {
  for (size_t t = 0; t < samples; ++t, q += kImuChannels) {
    add_length(acc, 0, vector_length(gate, q, zero_point, 0));
    add_length(acc, 1, vector_length(gate, q, zero_point, 3));
    ++acc.samples;
  }
}

size_t step_new_samples(size_t chunk, size_t stride, size_t step_in_window) {
  if (step_in_window == 0) return chunk;
  return stride < chunk ? stride : chunk;
}

void length_gate_add_step(const LengthGateSettings& gate, LengthAccumulator& acc, const int8_t* x, size_t chunk,
                          size_t stride, size_t step_in_window, int32_t zero_point) {
  const size_t n = step_new_samples(chunk, stride, step_in_window);
  length_gate_add(gate, acc, x + (chunk - n) * kImuChannels, n, zero_point);
}

void length_gate_finish(const LengthAccumulator& acc, float* stats) {
  const float w = static_cast<float>(acc.samples);
  for (size_t s = 0; s < 2; ++s, stats += 4) {
    const float shift = acc.sum[s] / w;
    const float variance = acc.squares[s] / w - shift * shift;
    stats[0] = acc.high[s];
    stats[1] = acc.low[s];
    stats[2] = acc.origin[s] + shift;
    stats[3] = variance > 0.0f ? sqrtf(variance) : 0.0f;
  }
}

void length_gate_statistics(const LengthGateSettings& gate, const int8_t* q, size_t samples, int32_t zero_point,
                            float* stats) {
  LengthAccumulator acc;
  length_gate_begin(acc);
  length_gate_add(gate, acc, q, samples, zero_point);
  length_gate_finish(acc, stats);
}

bool length_gate_fires(const LengthGateSettings& gate, const LengthAccumulator& acc) {
  if (acc.samples == 0) return false;
  float stats[kLengthGateStatistics];
  length_gate_finish(acc, stats);
  return length_gate_distance(gate, stats) > gate.level;
}

float length_gate_distance(const LengthGateSettings& gate, const float* stats) {
  float d = 0.0f;
  for (size_t k = 0; k < kLengthGateStatistics; ++k) {
    const float* row = gate.weights + k * kLengthGateStatistics;
    float w = gate.bias[k];
    for (size_t j = 0; j < kLengthGateStatistics; ++j) w += row[j] * stats[j];
    d += fabsf(w);
  }
  return d;
}

void gate_statistics(const int8_t* q, size_t samples, int32_t zero_point, int32_t mean_scale, int32_t* stats) {
  for (size_t c = 0; c < kImuChannels; ++c) channel_statistics(q, samples, c, zero_point, mean_scale, stats);
}

int64_t gate_distance(const GateSettings& gate, const int32_t* stats) {
  int64_t d = 0;
  for (size_t k = 0; k < kGateStatistics; ++k) {
    const int16_t* row = gate.weights + k * kGateStatistics;
    int64_t w = gate.bias[k];
    for (size_t j = 0; j < kGateStatistics; ++j) w += static_cast<int64_t>(row[j]) * stats[j];
    d += abs64(w);
  }
  return d;
}

bool gate_fires(const GateSettings& gate, const int8_t* q, size_t samples, int32_t zero_point) {
  if (samples == 0) return false;
  if (gate.lengths != nullptr) {
    LengthAccumulator acc;
    length_gate_begin(acc);
    length_gate_add(*gate.lengths, acc, q, samples, zero_point);
    return length_gate_fires(*gate.lengths, acc);
  }
  int32_t stats[kGateStatistics];
  gate_statistics(q, samples, zero_point, gate.mean_scale, stats);
  return gate_distance(gate, stats) > gate.level;
}

void gate_override(int8_t* scores, size_t label_count, int32_t unknown_index) {
  for (size_t i = 0; i < label_count; ++i) scores[i] = -128;
  if (unknown_index >= 0 && static_cast<size_t>(unknown_index) < label_count) scores[unknown_index] = 127;
}

}  // namespace ng
