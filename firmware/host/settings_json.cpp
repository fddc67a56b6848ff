#include <stddef.h>

#include "run_settings.h"

namespace vboard {
namespace {

void print_string(FILE* out, const char* text) {
  fputc('"', out);
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(text); *p != 0; ++p) {
    if (*p == '"' || *p == '\\') {
      fprintf(out, "\\%c", *p);
    } else if (*p < 0x20) {
      fprintf(out, "\\u%04x", *p);
    } else {
      fputc(*p, out);  // UTF-8 passes through as written
    }
  }
  fputc('"', out);
}

void print_floats(FILE* out, const char* key, const float* values, size_t n) {
  fprintf(out, ", \"%s\": [", key);
  for (size_t i = 0; i < n; ++i) fprintf(out, "%s%.9g", i ? ", " : "", static_cast<double>(values[i]));
  fputc(']', out);
}

}  // namespace

void print_settings_json(FILE* out, const RunSettings& settings) {
  const ng::ModelSettings& s = settings.model;
  const ng::StepModelSettings& step = settings.step;
  fputs("{\"labels\": [", out);
  for (size_t i = 0; i < s.label_count; ++i) {
    if (i > 0) fputs(", ", out);
    print_string(out, s.labels[i]);
  }
  fprintf(out, "], \"idle_index\": %d, \"score_threshold\": %.9g, \"rate_mhz\": %u, \"window\": %zu, \"hop\": %zu",
          static_cast<int>(s.idle_index), static_cast<double>(s.score_threshold), static_cast<unsigned>(s.rate_mhz),
          s.window_samples, s.hop_samples);
  print_floats(out, "mean", s.mean, ng::kImuChannels);
  print_floats(out, "std", s.std, ng::kImuChannels);
  fprintf(out, ", \"input_scale\": %.9g, \"input_zero_point\": %d, \"output_scale\": %.9g, \"output_zero_point\": %d, "
          "\"model_hash\": %u, \"agreement\": %u, \"refractory_samples\": %u, \"motion_gate\": %.9g, "
          "\"motion_accel_weight\": %.9g, \"unknown_index\": %d, \"unknown_threshold\": %.9g, "
          "\"arena_measured_bytes\": %u, \"step_model\": %s",
          static_cast<double>(s.input_scale), static_cast<int>(s.input_zero_point), static_cast<double>(s.output_scale),
          static_cast<int>(s.output_zero_point), static_cast<unsigned>(s.model_hash), static_cast<unsigned>(s.agreement),
          static_cast<unsigned>(s.refractory_samples), static_cast<double>(s.motion_gate),
          static_cast<double>(s.motion_accel_weight), static_cast<int>(s.unknown_index),
          static_cast<double>(s.unknown_threshold), static_cast<unsigned>(settings.arena_measured_bytes),
          step.is_step_model ? "true" : "false");
  // The novelty gate's kind and level (ng_gate.h), so a run's settings say whether and where it rejects.
  const ng::GateSettings* gate = s.gate;
  if (gate == nullptr) {
    fputs(", \"novelty_gate\": \"none\", \"gate_level\": 0", out);
  } else if (gate->lengths != nullptr) {
    fprintf(out, ", \"novelty_gate\": \"lengths\", \"gate_level\": %.9g", static_cast<double>(gate->lengths->level));
  } else {  // whole numbers of the int8 input, past double's exact range for a large level
    fprintf(out, ", \"novelty_gate\": \"window\", \"gate_level\": %lld", static_cast<long long>(gate->level));
  }
  if (step.is_step_model) {
    fprintf(out, ", \"state_size\": %zu, \"step_input_samples\": %zu, \"step_stride_samples\": %zu, "
            "\"steps_per_window\": %zu, \"state_input_scale\": %.9g, \"state_input_zero_point\": %d, "
            "\"state_output_scale\": %.9g, \"state_output_zero_point\": %d, \"state_carried_as_int8\": %s",
            step.state_size, step.step_input_samples, step.step_stride_samples, step.steps_per_window,
            static_cast<double>(step.state_input_scale), static_cast<int>(step.state_input_zero_point),
            static_cast<double>(step.state_output_scale), static_cast<int>(step.state_output_zero_point),
            step.state_carried_as_int8 ? "true" : "false");
  }
  fputs("}\n", out);
}

}  // namespace vboard
