// What a model_settings.h without novelty gate constants gets (one written before the gate, or
// trained with --no-gate): no gate. Included after model_settings.h, like ng_model_defaults.h, which is
// generated from the contract; the gate's defaults are not contract values, so they live here.
// A header that declares a constant itself hides the one here (qualified lookup finds a namespace's
// own members before those of a namespace it uses).
#pragma once
#include <stdint.h>

namespace ng {
namespace gate_defaults {

constexpr bool kGateEnabled = false;
constexpr int kGateStatistics = 4 * ::ng::model::kChannelCount;
constexpr int kGateMeanScale = 1;  // unused without a gate
// One element each: arrays cannot be empty, and nothing reads them without a gate.
constexpr int16_t kGateWeights[1] = {0};
constexpr int64_t kGateBias[1] = {0};
constexpr int64_t kGateLevel = 0;
// The vector-length gate's (ng_gate.h LengthGateSettings): a header without them has the window gate or none.
constexpr bool kGateLengths = false;
constexpr float kGateInputScale[1] = {0.0f};
constexpr float kGateInputOffset[1] = {0.0f};
constexpr float kGateLengthWeights[1] = {0.0f};
constexpr float kGateLengthBias[1] = {0.0f};
constexpr float kGateLengthLevel = 0.0f;

}  // namespace gate_defaults

namespace model {
using namespace ::ng::gate_defaults;
}  // namespace model
}  // namespace ng
