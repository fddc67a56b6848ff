// The model settings a virtual board program is built with. Per model, boardtools/virtual_build.py
// compiles run_settings.cpp against that run's generated model_settings.h (through
// ng_header_settings.h, as the board's main.cpp does) and links it with the rest, which is built
// once; the plain virtual board links no_run_settings.cpp and has no model.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "ng_inference.h"
#include "ng_step.h"

namespace vboard {

struct RunSettings {
  ng::ModelSettings model;
  ng::StepModelSettings step;       // is_step_model false for a windowed model
  uint32_t arena_measured_bytes;    // the header's kArenaMeasuredBytes (0: not measured)
};

// The settings compiled into this program, or nullptr when it was built without a model.
const RunSettings* compiled_run_settings();

// `settings` as one JSON object (labels as written, floats exact for float32), so tests and
// users can see what a program built for a run will do.
void print_settings_json(FILE* out, const RunSettings& settings);

}  // namespace vboard
