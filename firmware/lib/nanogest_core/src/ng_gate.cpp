#include "ng_gate.h"

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

}  // namespace

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
  int32_t stats[kGateStatistics];
  gate_statistics(q, samples, zero_point, gate.mean_scale, stats);
  return gate_distance(gate, stats) > gate.level;
}

void gate_override(int8_t* scores, size_t label_count, int32_t unknown_index) {
  for (size_t i = 0; i < label_count; ++i) scores[i] = -128;
  if (unknown_index >= 0 && static_cast<size_t>(unknown_index) < label_count) scores[unknown_index] = 127;
}

}  // namespace ng
