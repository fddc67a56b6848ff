#include "ng_postprocess.h"

#include <math.h>

namespace ng {

namespace {

// Sum over channels `first`..`first+2` of the variance in counts^2 (float32, fixed order).
float variance_sum_counts(const MotionAccumulator& acc, size_t first) {
  const int64_t n = static_cast<int64_t>(acc.samples);
  if (n == 0) return 0.0f;
  const float n_squared = static_cast<float>(n) * static_cast<float>(n);
  float total = 0.0f;
  for (size_t c = first; c < first + 3; ++c) {
    const int64_t spread = n * acc.squares[c] - acc.sum[c] * acc.sum[c];  // n^2 * variance, exact
    total = total + static_cast<float>(spread) / n_squared;
  }
  return total;
}

}  // namespace

void motion_begin(MotionAccumulator& acc) {
  acc.samples = 0;
  for (size_t c = 0; c < kImuChannels; ++c) acc.sum[c] = acc.squares[c] = 0;
}

void motion_add(MotionAccumulator& acc, const SampleWindow& window, size_t first, size_t count) {
  for (size_t i = first; i < first + count; ++i) {
    const int16_t* counts = window.sample(i);
    for (size_t c = 0; c < kImuChannels; ++c) {
      const int64_t v = counts[c];
      acc.sum[c] += v;
      acc.squares[c] += v * v;
    }
  }
  acc.samples += static_cast<uint32_t>(count);
}

float motion_finish(const MotionAccumulator& acc, float accel_g_per_count, float gyro_dps_per_count,
                    float accel_weight_dps_per_g) {
  const float accel_var_g2 = variance_sum_counts(acc, 0) * (accel_g_per_count * accel_g_per_count);
  const float gyro_var_dps2 = variance_sum_counts(acc, 3) * (gyro_dps_per_count * gyro_dps_per_count);
  return sqrtf(gyro_var_dps2) + accel_weight_dps_per_g * sqrtf(accel_var_g2);
}

float window_motion(const SampleWindow& window, float accel_g_per_count, float gyro_dps_per_count,
                    float accel_weight_dps_per_g) {
  MotionAccumulator acc;
  motion_begin(acc);
  motion_add(acc, window, 0, window.filled());
  return motion_finish(acc, accel_g_per_count, gyro_dps_per_count, accel_weight_dps_per_g);
}

float Postprocess::dequantize(int8_t q) const {
  return params_.output_scale * static_cast<float>(static_cast<int32_t>(q) - params_.output_zero_point);
}

Postprocess::Postprocess(const PostprocessParams& params) : params_(params) {
  if (params_.agreement == 0) params_.agreement = 1;
  reset();
}

void Postprocess::reset() {
  streak_label_ = -1;
  streak_ = 0;
  detected_before_ = false;
  last_detection_sample_ = 0;
}

Decision Postprocess::update(const int8_t* scores, uint32_t sample_index) {
  return update(scores, sample_index, params_.motion_gate);
}

Decision Postprocess::update(const int8_t* scores, uint32_t sample_index, float motion) {
  Decision d;
  size_t best = 0;
  for (size_t i = 1; i < params_.label_count; ++i) {
    if (scores[i] > scores[best]) best = i;  // ties: the lower index, like argmax
  }
  d.label_index = static_cast<uint8_t>(best);
  d.score_q = scores[best];
  d.score = dequantize(scores[best]);
  d.detected = false;

  const int32_t label = static_cast<int32_t>(best);
  const int32_t unknown = params_.unknown_index;
  if (unknown >= 0 && static_cast<size_t>(unknown) < params_.label_count) {
    const float unknown_score = dequantize(scores[unknown]);
    const bool over = params_.unknown_threshold <= 1.0f && unknown_score >= params_.unknown_threshold;
    if (label == unknown || over) {  // unknown: report it, and it is not a confident window
      d.label_index = static_cast<uint8_t>(unknown);
      d.score_q = scores[unknown];
      d.score = unknown_score;
      streak_label_ = -1;
      streak_ = 0;
      return d;
    }
  }
  const bool still = params_.motion_gate > 0.0f && motion < params_.motion_gate;
  if (d.score < params_.score_threshold || still) {
    streak_label_ = -1;
    streak_ = 0;
    return d;
  }
  if (label == streak_label_) {
    if (streak_ < params_.agreement) ++streak_;
  } else {
    streak_label_ = label;
    streak_ = 1;
  }
  if (label == params_.idle_index || streak_ < params_.agreement) return d;
  // Unsigned difference: correct across the uint32 wrap of the sample counter.
  if (detected_before_ && sample_index - last_detection_sample_ < params_.refractory_samples) return d;
  d.detected = true;
  detected_before_ = true;
  last_detection_sample_ = sample_index;
  // A detection starts a new streak: the same gesture must agree again to fire again.
  streak_label_ = -1;
  streak_ = 0;
  return d;
}

}  // namespace ng
