#include "model_settings_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sstream>

namespace vboard {
namespace {

bool parse_floats(std::istringstream& in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    std::string word;
    if (!(in >> word)) return false;
    char* end = nullptr;
    out[i] = strtof(word.c_str(), &end);
    if (*end != '\0') return false;
  }
  std::string extra;
  return !(in >> extra);
}

bool parse_long(std::istringstream& in, long* out) {
  std::string word;
  if (!(in >> word)) return false;
  char* end = nullptr;
  *out = strtol(word.c_str(), &end, 0);
  std::string extra;
  return *end == '\0' && !(in >> extra);
}

}  // namespace

bool read_text_settings(FILE* in, TextSettings* out, std::string* error) {
  ng::ModelSettings& s = out->settings;
  memset(&s, 0, sizeof s);
  ng::StepModelSettings& step = out->step;
  memset(&step, 0, sizeof step);
  s.idle_index = -1;
  s.unknown_index = -1;
  s.unknown_threshold = ng::kUnknownThresholdOff;
  const char* required[] = {"labels", "idle_index", "score_threshold", "rate_mhz", "window", "hop", "mean",
                            "std", "input_scale", "input_zero_point", "output_scale", "output_zero_point",
                            "model_hash", "agreement", "refractory_samples", "motion_gate", "motion_accel_weight",
                            "unknown_index", "unknown_threshold"};
  std::vector<std::string> seen;
  char buffer[4096];
  int line_number = 0;
  bool ended = false;
  while (fgets(buffer, sizeof buffer, in) != nullptr) {
    ++line_number;
    std::istringstream line(buffer);
    std::string key;
    if (!(line >> key)) continue;
    if (key == "end") {
      ended = true;
      break;
    }
    bool ok = true;
    long value = 0;
    float f = 0;
    if (key == "nanogest-settings") {
      ok = parse_long(line, &value) && value == 1;
    } else if (key == "labels") {
      std::string name;
      out->label_names.clear();
      while (line >> name) out->label_names.push_back(name);
      ok = out->label_names.size() >= 2;
    } else if (key == "idle_index") {
      ok = parse_long(line, &value);
      s.idle_index = static_cast<int32_t>(value);
    } else if (key == "score_threshold") {
      ok = parse_floats(line, &s.score_threshold, 1);
    } else if (key == "rate_mhz") {
      ok = parse_long(line, &value) && value > 0;
      s.rate_mhz = static_cast<uint32_t>(value);
    } else if (key == "window") {
      ok = parse_long(line, &value) && value > 0 && value <= 4096;
      s.window_samples = static_cast<size_t>(value);
    } else if (key == "hop") {
      ok = parse_long(line, &value) && value > 0;
      s.hop_samples = static_cast<size_t>(value);
    } else if (key == "mean") {
      ok = parse_floats(line, out->mean, 6);
    } else if (key == "std") {
      ok = parse_floats(line, out->std, 6);
    } else if (key == "input_scale") {
      ok = parse_floats(line, &f, 1) && f > 0;
      s.input_scale = f;
    } else if (key == "input_zero_point") {
      ok = parse_long(line, &value);
      s.input_zero_point = static_cast<int32_t>(value);
    } else if (key == "output_scale") {
      ok = parse_floats(line, &f, 1) && f > 0;
      s.output_scale = f;
    } else if (key == "output_zero_point") {
      ok = parse_long(line, &value);
      s.output_zero_point = static_cast<int32_t>(value);
    } else if (key == "model_hash") {
      std::string word;
      ok = static_cast<bool>(line >> word);
      s.model_hash = static_cast<uint32_t>(strtoul(word.c_str(), nullptr, 0));
    } else if (key == "agreement") {
      ok = parse_long(line, &value) && value >= 1 && value <= 1000;
      s.agreement = static_cast<uint32_t>(value);
    } else if (key == "refractory_samples") {
      ok = parse_long(line, &value) && value >= 0;
      s.refractory_samples = static_cast<uint32_t>(value);
    } else if (key == "motion_gate") {
      ok = parse_floats(line, &s.motion_gate, 1) && s.motion_gate >= 0;
    } else if (key == "motion_accel_weight") {
      ok = parse_floats(line, &s.motion_accel_weight, 1) && s.motion_accel_weight >= 0;
    } else if (key == "unknown_index") {
      ok = parse_long(line, &value) && value >= -1 && value <= 255;
      s.unknown_index = static_cast<int32_t>(value);
    } else if (key == "unknown_threshold") {
      ok = parse_floats(line, &s.unknown_threshold, 1) && !isnan(s.unknown_threshold);
    } else if (key == "step_model") {
      ok = parse_long(line, &value) && (value == 0 || value == 1);
      step.is_step_model = value == 1;
    } else if (key == "state_size" || key == "step_input_samples" || key == "step_stride_samples" ||
               key == "steps_per_window") {
      ok = parse_long(line, &value) && value > 0 && value <= 4096;
      size_t* field = key == "state_size"           ? &step.state_size
                      : key == "step_input_samples" ? &step.step_input_samples
                      : key == "step_stride_samples" ? &step.step_stride_samples
                                                     : &step.steps_per_window;
      *field = static_cast<size_t>(value);
    } else if (key == "state_input_scale" || key == "state_output_scale") {
      ok = parse_floats(line, &f, 1) && f > 0;
      (key == "state_input_scale" ? step.state_input_scale : step.state_output_scale) = f;
    } else if (key == "state_input_zero_point" || key == "state_output_zero_point") {
      ok = parse_long(line, &value) && value >= -128 && value <= 127;
      (key == "state_input_zero_point" ? step.state_input_zero_point : step.state_output_zero_point) =
          static_cast<int32_t>(value);
    } else if (key == "state_carried_as_int8") {
      ok = parse_long(line, &value) && (value == 0 || value == 1);
      step.state_carried_as_int8 = value == 1;
    }  // unknown keys are ignored: newer converters may add settings
    if (!ok) {
      *error = "model settings line " + std::to_string(line_number) + " (" + key + ") is malformed";
      return false;
    }
    seen.push_back(key);
  }
  if (!ended) {
    *error = "the model settings ended before their 'end' line";
    return false;
  }
  for (const char* key : required) {
    bool found = false;
    for (const std::string& k : seen) found = found || k == key;
    if (!found) {
      *error = std::string("the model settings lack '") + key + "'";
      return false;
    }
  }
  if (step.is_step_model) {
    const char* step_keys[] = {"state_size", "step_input_samples", "step_stride_samples", "steps_per_window",
                               "state_input_scale", "state_input_zero_point", "state_output_scale",
                               "state_output_zero_point", "state_carried_as_int8"};
    for (const char* key : step_keys) {
      bool found = false;
      for (const std::string& k : seen) found = found || k == key;
      if (!found) {
        *error = std::string("the step model's settings lack '") + key + "'";
        return false;
      }
    }
    if (step.step_input_samples > s.window_samples) {
      *error = "the step model's step_input_samples exceeds its window";
      return false;
    }
  }
  out->label_ptrs.clear();
  for (const std::string& name : out->label_names) out->label_ptrs.push_back(name.c_str());
  s.labels = out->label_ptrs.data();
  s.label_count = out->label_ptrs.size();
  s.mean = out->mean;
  s.std = out->std;
  if (s.idle_index >= static_cast<int32_t>(s.label_count)) {
    *error = "the model settings' idle_index is not a label index";
    return false;
  }
  if (s.unknown_index >= static_cast<int32_t>(s.label_count)) {
    *error = "the model settings' unknown_index is not a label index";
    return false;
  }
  if (s.unknown_index >= 0 && s.unknown_index == s.idle_index) {
    *error = "the model settings' unknown_index is the idle label's index";
    return false;
  }
  return true;
}

void write_text_settings(FILE* out, const ng::ModelSettings& s, const ng::StepModelSettings* step) {
  fprintf(out, "nanogest-settings 1\nlabels");
  for (size_t i = 0; i < s.label_count; ++i) fprintf(out, " %s", s.labels[i]);
  fprintf(out, "\nidle_index %d\nscore_threshold %.9g\nrate_mhz %u\nwindow %zu\nhop %zu\nmean",
          static_cast<int>(s.idle_index), static_cast<double>(s.score_threshold), static_cast<unsigned>(s.rate_mhz),
          s.window_samples, s.hop_samples);
  for (int c = 0; c < 6; ++c) fprintf(out, " %.9g", static_cast<double>(s.mean[c]));
  fprintf(out, "\nstd");
  for (int c = 0; c < 6; ++c) fprintf(out, " %.9g", static_cast<double>(s.std[c]));
  fprintf(out, "\ninput_scale %.9g\ninput_zero_point %d\noutput_scale %.9g\noutput_zero_point %d\nmodel_hash 0x%08x\n",
          static_cast<double>(s.input_scale), static_cast<int>(s.input_zero_point),
          static_cast<double>(s.output_scale), static_cast<int>(s.output_zero_point),
          static_cast<unsigned>(s.model_hash));
  if (step != nullptr && step->is_step_model) {
    fprintf(out,
            "step_model 1\nstate_size %zu\nstep_input_samples %zu\nstep_stride_samples %zu\nsteps_per_window %zu\n"
            "state_input_scale %.9g\nstate_input_zero_point %d\nstate_output_scale %.9g\nstate_output_zero_point %d\n"
            "state_carried_as_int8 %d\n",
            step->state_size, step->step_input_samples, step->step_stride_samples, step->steps_per_window,
            static_cast<double>(step->state_input_scale), static_cast<int>(step->state_input_zero_point),
            static_cast<double>(step->state_output_scale), static_cast<int>(step->state_output_zero_point),
            step->state_carried_as_int8 ? 1 : 0);
  }
  fprintf(out,
          "agreement %u\nrefractory_samples %u\nmotion_gate %.9g\nmotion_accel_weight %.9g\nunknown_index %d\n"
          "unknown_threshold %.9g\nend\n",
          static_cast<unsigned>(s.agreement), static_cast<unsigned>(s.refractory_samples),
          static_cast<double>(s.motion_gate), static_cast<double>(s.motion_accel_weight),
          static_cast<int>(s.unknown_index), static_cast<double>(s.unknown_threshold));
}

}  // namespace vboard
