// The model's settings built from the converter's generated model_settings.h, in one place: the
// real board (firmware/src/main.cpp) and the virtual board's default model
// (firmware/host/default_model.cpp) both take their ng::ModelSettings and ng::StepModelSettings
// from here, field by field by name. A constant an older or windowed model's header lacks comes
// from ng_model_defaults.h, generated from the Python contract (contract/board_header.py).
//
// Header-only, and only for code built with a model: it includes model_settings.h, which lives
// in the nanogest_model library (or a test's generated directory), not in the core.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "model_settings.h"
#include "ng_model_defaults.h"  // after model_settings.h: what the header lacks
#include "ng_gate_defaults.h"   // likewise for the novelty gate
#include "ng_gate.h"
#include "ng_inference.h"
#include "ng_step.h"

namespace ng {

static_assert(model::kChannelCount == static_cast<int>(kImuChannels), "the model must take the six IMU channels");
static_assert(model::kLabelCount > 1 && model::kLabelCount < 256, "label indices travel as one byte");
static_assert(model::kIdleLabelIndex >= -1 && model::kIdleLabelIndex < model::kLabelCount,
              "the idle label must be a label (or -1: none)");
static_assert(model::kUnknownLabelIndex >= -1 && model::kUnknownLabelIndex < model::kLabelCount,
              "the unknown label must be a label (or -1: none)");
static_assert(model::kUnknownLabelIndex < 0 || model::kUnknownLabelIndex != model::kIdleLabelIndex,
              "the unknown label cannot be the idle label");
static_assert(!model::kIsStepModel || model::kStepInputSamples <= model::kWindowSamples,
              "a step model's step reads at most one window of samples");

static_assert(!model::kGateEnabled || model::kUnknownLabelIndex >= 0,
              "the novelty gate reports its windows as the unknown label: the model needs one");
static_assert(!model::kGateEnabled || !model::kIsStepModel || model::kGateLengths,
              "a step model's novelty gate reads the vector lengths: it never holds a whole window");
static_assert(model::kGateLengths ? model::kGateStatistics == static_cast<int>(kLengthGateStatistics)
                                   : (model::kGateStatistics == static_cast<int>(kGateStatistics) &&
                                      model::kGateStatistics == 4 * model::kChannelCount),
              "the novelty gate reads four statistics per channel, or eight of the vector lengths");
static_assert(!model::kGateEnabled || model::kGateLengths ||
                  (sizeof(model::kGateWeights) == sizeof(int16_t) * kGateStatistics * kGateStatistics &&
                   sizeof(model::kGateBias) == sizeof(int64_t) * kGateStatistics && model::kGateMeanScale > 0),
              "the novelty gate's weights are kGateStatistics x kGateStatistics, its bias kGateStatistics");
static_assert(!model::kGateEnabled || !model::kGateLengths ||
                  (sizeof(model::kGateInputScale) == sizeof(float) * kImuChannels &&
                   sizeof(model::kGateInputOffset) == sizeof(float) * kImuChannels &&
                   sizeof(model::kGateLengthWeights) == sizeof(float) * kLengthGateStatistics * kLengthGateStatistics &&
                   sizeof(model::kGateLengthBias) == sizeof(float) * kLengthGateStatistics),
              "the vector-length gate takes each channel back to g or dps, and its weights are 8 x 8, its bias 8");

// The header's novelty gate; ModelSettings points here only when kGateEnabled.
constexpr LengthGateSettings kHeaderLengthGate = {model::kGateInputScale, model::kGateInputOffset,
                                                  model::kGateLengthWeights, model::kGateLengthBias,
                                                  model::kGateLengthLevel};
constexpr GateSettings kHeaderGate = {model::kGateMeanScale, model::kGateWeights, model::kGateBias, model::kGateLevel,
                                      model::kGateLengths ? &kHeaderLengthGate : nullptr};

constexpr ModelSettings model_settings_from_header() {
  ModelSettings s{};
  s.label_count = static_cast<size_t>(model::kLabelCount);
  s.labels = model::kLabels;
  s.idle_index = model::kIdleLabelIndex;
  s.score_threshold = model::kScoreThreshold;
  s.rate_mhz = model::kSampleRateMilliHz;
  s.window_samples = static_cast<size_t>(model::kWindowSamples);
  s.hop_samples = static_cast<size_t>(model::kHopSamples);
  s.mean = model::kNormMean;
  s.std = model::kNormStd;
  s.input_scale = model::kInputScale;
  s.input_zero_point = model::kInputZeroPoint;
  s.output_scale = model::kOutputScale;
  s.output_zero_point = model::kOutputZeroPoint;
  s.model_hash = model::kModelHash;
  s.agreement = static_cast<uint32_t>(model::kAgreement);
  s.refractory_samples = model::kRefractorySamples;
  s.motion_gate = model::kMotionGate;
  s.motion_accel_weight = model::kMotionAccelWeight;
  s.unknown_index = model::kUnknownLabelIndex;
  s.unknown_threshold = model::kUnknownThreshold;
  s.gate = model::kGateEnabled ? &kHeaderGate : nullptr;
  return s;
}

// A step model (a GRU, one step at a time) reads kStepInputSamples samples per step and carries
// kGruStateSize int8 values of state; for a windowed model is_step_model is false and the rest unused.
constexpr StepModelSettings step_settings_from_header() {
  StepModelSettings s{};
  s.is_step_model = model::kIsStepModel;
  s.state_size = static_cast<size_t>(model::kGruStateSize);
  s.step_input_samples = static_cast<size_t>(model::kStepInputSamples);
  s.step_stride_samples = static_cast<size_t>(model::kStepStrideSamples);
  s.steps_per_window = static_cast<size_t>(model::kStepsPerWindow);
  s.state_input_scale = model::kStateInputScale;
  s.state_input_zero_point = model::kStateInputZeroPoint;
  s.state_output_scale = model::kStateOutputScale;
  s.state_output_zero_point = model::kStateOutputZeroPoint;
  s.state_carried_as_int8 = model::kStateCarriedAsInt8;
  return s;
}

// int8 values of the model's input per invoke (a window, or one step's x_t) and of its state.
constexpr int kModelInputValues =
    model::kIsStepModel ? model::kStepInputSamples * model::kChannelCount : model::kWindowSamples * model::kChannelCount;
constexpr int kModelStateValues = model::kGruStateSize > 0 ? model::kGruStateSize : 1;

}  // namespace ng
