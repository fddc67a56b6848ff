// The novelty gate: a window whose int8 input statistics lie far from the training windows' is
// unknown. converter/gate.py is the same computation in Python, bit for bit (tests/firmware/
// test_gate_golden.py); the constants come from the contract's novelty_gate through the generated
// model_settings.h (kGate*). A windowed model's pipeline gates each window's input; a step model's
// gates each window of its steps with the vector lengths only (LengthAccumulator below).
//
// Two kinds of statistics. The vector lengths (LengthGateSettings below) are what `nanogest fit`
// gives; the window statistics are what runs fitted before them carry:
// statistics of the input window q[t][c] (zero point z), int32, kGateStatistics of them in this
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
constexpr size_t kLengthGateStatistics = 8;

// The gate of the vector lengths (the contract's novelty_gate.statistics "lengths"): per sample, the
// accelerometer's and the gyroscope's vector length, each channel taken back to g or dps from the int8
// input as (q - z) * input_scale[c] + input_offset[c]. Statistics, in this order for the accelerometer
// then the gyroscope: max, min, mean and std of the length over the window (the sums of each length
// less the first sample's: mean = first + sum / W, variance = squares / W - (sum / W)^2, std 0 when
// that is not above 0). Distance d = sum_k |bias[k] + sum_j weights[k][j] * stats[j]|; fires when d > level.
// All in float32, each sum in the order written, so converter/gate.py repeats it exactly (the core is
// built with -ffp-contract=off; sqrtf is correctly rounded on the board's FPU and the host's).
struct LengthGateSettings {
  const float* input_scale;   // kImuChannels
  const float* input_offset;  // kImuChannels
  const float* weights;       // kLengthGateStatistics x kLengthGateStatistics, row-major
  const float* bias;          // kLengthGateStatistics
  float level;
};

struct GateSettings {
  int32_t mean_scale;      // the means' whole-number steps per input step (converter.gate.MEAN_SCALE)
  const int16_t* weights;  // kGateStatistics x kGateStatistics, row-major
  const int64_t* bias;     // kGateStatistics
  int64_t level;           // fires when the distance is above it
  const LengthGateSettings* lengths;  // not null: the gate reads the vector lengths, and the rest is unused
};

// The window's statistics (q: samples x kImuChannels, time-major, as the model reads it).
void gate_statistics(const int8_t* q, size_t samples, int32_t zero_point, int32_t mean_scale, int32_t* stats);
int64_t gate_distance(const GateSettings& gate, const int32_t* stats);
// The vector-length gate's statistics and distance (LengthGateSettings).
void length_gate_statistics(const LengthGateSettings& gate, const int8_t* q, size_t samples, int32_t zero_point,
                            float* stats);
float length_gate_distance(const LengthGateSettings& gate, const float* stats);

// The vector lengths' statistics gathered sample by sample, in the float32 operations and order of
// length_gate_statistics (which is begin, add every sample, finish), so a step model's pipeline can
// gather them over a window it never holds. 44 bytes.
struct LengthAccumulator {
  uint32_t samples;  // added since length_gate_begin
  float origin[2], high[2], low[2], sum[2], squares[2];  // [0] the accelerometer, [1] the gyroscope
};
void length_gate_begin(LengthAccumulator& acc);
// Adds `samples` int8 samples (time-major) in order.
void length_gate_add(const LengthGateSettings& gate, LengthAccumulator& acc, const int8_t* q, size_t samples,
                     int32_t zero_point);
void length_gate_finish(const LengthAccumulator& acc, float* stats);
// Whether the statistics gathered so far lie beyond the level (false with no sample).
bool length_gate_fires(const LengthGateSettings& gate, const LengthAccumulator& acc);
// A step model's steps read `chunk` samples every `stride` (ng_step.h): step 0 of a window brings all of its
// chunk, a later step its last min(stride, chunk) samples, so each sample a window's steps read counts once, in
// order (converter/gate.py step_window_samples).
size_t step_new_samples(size_t chunk, size_t stride, size_t step_in_window);
// Adds what step `step_in_window` of a window brings from its input x (chunk samples).
void length_gate_add_step(const LengthGateSettings& gate, LengthAccumulator& acc, const int8_t* x, size_t chunk,
                          size_t stride, size_t step_in_window, int32_t zero_point);
bool gate_fires(const GateSettings& gate, const int8_t* q, size_t samples, int32_t zero_point);
// What the post-processing gets for a window the gate fires on: -128 for every label, 127 for
// the unknown one, so it reports unknown exactly as for a model that scored it so.
void gate_override(int8_t* scores, size_t label_count, int32_t unknown_index);

}  // namespace ng
