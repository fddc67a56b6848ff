// The on-device recognition path for windowed models:
//   IMU counts -> Resampler (IMU rate -> the model's, ng_resample) -> SampleWindow
//   -> int8 input (ng_input) -> ModelRunner -> novelty gate (ng_gate) -> Postprocess
// The model's settings arrive as a ModelSettings struct: on the real board built from
// the converter's generated model_settings.h, on the virtual board read at start-up
// from the run directory. All buffers are the caller's (no heap).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_gate.h"
#include "ng_imu.h"
#include "ng_input.h"
#include "ng_model_runner.h"
#include "ng_postprocess.h"
#include "ng_resample.h"
#include "ng_step.h"
#include "ng_window.h"

namespace ng {

struct ModelSettings {
  size_t label_count;
  const char* const* labels;  // label_count names
  int32_t idle_index;         // -1: none
  float score_threshold;
  uint32_t rate_mhz;          // the rate the model was trained at
  size_t window_samples;
  size_t hop_samples;
  const float* mean;          // kImuChannels values
  const float* std;           // kImuChannels values
  float input_scale;
  int32_t input_zero_point;
  float output_scale;
  int32_t output_zero_point;
  uint32_t model_hash;
  uint32_t agreement;           // 0: kDefaultAgreement
  uint32_t refractory_samples;  // 0: kDefaultRefractorySeconds at rate_mhz
  float motion_gate;            // minimum window_motion() to detect (ng_postprocess.h); 0: no gate
  float motion_accel_weight;    // dps per g: how the accelerometer weighs into window_motion()
  int32_t unknown_index;        // -1: no unknown label (ng_postprocess.h)
  float unknown_threshold;      // > 1 (kUnknownThresholdOff): unknown only as top-1
  const GateSettings* gate;     // nullptr: no novelty gate (ng_gate.h); a step model's reads only its lengths
};

// Buffers sized for one model: window_samples * kImuChannels counts and int8 inputs,
// label_count int8 outputs.
struct InferenceBuffers {
  int16_t* window_counts;
  int8_t* input;
  int8_t* output;
};

struct WindowResult {
  bool ran;              // a window completed and the model ran
  InvokeStatus status;   // kOk unless the runner failed
  Decision decision;
  uint32_t inference_us;
  uint32_t window_index; // windows completed since reset(), from 0
  float motion;          // the window_motion() handed to the post-processing (0 without a motion gate)
};

typedef uint32_t (*MicrosClock)();

class InferencePipeline {
 public:
  InferencePipeline(const ModelSettings& settings, const InferenceBuffers& buffers, ModelRunner& runner,
                    MicrosClock clock_us);
  // A step model (step.is_step_model, see ng_step.h): window_counts and input hold
  // step_input_samples * kImuChannels values, `step_buffers` the state. One runner step
  // every step_stride_samples samples; a window (and a WindowResult with ran = true) every
  // steps_per_window steps. window_samples / hop_samples of `settings` are not used. A gate of the
  // vector lengths (settings.gate->lengths) gathers each window's samples step by step; a step model
  // ignores a gate of the window statistics (ng_header_settings.h refuses one). The motion gate's
  // measure is gathered the same way, over the same samples (MotionAccumulator, ng_postprocess.h).
  InferencePipeline(const ModelSettings& settings, const StepModelSettings& step, const InferenceBuffers& buffers,
                    const StepBuffers& step_buffers, ModelRunner& runner, MicrosClock clock_us);

  // Feeds one IMU sample at imu.rate_mhz: resamples it to the model's rate (settings.rate_mhz;
  // untouched when they are equal) and pushes every resulting sample. Writes the results of the
  // windows it completes to results[0..] (at most kMaxResampleOutputs) and returns how many.
  // A model rate the resampler cannot reach from the IMU's (more than kMaxResampleOutputs
  // times higher) gives one result with status kBadRate.
  size_t push_imu(const ImuCounts& sample, const ImuInfo& imu, WindowResult* results);
  // Feeds one sample already at the model's rate; runs the model when it completes a window.
  WindowResult push(const ImuCounts& sample, const ImuInfo& imu);
  // A new take or stream: empties the window and resets postprocessing and runner state.
  void reset();

  const ModelSettings& settings() const { return settings_; }
  size_t input_count() const {
    return (step_.is_step_model ? step_.step_input_samples : settings_.window_samples) * kImuChannels;
  }
  bool is_step_model() const { return step_.is_step_model; }
  const StepModelSettings& step_settings() const { return step_; }
  const int8_t* state() const { return step_buffers_.state; }
  const int8_t* last_input() const { return buffers_.input; }
  uint32_t failures() const { return failures_; }
  const Resampler& resampler() const { return resampler_; }

 private:
  ModelSettings settings_;
  InferenceBuffers buffers_;
  ModelRunner& runner_;
  MicrosClock clock_us_;
  SampleWindow window_;
  Resampler resampler_;
  bool resampler_ok_;
  Postprocess postprocess_;
  uint32_t samples_seen_;
  uint32_t failures_;
  // Step models only (zero for windowed ones).
  StepModelSettings step_;
  StepBuffers step_buffers_;
  size_t step_in_window_;   // steps done in the current window
  uint32_t step_windows_;   // windows completed since reset()
  uint32_t window_us_;      // invoke time of the current window's steps
  LengthAccumulator window_lengths_;  // the novelty gate's statistics of the current window's samples
  MotionAccumulator window_motion_;   // the motion gate's sums of the same samples (104 bytes)

  InputParams input_params(const ImuInfo& imu) const;
  WindowResult push_step(const ImuCounts& sample, const ImuInfo& imu);
};

// The postprocessing parameters a ModelSettings implies (defaults filled in).
PostprocessParams postprocess_params(const ModelSettings& settings);

}  // namespace ng
