#include "ng_step.h"

#include <string.h>

#include "ng_input.h"

namespace ng {

void reset_state(const StepModelSettings& step, int8_t* state) {
  int32_t zero = step.state_input_zero_point;
  if (zero < -128) zero = -128;
  if (zero > 127) zero = 127;
  memset(state, static_cast<int8_t>(zero), step.state_size);
}

void carry_state(const StepModelSettings& step, const int8_t* state_next, int8_t* state) {
  if (step.state_carried_as_int8) {
    memcpy(state, state_next, step.state_size);
    return;
  }
  for (size_t i = 0; i < step.state_size; ++i) {
    const float real = static_cast<float>(static_cast<int32_t>(state_next[i]) - step.state_output_zero_point) *
                       step.state_output_scale;
    state[i] = quantize_to_int8(real, step.state_input_scale, step.state_input_zero_point);
  }
}

bool step_settings_valid(const StepModelSettings& step) {
  return step.is_step_model && step.state_size > 0 && step.step_input_samples > 0 && step.step_stride_samples > 0 &&
         step.steps_per_window > 0 && step.state_input_scale > 0.0f && step.state_output_scale > 0.0f;
}

}  // namespace ng
