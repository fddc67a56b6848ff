// Runs the core's recognition path (window -> motion -> Postprocess) on counts and
// scripted scores, so tests can compare every decision with converter/postprocess.py.
//
//   postprocess_vectors ACCEL_G_PER_COUNT GYRO_DPS_PER_COUNT < lines
//
// Built per model like the virtual board (boardtools/virtual_build.py): the settings are a
// generated model_settings.h compiled in (run_settings.h).
// stdin:
//   "q s0 s1 ..."         the int8 scores the model returns from the next window on
//   "ax ay az gx gy gz"   one sample in counts
//   (blank line)          a new take: the pipeline is reset, as `start` does in replay mode
// stdout: one line per window: "window_index label_index score_q detected motion" (motion
// as %.9g, computed by ng::window_motion whatever the gate). Built for a step model (a GRU), the
// pipeline steps it (every step returns the scripted scores) and the motion is the one it gathered
// step by step and handed its post-processing (0 without a motion gate).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ng_inference.h"
#include "run_settings.h"

namespace {

class ScriptedRunner : public ng::ModelRunner {
 public:
  ng::InvokeStatus Invoke(const int8_t*, size_t, int8_t* out, size_t n_out) override {
    if (n_out != scores.size()) return ng::InvokeStatus::kBadSize;
    memcpy(out, scores.data(), n_out);
    return ng::InvokeStatus::kOk;
  }
  ng::InvokeStatus InvokeStep(const int8_t*, size_t, const int8_t* state, size_t n_state, int8_t* state_next,
                              int8_t* out, size_t n_out) override {
    memcpy(state_next, state, n_state);
    return Invoke(nullptr, 0, out, n_out);
  }
  std::vector<int8_t> scores;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: postprocess_vectors ACCEL_G_PER_COUNT GYRO_DPS_PER_COUNT < lines\n");
    return 2;
  }
  const ng::ModelSettings& s = vboard::compiled_run_settings()->model;
  const ng::StepModelSettings& step = vboard::compiled_run_settings()->step;
  const ng::ImuInfo imu = {0, s.rate_mhz, 4, 2000, strtof(argv[1], nullptr), strtof(argv[2], nullptr)};
  std::vector<int16_t> counts((step.is_step_model ? step.step_input_samples : s.window_samples) * ng::kImuChannels);
  std::vector<int8_t> input(counts.size());
  std::vector<int8_t> output(s.label_count);
  std::vector<int8_t> state(step.state_size + 1), state_next(step.state_size + 1);
  ScriptedRunner runner;
  runner.scores.assign(s.label_count, 0);
  const ng::InferenceBuffers buffers{counts.data(), input.data(), output.data()};
  ng::InferencePipeline pipe = step.is_step_model
      ? ng::InferencePipeline(s, step, buffers, ng::StepBuffers{state.data(), state_next.data()}, runner, nullptr)
      : ng::InferencePipeline(s, buffers, runner, nullptr);
  std::vector<int16_t> shadow_counts(s.window_samples * ng::kImuChannels);  // the same window, to print its motion
  ng::SampleWindow shadow(shadow_counts.data(), s.window_samples, s.hop_samples);
  char line[512];
  int line_number = 0;
  while (fgets(line, sizeof line, stdin) != nullptr) {
    ++line_number;
    if (line[0] == 'q') {
      char* p = line + 1;
      for (size_t i = 0; i < s.label_count; ++i) runner.scores[i] = static_cast<int8_t>(strtol(p, &p, 10));
      continue;
    }
    int v[6];
    if (sscanf(line, "%d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
      pipe.reset();
      shadow.reset();
      continue;
    }
    ng::ImuCounts c = {{static_cast<int16_t>(v[0]), static_cast<int16_t>(v[1]), static_cast<int16_t>(v[2])},
                       {static_cast<int16_t>(v[3]), static_cast<int16_t>(v[4]), static_cast<int16_t>(v[5])}};
    ng::WindowResult r = pipe.push(c, imu);
    shadow.push(c);
    if (!r.ran) continue;
    if (r.status != ng::InvokeStatus::kOk) {
      fprintf(stderr, "postprocess_vectors: line %d: the scripted scores do not fit the model\n", line_number);
      return 1;
    }
    const float motion = step.is_step_model ? r.motion
                                            : ng::window_motion(shadow, imu.accel_g_per_count, imu.gyro_dps_per_count,
                                                                s.motion_accel_weight);
    printf("%u %u %d %d %.9g\n", static_cast<unsigned>(r.window_index), static_cast<unsigned>(r.decision.label_index),
           static_cast<int>(r.decision.score_q), r.decision.detected ? 1 : 0, static_cast<double>(motion));
  }
  return 0;
}
