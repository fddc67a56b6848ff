// The model settings as text lines ("key value...", ending with "end"), the format
// `python -m converter.tflm_server` prints from a run directory and `default_model
// --print-settings` prints from the generated model_settings.h. The virtual board
// reads it at start-up, since it is not recompiled per model.
//
// Still a second path (issue 21, Deliver 2): the real board takes its settings from the
// generated model_settings.h through ng_header_settings.h, and the defaults both sides fall
// back on are generated from the Python contract (ng_contract_defs.h, ng_model_defaults.h),
// but this format and its parser remain for the virtual board. Removing them means building
// the virtual board per model from the run's generated headers with ng_header_settings.h
// (as default_model does for the committed model), and teaching its Python callers (replay,
// sim://, the tests that start it on a run directory) to build and cache that binary.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "ng_inference.h"

namespace vboard {

struct TextSettings {
  std::vector<std::string> label_names;
  std::vector<const char*> label_ptrs;
  float mean[6];
  float std[6];
  ng::ModelSettings settings;  // points into this object: do not copy it after parse
  ng::StepModelSettings step;  // is_step_model false unless the block says "step_model 1"

  TextSettings() = default;
  TextSettings(const TextSettings&) = delete;
  TextSettings& operator=(const TextSettings&) = delete;
};

// Reads lines from `in` up to and including "end". On failure returns false and sets
// `error` to one sentence naming the bad line.
bool read_text_settings(FILE* in, TextSettings* out, std::string* error);

// Writes `s` in the same format (floats with 9 significant digits: exact for float32).
// A step model's settings (`step`, when it is one) go before the post-processing keys.
void write_text_settings(FILE* out, const ng::ModelSettings& s, const ng::StepModelSettings* step = nullptr);

}  // namespace vboard
