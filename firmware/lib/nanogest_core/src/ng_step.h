// A GRU exported by the converter as one step, (x_t, h) -> (h', class scores): what the
// core needs to know to step it (the generated model_settings.h's kIsStepModel group), and
// the state's reset and carry. The core keeps the state h in its own int8 buffer; the
// runner only invokes.
//
// Rule (the converter's report): h is zero (every value the h input's zero point) at the
// start of a take and after every steps_per_window steps; a step reads the last
// step_input_samples samples and runs every step_stride_samples samples; the scores of
// the step that completes a window are that window's scores. Windows therefore follow
// each other without overlap, every steps_per_window * step_stride_samples samples.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace ng {

struct StepModelSettings {
  bool is_step_model;          // false: a windowed model, nothing below is used
  size_t state_size;           // int8 values of h (kGruStateSize)
  size_t step_input_samples;   // samples per step (kStepInputSamples)
  size_t step_stride_samples;  // samples between steps (kStepStrideSamples)
  size_t steps_per_window;     // kStepsPerWindow
  float state_input_scale;     // h:  real = scale * (q - zero_point)
  int32_t state_input_zero_point;
  float state_output_scale;    // h'
  int32_t state_output_zero_point;
  bool state_carried_as_int8;  // h and h' share scale and zero point: copy h' as int8
};

// The state buffers of a step model, state_size values each, the caller's.
struct StepBuffers {
  int8_t* state;       // h, fed to the next step
  int8_t* state_next;  // h', written by the step
};

// Sets every value of h to zero (the h input's zero point).
void reset_state(const StepModelSettings& step, int8_t* state);

// h' -> the next h: a copy when carried as int8, else requantized
// q_h = round((q_h' - zp_h') * scale_h' / scale_h) + zp_h, rounding like the input quantizer.
void carry_state(const StepModelSettings& step, const int8_t* state_next, int8_t* state);

// True when the settings describe a step model the core can run (sizes > 0, scales > 0).
bool step_settings_valid(const StepModelSettings& step);

}  // namespace ng
