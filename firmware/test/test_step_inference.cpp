// The step-model path of InferencePipeline (a GRU exported as (x_t, h) -> (h', scores)):
// a step every stride samples on the last chunk of samples, h carried between steps
// (copied or requantized), h reset at a take's start and every steps_per_window steps,
// and the window's scores taken from the step that completes it.
#include <math.h>

#include "ng_inference.h"
#include "ng_step.h"
#include "ng_test.h"

using namespace ng;

namespace {

const char* const kLabels[3] = {"idle", "wave", "punch"};
const float kMean[6] = {0, 0, 0, 0, 0, 0};
const float kStd[6] = {1, 1, 1, 1, 1, 1};
const size_t kStateSize = 4;
const size_t kMaxSteps = 64;

// A fake GRU step: h'[i] = h[i] + 1 + (x's first value of the newest sample) % 2, saturating;
// scores favour label (steps seen since the last h = 0) % 3. It records every call.
class CountingStepRunner : public ModelRunner {
 public:
  InvokeStatus Invoke(const int8_t*, size_t, int8_t*, size_t) override { return InvokeStatus::kBadSize; }
  InvokeStatus InvokeStep(const int8_t* x, size_t n_x, const int8_t* state, size_t n_state, int8_t* state_next,
                          int8_t* scores, size_t n_scores) override {
    if (n_state != kStateSize || n_scores != 3 || calls >= kMaxSteps) return InvokeStatus::kBadSize;
    n_x_seen = n_x;
    first_x[calls] = x[0];
    newest_x[calls] = x[n_x - 6];
    h_seen[calls] = state[0];
    ++calls;
    if (fail_at == calls) return InvokeStatus::kFailed;
    for (size_t i = 0; i < n_state; ++i) {
      int v = state[i] + 1 + (x[n_x - 6] & 1);
      state_next[i] = static_cast<int8_t>(v > 127 ? 127 : v);
    }
    int label = (state[0] - zero_point + 1) % 3;
    for (size_t i = 0; i < n_scores; ++i) scores[i] = static_cast<int8_t>(static_cast<int>(i) == label ? 102 : -116);
    return InvokeStatus::kOk;
  }
  int32_t zero_point = -3;
  size_t calls = 0;
  size_t fail_at = 0;  // 1-based call that fails; 0: none
  size_t n_x_seen = 0;
  int8_t first_x[kMaxSteps] = {};
  int8_t newest_x[kMaxSteps] = {};
  int8_t h_seen[kMaxSteps] = {};
};

ImuInfo test_imu() {
  ImuInfo imu = {};
  imu.accel_g_per_count = 1.0f;
  imu.gyro_dps_per_count = 1.0f;
  return imu;
}

ImuCounts sample(int k) {
  ImuCounts s = {};
  s.accel[0] = static_cast<int16_t>(k);  // x_t's aX is the sample number (input scale 1, zero point 0)
  return s;
}

struct StepRig {
  int16_t counts[3 * 6];
  int8_t input[3 * 6];
  int8_t output[3];
  int8_t state[kStateSize];
  int8_t state_next[kStateSize];
  CountingStepRunner runner;
  ModelSettings settings{3, kLabels, 0, 0.6f, 119000, 99, 99, kMean, kStd, 1.0f, 0, 1.0f / 256, -128,
                         0x12345678u, 1, 1, 0.0f, 100.0f, -1, kUnknownThresholdOff, nullptr};
  StepModelSettings step;
  InferencePipeline* pipeline = nullptr;
  explicit StepRig(size_t chunk, size_t stride, size_t steps, bool as_int8 = true) {
    step = StepModelSettings{true, kStateSize, chunk, stride, steps, 0.02f, -3, as_int8 ? 0.02f : 0.04f,
                             as_int8 ? -3 : 5, as_int8};
  }
};

uint32_t zero_clock() { return 0; }

}  // namespace

TEST(step_model_steps_every_stride_on_the_last_chunk_and_carries_h) {
  StepRig rig(3, 2, 4);  // chunk 3 samples, a step every 2, 4 steps a window
  InferencePipeline p(rig.settings, rig.step, InferenceBuffers{rig.counts, rig.input, rig.output},
                      StepBuffers{rig.state, rig.state_next}, rig.runner, zero_clock);
  CHECK(p.is_step_model());
  CHECK_EQ(p.input_count(), 3u * 6u);
  const ImuInfo imu = test_imu();
  int windows = 0;
  int window_at[4] = {0, 0, 0, 0};
  for (int k = 0; k < 20; ++k) {
    WindowResult r = p.push(sample(k), imu);
    CHECK_EQ(r.status, InvokeStatus::kOk);
    if (r.ran && windows < 4) {
      CHECK_EQ(r.window_index, static_cast<uint32_t>(windows));
      window_at[windows++] = k;
    }
  }
  // steps after samples 3, 5, 7, ...: 9 steps in 20 samples; windows end at the 4th and 8th step
  CHECK_EQ(rig.runner.calls, 9u);
  CHECK_EQ(rig.runner.n_x_seen, 18u);
  CHECK_EQ(windows, 2);
  CHECK_EQ(window_at[0], 8);   // the 4th step reads samples 6..8
  CHECK_EQ(window_at[1], 16);  // the 8th step reads samples 14..16
  for (size_t t = 0; t < rig.runner.calls; ++t) {
    CHECK_EQ(rig.runner.first_x[t], static_cast<int>(2 * t));  // oldest sample of the chunk
    CHECK_EQ(rig.runner.newest_x[t], static_cast<int>(2 * t + 2));
  }
  // h: zero (zp -3) at steps 0 and 4 and 8 (window starts), else the previous h' (+1 per step, x even)
  const int8_t want_h[9] = {-3, -2, -1, 0, -3, -2, -1, 0, -3};
  for (size_t t = 0; t < 9; ++t) CHECK_EQ(rig.runner.h_seen[t], want_h[t]);
}

TEST(step_model_window_scores_come_from_its_last_step) {
  StepRig rig(1, 1, 5);  // a plain GRU: one sample per step, 5 steps a window
  InferencePipeline p(rig.settings, rig.step, InferenceBuffers{rig.counts, rig.input, rig.output},
                      StepBuffers{rig.state, rig.state_next}, rig.runner, zero_clock);
  const ImuInfo imu = test_imu();
  WindowResult last = {};
  int ran = 0;
  for (int k = 0; k < 10; ++k) {
    WindowResult r = p.push(sample(2 * k), imu);  // even x: h grows by one per step
    if (r.ran) {
      last = r;
      ++ran;
    }
  }
  CHECK_EQ(ran, 2);
  CHECK_EQ(last.window_index, 1u);
  // the 5th step of a window saw h = zp + 4: label (4 + 1) % 3 = 2
  CHECK_EQ(last.decision.label_index, 2);
  CHECK_EQ(last.decision.score_q, 102);
}

TEST(step_model_reset_starts_a_take_from_h_zero) {
  StepRig rig(1, 1, 5);
  InferencePipeline p(rig.settings, rig.step, InferenceBuffers{rig.counts, rig.input, rig.output},
                      StepBuffers{rig.state, rig.state_next}, rig.runner, zero_clock);
  const ImuInfo imu = test_imu();
  for (int k = 0; k < 3; ++k) p.push(sample(0), imu);
  CHECK_EQ(p.state()[0], 0);  // three steps from -3
  p.reset();
  CHECK_EQ(p.state()[0], -3);
  for (int k = 0; k < 5; ++k) {
    WindowResult r = p.push(sample(0), imu);
    CHECK_EQ(r.ran, k == 4);  // a whole window after the reset, not after 2 more steps
    if (r.ran) CHECK_EQ(r.window_index, 0u);
  }
  CHECK_EQ(rig.runner.h_seen[3], -3);
}

TEST(step_model_requantizes_h_when_not_carried_as_int8) {
  // h' scale 0.04 zp 5, h scale 0.02 zp -3: q_h = round((q' - 5) * 2) - 3
  StepModelSettings step = {true, 3, 1, 1, 10, 0.02f, -3, 0.04f, 5, false};
  int8_t next[3] = {5, 6, 100};
  int8_t h[3] = {0, 0, 0};
  carry_state(step, next, h);
  CHECK_EQ(h[0], -3);
  CHECK_EQ(h[1], -1);
  CHECK_EQ(h[2], 127);  // clamped
  step.state_carried_as_int8 = true;
  carry_state(step, next, h);
  CHECK_EQ(h[2], 100);
  reset_state(step, h);
  CHECK_EQ(h[0], -3);
  CHECK(step_settings_valid(step));
  step.steps_per_window = 0;
  CHECK(!step_settings_valid(step));
}

TEST(step_model_failed_step_is_reported_and_the_next_window_starts_afresh) {
  StepRig rig(1, 1, 3);
  rig.runner.fail_at = 2;
  InferencePipeline p(rig.settings, rig.step, InferenceBuffers{rig.counts, rig.input, rig.output},
                      StepBuffers{rig.state, rig.state_next}, rig.runner, zero_clock);
  const ImuInfo imu = test_imu();
  p.push(sample(0), imu);
  WindowResult r = p.push(sample(0), imu);
  CHECK(r.ran);
  CHECK_EQ(r.status, InvokeStatus::kFailed);
  CHECK_EQ(p.failures(), 1u);
  p.push(sample(0), imu);
  CHECK_EQ(rig.runner.h_seen[2], -3);  // the step after the failure starts a new window
}

TEST(windowed_runner_refuses_steps) {
  class WindowOnly : public ModelRunner {
   public:
    InvokeStatus Invoke(const int8_t*, size_t, int8_t*, size_t) override { return InvokeStatus::kOk; }
  } runner;
  int8_t x[6] = {}, h[2] = {}, h2[2] = {}, s[3] = {};
  CHECK_EQ(runner.InvokeStep(x, 6, h, 2, h2, s, 3), InvokeStatus::kBadSize);
}

namespace {

// The window ending at sample `last` of a chunk-3, stride-2, 4-step model as whole int8 samples
// (aX = k, the rest 0: input scale 1, zero point 0), and its gate distance computed on them at once.
float whole_window_distance(const LengthGateSettings& gate, int last) {
  int8_t q[9 * 6] = {};
  for (int t = 0; t < 9; ++t) q[t * 6] = static_cast<int8_t>(last - 8 + t);
  float stats[kLengthGateStatistics];
  length_gate_statistics(gate, q, 9, 0, stats);
  return length_gate_distance(gate, stats);
}

}  // namespace

TEST(step_model_gate_gathers_each_window_sample_once_and_reports_unknown_past_its_level) {
  const float unit[6] = {1, 1, 1, 1, 1, 1}, zero[6] = {0, 0, 0, 0, 0, 0};
  float eye[kLengthGateStatistics * kLengthGateStatistics] = {};
  for (size_t k = 0; k < kLengthGateStatistics; ++k) eye[k * kLengthGateStatistics + k] = 1.0f;
  const float bias[kLengthGateStatistics] = {};
  LengthGateSettings lengths = {unit, zero, eye, bias, 0.0f};
  // the second window (samples 8..16: a window's 4 steps of 3 samples every 2 read 9) exactly at the level
  // keeps its scores; one float32 below, it is unknown
  const float level = whole_window_distance(lengths, 16);
  CHECK(whole_window_distance(lengths, 8) < level);
  for (int below = 0; below < 2; ++below) {
    lengths.level = below ? nextafterf(level, 0.0f) : level;
    const GateSettings gate = {1, nullptr, nullptr, 0, &lengths};
    StepRig rig(3, 2, 4);
    rig.settings.unknown_index = 2;
    rig.settings.gate = &gate;
    InferencePipeline p(rig.settings, rig.step, InferenceBuffers{rig.counts, rig.input, rig.output},
                        StepBuffers{rig.state, rig.state_next}, rig.runner, zero_clock);
    const ImuInfo imu = test_imu();
    int windows = 0;
    for (int k = 0; k < 17; ++k) {
      WindowResult r = p.push(sample(k), imu);
      if (!r.ran) continue;
      ++windows;
      const bool unknown = below && k == 16;
      CHECK_EQ(r.decision.label_index, unknown ? 2 : 1);  // the 4th step saw h = zp + 3: label (3 + 1) % 3
      CHECK_EQ(r.decision.score_q, unknown ? 127 : 102);
    }
    CHECK_EQ(windows, 2);
  }
}

namespace {

// Counts of one sample that swings by `amplitude` counts on every channel, in turn up and down.
ImuCounts swinging(int k, int amplitude) {
  const int16_t v = static_cast<int16_t>((k % 2 == 0 ? 1 : -1) * amplitude);
  ImuCounts s = {{v, v, v}, {v, v, v}};
  return s;
}

}  // namespace

TEST(step_model_motion_gate_keeps_a_still_window_from_firing_and_lets_a_moving_one) {
  // Every window scores label 1 (confident, agreement 1). At 1 dps and 1 g per count, 7 of a window's 9 samples
  // swinging +-1 count on every axis move it 101 x 1.5 = 153, past a gate of 100; a still window moves 0.
  StepRig rig(3, 2, 4);  // 4 steps of 3 samples every 2: a window reads 9 samples
  rig.settings.motion_gate = 100.0f;
  rig.settings.refractory_samples = 1;
  InferencePipeline p(rig.settings, rig.step, InferenceBuffers{rig.counts, rig.input, rig.output},
                      StepBuffers{rig.state, rig.state_next}, rig.runner, zero_clock);
  const ImuInfo imu = test_imu();
  int windows = 0;
  // Windows read samples 0..8, 8..16, 16..24, 24..32 (a window's first step reads the last one's last sample):
  // still, moving (9..15 swing), still, moving (25..31).
  for (int k = 0; k < 33; ++k) {
    const bool moving = k % 16 >= 9 && k % 16 <= 15;
    WindowResult r = p.push(swinging(k, moving ? 1 : 0), imu);
    if (!r.ran) continue;
    const bool want = windows % 2 == 1;
    CHECK_EQ(r.decision.label_index, 1);
    CHECK_EQ(r.decision.detected, want);
    CHECK(want ? r.motion > 100.0f : r.motion == 0.0f);
    ++windows;
  }
  CHECK_EQ(windows, 4);
}
