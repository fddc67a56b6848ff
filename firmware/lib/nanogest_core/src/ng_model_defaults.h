// Post-processing settings for a generated model_settings.h written before the contract
// carried them (such as the committed default model's): the contract's documented
// defaults (contract/pipeline.py DEFAULT_AGREEMENT, DEFAULT_REFRACTORY_S, DEFAULT_MOTION_GATE, and
// no unknown label; converter/postprocess.py applies the same to a contract without those keys).
//
// Include it after model_settings.h (it reads kSampleRateMilliHz); read the values as
// ng::model::kAgreement etc.:
// a header that declares them itself hides these, since qualified lookup finds a
// namespace's own members before those of a namespace it uses.
#pragma once
#include <stdint.h>

#include "ng_postprocess.h"  // kDefaultAgreement, kDefaultRefractorySeconds: the core's one copy

namespace ng {
namespace model_defaults {

constexpr int kAgreement = static_cast<int>(::ng::kDefaultAgreement);
constexpr uint32_t kRefractoryMilliseconds = static_cast<uint32_t>(::ng::kDefaultRefractorySeconds * 1000.0f + 0.5f);
// Rounded to whole samples at the model's rate, as the converter rounds refractory_s.
constexpr uint32_t refractory_samples(uint32_t rate_mhz) {
  return static_cast<uint32_t>((static_cast<uint64_t>(rate_mhz) * kRefractoryMilliseconds + 500000u) / 1000000u);
}
constexpr uint32_t kRefractorySamples = refractory_samples(::ng::model::kSampleRateMilliHz);
constexpr float kMotionGate = 40.0f;          // window_motion() below this never detects; 0: no gate
constexpr float kMotionAccelWeight = 100.0f;  // dps per g in window_motion()
// A header written before the unknown class (contract version 1) has no unknown label.
constexpr int kUnknownLabelIndex = -1;
constexpr float kUnknownThreshold = ::ng::kUnknownThresholdOff;
// The converter's smallest working arena, for the "arena too small" report; 0: not recorded
// (a header written before kArenaMeasuredBytes), reported as unknown.
constexpr unsigned int kArenaMeasuredBytes = 0u;

}  // namespace model_defaults

namespace model {
using namespace ::ng::model_defaults;
}  // namespace model
}  // namespace ng
