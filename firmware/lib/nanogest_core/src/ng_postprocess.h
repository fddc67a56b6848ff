// From one window's int8 class scores to "a gesture happened": the top-1 label must
// score at least `score_threshold`, be the top-1 (above threshold) of the last
// `agreement` windows in a row, not be the idle label, and come at least
// `refractory_samples` samples after the previous detection. With a motion gate, a
// window that barely moves (window_motion() below `motion_gate`) counts as not confident:
// a resting hand never fires, whatever the model says. A step model's window is measured over
// the samples its steps read, gathered step by step (MotionAccumulator).
// With an unknown label (`unknown_index` >= 0), a window whose top-1 is that label, or
// whose dequantized score for it is at least `unknown_threshold`, is unknown: the decision
// reports the unknown label with its own score, and the window counts as not confident.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_contract_defs.h"
#include "ng_window.h"

namespace ng {

struct PostprocessParams {
  size_t label_count;
  int32_t idle_index;        // -1: no idle label
  float score_threshold;     // 0..1, on the dequantized score
  float output_scale;        // score = output_scale * (q - output_zero_point)
  int32_t output_zero_point;
  uint32_t agreement;        // windows in a row that must agree (1: every window decides alone)
  uint32_t refractory_samples;
  float motion_gate;          // minimum window_motion() to detect; 0: no gate
  int32_t unknown_index;      // -1: no unknown label
  float unknown_threshold;    // unknown when its score reaches this; > 1 (kUnknownThresholdOff): only as top-1
};

// An unknown threshold no score reaches (scores are probabilities): a window is unknown only
// when the unknown label is its top-1. The converter writes it for a contract's null threshold.
constexpr float kUnknownThresholdOff = contract::kUnknownThresholdOff;

// The contract's defaults for what the settings do not decide (contract/pipeline.py, generated
// into ng_contract_defs.h): how many windows must agree, and how long between detections.
constexpr uint32_t kDefaultAgreement = contract::kDefaultAgreement;
constexpr float kDefaultRefractorySeconds = contract::kDefaultRefractorySeconds;

// How much a window moves, from its raw counts: the RMS deviation from the window mean of
// the gyroscope (deg/s, over the 3 axes) plus `accel_weight_dps_per_g` times that of the
// accelerometer (g): sqrt(var_gX + var_gY + var_gZ) + w * sqrt(var_aX + var_aY + var_aZ).
// Computed exactly in integers per channel (n^2 * variance), then in float32 in a fixed
// order, so converter/postprocess.py reproduces it bit for bit.
float window_motion(const SampleWindow& window, float accel_g_per_count, float gyro_dps_per_count,
                    float accel_weight_dps_per_g);

// window_motion's sums gathered sample by sample, so a step model's pipeline can measure a window it
// never holds. The sums are exact integers, so any order of the same samples gives the same motion;
// window_motion is motion_begin, motion_add of every sample, motion_finish. 104 bytes (int64 aligned).
struct MotionAccumulator {
  uint32_t samples;
  int64_t sum[kImuChannels];      // counts
  int64_t squares[kImuChannels];  // counts^2
};
void motion_begin(MotionAccumulator& acc);
// Adds samples first..first+count-1 of `window` (0 = its oldest).
void motion_add(MotionAccumulator& acc, const SampleWindow& window, size_t first, size_t count);
// The motion of the samples added since motion_begin (0 with none).
float motion_finish(const MotionAccumulator& acc, float accel_g_per_count, float gyro_dps_per_count,
                    float accel_weight_dps_per_g);

struct Decision {
  uint8_t label_index;  // top-1 of this window (the unknown label when the window is unknown)
  int8_t score_q;       // its raw int8 score
  float score;          // dequantized, 0..1
  bool detected;        // the postprocessing fired on this window
};

class Postprocess {
 public:
  explicit Postprocess(const PostprocessParams& params);

  // One window's scores (label_count int8 values) ending at sample `sample_index`, and
  // its window_motion() (ignored without a gate).
  Decision update(const int8_t* scores, uint32_t sample_index, float motion);
  // The same without a motion measure: the gate never closes.
  Decision update(const int8_t* scores, uint32_t sample_index);
  void reset();

  const PostprocessParams& params() const { return params_; }

 private:
  float dequantize(int8_t q) const;  // output_scale * (q - output_zero_point), float32

  PostprocessParams params_;
  int32_t streak_label_;  // label of the current run of confident windows (-1: none)
  uint32_t streak_;
  bool detected_before_;
  uint32_t last_detection_sample_;
};

}  // namespace ng
