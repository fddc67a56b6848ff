#include "ng_inference.h"

namespace ng {

PostprocessParams postprocess_params(const ModelSettings& s) {
  PostprocessParams p;
  p.label_count = s.label_count;
  p.idle_index = s.idle_index;
  p.score_threshold = s.score_threshold;
  p.output_scale = s.output_scale;
  p.output_zero_point = s.output_zero_point;
  p.agreement = s.agreement != 0 ? s.agreement : kDefaultAgreement;
  p.refractory_samples = s.refractory_samples != 0
                             ? s.refractory_samples
                             : static_cast<uint32_t>(static_cast<float>(s.rate_mhz) / 1000.0f * kDefaultRefractorySeconds);
  return p;
}

InferencePipeline::InferencePipeline(const ModelSettings& settings, const InferenceBuffers& buffers,
                                     ModelRunner& runner, MicrosClock clock_us)
    : settings_(settings),
      buffers_(buffers),
      runner_(runner),
      clock_us_(clock_us),
      window_(buffers.window_counts, settings.window_samples, settings.hop_samples),
      postprocess_(postprocess_params(settings)),
      samples_seen_(0),
      failures_(0) {}

void InferencePipeline::reset() {
  window_.reset();
  postprocess_.reset();
  runner_.ResetState();
  samples_seen_ = 0;
}

WindowResult InferencePipeline::push(const ImuCounts& sample, const ImuInfo& imu) {
  WindowResult r;
  r.ran = false;
  r.status = InvokeStatus::kOk;
  r.inference_us = 0;
  r.window_index = 0;
  r.decision = Decision{0, 0, 0.0f, false};
  ++samples_seen_;
  if (!window_.push(sample)) return r;

  InputParams params;
  params.accel_g_per_count = imu.accel_g_per_count;
  params.gyro_dps_per_count = imu.gyro_dps_per_count;
  params.mean = settings_.mean;
  params.std = settings_.std;
  params.input_scale = settings_.input_scale;
  params.input_zero_point = settings_.input_zero_point;
  window_to_input(window_, params, buffers_.input);

  r.ran = true;
  r.window_index = window_.windows_emitted() - 1;
  const uint32_t start_us = clock_us_ != nullptr ? clock_us_() : 0;
  r.status = runner_.Invoke(buffers_.input, input_count(), buffers_.output, settings_.label_count);
  r.inference_us = clock_us_ != nullptr ? clock_us_() - start_us : 0;
  if (r.status != InvokeStatus::kOk) {
    ++failures_;
    return r;
  }
  r.decision = postprocess_.update(buffers_.output, samples_seen_);
  return r;
}

}  // namespace ng
