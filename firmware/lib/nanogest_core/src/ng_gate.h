// The novelty gate: a window whose int8 input statistics lie far from the training windows' is
// unknown. converter/gate.py is the same computation in Python, bit for bit (tests/firmware/
// test_gate_golden.py); the constants come from the contract's novelty_gate through the generated
// model_settings.h (kGate*). Only windowed models have one: a step model's pipeline never gates.
//
// Statistics of the input window q[t][c] (zero point z), int32, kGateStatistics of them in this
// order: per channel max_t(q) - z, then per channel z - min_t(q), then per channel
// (mean_scale * sum_t max(q - z, 0) + W / 2) / W, then the same of max(z - q, 0) (the means
// rounded to 1/mean_scale input steps; integer division of non-negative numbers).
// Distance d = sum_k |weights[k] . stats + bias[k]| in int64; the gate fires when d > level.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_window.h"  // kImuChannels

namespace ng {

constexpr size_t kGateStatistics = 4 * kImuChannels;

struct GateSettings {
  int32_t mean_scale;      // the means' whole-number steps per input step (converter.gate.MEAN_SCALE)
  const int16_t* weights;  // kGateStatistics x kGateStatistics, row-major
  const int64_t* bias;     // kGateStatistics
  int64_t level;           // fires when the distance is above it
};

// The window's statistics (q: samples x kImuChannels, time-major, as the model reads it).
void gate_statistics(const int8_t* q, size_t samples, int32_t zero_point, int32_t mean_scale, int32_t* stats);
int64_t gate_distance(const GateSettings& gate, const int32_t* stats);
bool gate_fires(const GateSettings& gate, const int8_t* q, size_t samples, int32_t zero_point);
// What the post-processing gets for a window the gate fires on: -128 for every label, 127 for
// the unknown one, so it reports unknown exactly as for a model that scored it so.
void gate_override(int8_t* scores, size_t label_count, int32_t unknown_index);

}  // namespace ng
