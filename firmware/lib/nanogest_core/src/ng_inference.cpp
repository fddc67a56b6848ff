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
  p.motion_gate = s.motion_gate > 0.0f ? s.motion_gate : 0.0f;
  p.unknown_index = s.unknown_index;
  p.unknown_threshold = s.unknown_threshold;
  return p;
}

InferencePipeline::InferencePipeline(const ModelSettings& settings, const InferenceBuffers& buffers,
                                     ModelRunner& runner, MicrosClock clock_us)
    : settings_(settings),
      buffers_(buffers),
      runner_(runner),
      clock_us_(clock_us),
      window_(buffers.window_counts, settings.window_samples, settings.hop_samples),
      resampler_(),
      resampler_ok_(true),
      postprocess_(postprocess_params(settings)),
      samples_seen_(0),
      failures_(0),
      step_(),
      step_buffers_(),
      step_in_window_(0),
      step_windows_(0),
      window_us_(0),
      window_lengths_(),
      window_motion_() {}

InferencePipeline::InferencePipeline(const ModelSettings& settings, const StepModelSettings& step,
                                     const InferenceBuffers& buffers, const StepBuffers& step_buffers,
                                     ModelRunner& runner, MicrosClock clock_us)
    : settings_(settings),
      buffers_(buffers),
      runner_(runner),
      clock_us_(clock_us),
      window_(buffers.window_counts, step.step_input_samples, step.step_stride_samples),
      resampler_(),
      resampler_ok_(true),
      postprocess_(postprocess_params(settings)),
      samples_seen_(0),
      failures_(0),
      step_(step),
      step_buffers_(step_buffers),
      step_in_window_(0),
      step_windows_(0),
      window_us_(0),
      window_lengths_(),
      window_motion_() {
  reset_state(step_, step_buffers_.state);
}

void InferencePipeline::reset() {
  window_.reset();
  resampler_.reset();
  postprocess_.reset();
  runner_.ResetState();
  samples_seen_ = 0;
  step_in_window_ = 0;
  step_windows_ = 0;
  window_us_ = 0;
  if (step_.is_step_model) reset_state(step_, step_buffers_.state);
}

InputParams InferencePipeline::input_params(const ImuInfo& imu) const {
  InputParams params;
  params.accel_g_per_count = imu.accel_g_per_count;
  params.gyro_dps_per_count = imu.gyro_dps_per_count;
  params.mean = settings_.mean;
  params.std = settings_.std;
  params.input_scale = settings_.input_scale;
  params.input_zero_point = settings_.input_zero_point;
  return params;
}

WindowResult InferencePipeline::push_step(const ImuCounts& sample, const ImuInfo& imu) {
  WindowResult r;
  r.ran = false;
  r.status = InvokeStatus::kOk;
  r.inference_us = 0;
  r.window_index = step_windows_;
  r.decision = Decision{0, 0, 0.0f, false};
  r.motion = 0.0f;
  ++samples_seen_;
  if (!window_.push(sample)) return r;  // not a step yet

  if (step_in_window_ == 0) {  // a window starts from h = 0
    reset_state(step_, step_buffers_.state);
    window_us_ = 0;
  }
  window_to_input(window_, input_params(imu), buffers_.input);
  const LengthGateSettings* lengths = settings_.gate != nullptr ? settings_.gate->lengths : nullptr;
  if (lengths != nullptr) {
    if (step_in_window_ == 0) length_gate_begin(window_lengths_);
    length_gate_add_step(*lengths, window_lengths_, buffers_.input, step_.step_input_samples,
                         step_.step_stride_samples, step_in_window_, settings_.input_zero_point);
  }
  // The motion of the samples the window's steps read, each once, like the gate's lengths: what the
  // window's scores come from, and all a step model ever holds of its window.
  const bool gated = settings_.motion_gate > 0.0f;
  if (gated) {
    if (step_in_window_ == 0) motion_begin(window_motion_);
    const size_t chunk = step_.step_input_samples;
    const size_t n = step_new_samples(chunk, step_.step_stride_samples, step_in_window_);
    motion_add(window_motion_, window_, chunk - n, n);
  }
  const uint32_t start_us = clock_us_ != nullptr ? clock_us_() : 0;
  r.status = runner_.InvokeStep(buffers_.input, input_count(), step_buffers_.state, step_.state_size,
                                step_buffers_.state_next, buffers_.output, settings_.label_count);
  window_us_ += clock_us_ != nullptr ? clock_us_() - start_us : 0;
  if (r.status != InvokeStatus::kOk) {  // give up this window; the next one starts afresh
    ++failures_;
    r.ran = true;
    r.inference_us = window_us_;
    ++step_windows_;
    step_in_window_ = 0;
    return r;
  }
  carry_state(step_, step_buffers_.state_next, step_buffers_.state);
  if (++step_in_window_ < step_.steps_per_window) return r;

  step_in_window_ = 0;  // this step completes a window: its scores are the window's
  ++step_windows_;
  r.ran = true;
  r.inference_us = window_us_;
  // A window unlike the training windows is unknown whatever the model scored (ng_gate.h).
  if (lengths != nullptr && length_gate_fires(*lengths, window_lengths_)) {
    gate_override(buffers_.output, settings_.label_count, settings_.unknown_index);
  }
  if (gated) {
    r.motion = motion_finish(window_motion_, imu.accel_g_per_count, imu.gyro_dps_per_count,
                             settings_.motion_accel_weight);
  }
  r.decision = postprocess_.update(buffers_.output, samples_seen_, r.motion);
  return r;
}

size_t InferencePipeline::push_imu(const ImuCounts& sample, const ImuInfo& imu, WindowResult* results) {
  if (imu.rate_mhz != resampler_.in_rate_mhz() || settings_.rate_mhz != resampler_.out_rate_mhz()) {
    resampler_ok_ = resampler_.configure(imu.rate_mhz, settings_.rate_mhz);  // a new IMU rate: a new stream
  }
  if (!resampler_ok_) {
    results[0] = WindowResult{true, InvokeStatus::kBadRate, Decision{0, 0, 0.0f, false}, 0, 0, 0.0f};
    ++failures_;
    return 1;
  }
  ImuCounts resampled[kMaxResampleOutputs];
  const size_t n = resampler_.push(sample, resampled);
  size_t ran = 0;
  for (size_t i = 0; i < n; ++i) {
    const WindowResult r = push(resampled[i], imu);
    if (r.ran) results[ran++] = r;
  }
  return ran;
}

WindowResult InferencePipeline::push(const ImuCounts& sample, const ImuInfo& imu) {
  WindowResult r;
  r.ran = false;
  r.status = InvokeStatus::kOk;
  r.inference_us = 0;
  r.window_index = 0;
  r.decision = Decision{0, 0, 0.0f, false};
  r.motion = 0.0f;
  if (step_.is_step_model) return push_step(sample, imu);
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
  r.motion = settings_.motion_gate > 0.0f
                 ? window_motion(window_, imu.accel_g_per_count, imu.gyro_dps_per_count, settings_.motion_accel_weight)
                 : 0.0f;
  // A window unlike the training windows is unknown whatever the model scored (ng_gate.h).
  if (settings_.gate != nullptr &&
      gate_fires(*settings_.gate, buffers_.input, settings_.window_samples, settings_.input_zero_point)) {
    gate_override(buffers_.output, settings_.label_count, settings_.unknown_index);
  }
  r.decision = postprocess_.update(buffers_.output, samples_seen_, r.motion);
  return r;
}

}  // namespace ng
