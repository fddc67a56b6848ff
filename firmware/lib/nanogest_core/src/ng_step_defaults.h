// Step-model constants for a generated model_settings.h of a windowed model, which
// declares only kIsStepModel = false: neutral values so the same C++14 code (no
// `if constexpr`) builds for both kinds. A step model's header declares every one of them
// itself, and qualified lookup finds a namespace's own members before those of a
// namespace it uses, so these are hidden then.
//
// Include it after model_settings.h; read the values as ng::model::kGruStateSize etc.
#pragma once
#include <stdint.h>

namespace ng {
namespace step_model_defaults {

constexpr int kGruStateSize = 0;
constexpr int kStepInputSamples = 1;
constexpr int kStepStrideSamples = 1;
constexpr int kStepsPerWindow = 1;
constexpr int kStepInputIndex = 0;
constexpr int kStateInputIndex = 1;
constexpr int kStateOutputIndex = 0;
constexpr int kScoresOutputIndex = 1;
constexpr float kStateInputScale = 1.0f;
constexpr int kStateInputZeroPoint = 0;
constexpr float kStateOutputScale = 1.0f;
constexpr int kStateOutputZeroPoint = 0;
constexpr bool kStateCarriedAsInt8 = true;

}  // namespace step_model_defaults

namespace model {
using namespace ::ng::step_model_defaults;
}  // namespace model
}  // namespace ng
