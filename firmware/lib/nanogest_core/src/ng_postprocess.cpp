#include "ng_postprocess.h"

namespace ng {

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
  Decision d;
  size_t best = 0;
  for (size_t i = 1; i < params_.label_count; ++i) {
    if (scores[i] > scores[best]) best = i;  // ties: the lower index, like argmax
  }
  d.label_index = static_cast<uint8_t>(best);
  d.score_q = scores[best];
  d.score = params_.output_scale * static_cast<float>(static_cast<int32_t>(scores[best]) - params_.output_zero_point);
  d.detected = false;

  const int32_t label = static_cast<int32_t>(best);
  if (d.score < params_.score_threshold) {
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
