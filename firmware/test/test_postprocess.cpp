// Postprocess: threshold, agreement, refractory period, idle; InferencePipeline with a scripted runner.
#include <string.h>

#include "ng_inference.h"
#include "ng_postprocess.h"
#include "ng_test.h"

using namespace ng;

namespace {

// Three labels (0 = idle), output scale 1/256 and zero point -128 like a softmax.
PostprocessParams params(uint32_t agreement, uint32_t refractory) {
  PostprocessParams p = {3, 0, 0.6f, 1.0f / 256.0f, -128, agreement, refractory, 0.0f, -1, kUnknownThresholdOff};
  return p;
}

// Scores that make `label` top-1 with probability `score` (0..1).
void scores_for(int label, float score, int8_t* out) {
  int q = static_cast<int>(score * 256.0f) - 128;
  if (q > 127) q = 127;
  int rest = static_cast<int>((1.0f - score) / 2 * 256.0f) - 128;
  for (int i = 0; i < 3; ++i) out[i] = static_cast<int8_t>(i == label ? q : rest);
}

bool fires(Postprocess& p, int label, float score, uint32_t sample) {
  int8_t s[3];
  scores_for(label, score, s);
  Decision d = p.update(s, sample);
  CHECK_EQ(d.label_index, label);
  return d.detected;
}

}  // namespace

TEST(postprocess_needs_the_threshold) {
  Postprocess p(params(1, 0));
  CHECK(!fires(p, 1, 0.55f, 10));
  CHECK(fires(p, 1, 0.65f, 20));
  int8_t s[3];
  scores_for(2, 0.9f, s);
  Decision d = p.update(s, 1000);
  CHECK(d.detected);
  CHECK_EQ(d.score_q, s[2]);
  CHECK(d.score > 0.89f && d.score < 0.91f);
}

TEST(postprocess_needs_agreement_of_consecutive_confident_windows) {
  Postprocess p(params(3, 0));
  CHECK(!fires(p, 1, 0.9f, 1));
  CHECK(!fires(p, 1, 0.9f, 2));
  CHECK(fires(p, 1, 0.9f, 3));
  CHECK(!fires(p, 2, 0.9f, 4));  // a new label starts a new streak
  CHECK(!fires(p, 2, 0.9f, 5));
  CHECK(!fires(p, 2, 0.5f, 6));  // below threshold breaks the streak
  CHECK(!fires(p, 2, 0.9f, 7));
  CHECK(!fires(p, 2, 0.9f, 8));
  CHECK(fires(p, 2, 0.9f, 9));
}

TEST(postprocess_waits_the_refractory_period_after_a_detection) {
  Postprocess p(params(1, 100));
  CHECK(fires(p, 1, 0.9f, 50));
  CHECK(!fires(p, 1, 0.9f, 80));
  CHECK(!fires(p, 2, 0.9f, 149));  // any label waits
  CHECK(fires(p, 2, 0.9f, 150));
  Postprocess wrap(params(1, 100));
  CHECK(fires(wrap, 1, 0.9f, 0xFFFFFFF0u));
  CHECK(!fires(wrap, 1, 0.9f, 10));  // 26 samples later, across the uint32 wrap
  CHECK(fires(wrap, 1, 0.9f, 90));
}

TEST(postprocess_never_fires_the_idle_label_and_reset_forgets) {
  Postprocess p(params(1, 100));
  CHECK(!fires(p, 0, 0.99f, 1));
  CHECK(!fires(p, 0, 0.99f, 500));
  CHECK(fires(p, 1, 0.9f, 600));
  p.reset();
  CHECK(fires(p, 1, 0.9f, 601));  // the refractory period does not survive a reset
}

TEST(postprocess_reports_an_unknown_top_label_and_never_fires_it) {
  PostprocessParams pp = params(2, 0);
  pp.unknown_index = 2;  // threshold off: unknown only as top-1
  Postprocess p(pp);
  int8_t s[3];
  scores_for(1, 0.9f, s);
  CHECK(!p.update(s, 1).detected);
  scores_for(2, 0.95f, s);
  Decision d = p.update(s, 2);
  CHECK(!d.detected);
  CHECK_EQ(d.label_index, 2);
  CHECK_EQ(d.score_q, s[2]);
  CHECK(!p.update(s, 3).detected);  // two unknown windows in a row agree, and still never fire
  scores_for(1, 0.9f, s);
  CHECK(!p.update(s, 4).detected);  // the unknown window broke the streak of label 1
  CHECK(p.update(s, 5).detected);
  int8_t doubt[3] = {-128, 100, 60};  // label 1 top at 0.89, the unknown label at 0.73: off, so label 1
  d = p.update(doubt, 6);
  CHECK_EQ(d.label_index, 1);
  CHECK_EQ(d.score_q, 100);
}

TEST(postprocess_unknown_over_its_threshold_overrules_a_gesture_on_top) {
  PostprocessParams pp = params(1, 0);
  pp.unknown_index = 2;
  pp.unknown_threshold = 0.34375f;  // q = -40 exactly
  Postprocess p(pp);
  int8_t at[3] = {-128, 100, -40};
  Decision d = p.update(at, 1);
  CHECK(!d.detected);
  CHECK_EQ(d.label_index, 2);
  CHECK_EQ(d.score_q, -40);
  CHECK(d.score > 0.3437f && d.score < 0.3438f);
  int8_t under[3] = {-128, 100, -41};
  d = p.update(under, 2);
  CHECK(d.detected);
  CHECK_EQ(d.label_index, 1);
  int8_t idle_top[3] = {100, -128, 0};  // the idle label on top, unknown over: unknown too
  CHECK_EQ(p.update(idle_top, 3).label_index, 2);
  pp.unknown_index = 5;  // not a label: ignored, never read past the scores
  Postprocess bad(pp);
  CHECK_EQ(bad.update(at, 1).label_index, 1);
}

namespace {

// Returns the label whose index equals the first input byte mod 3, with score 0.9.
class EchoRunner : public ModelRunner {
 public:
  InvokeStatus Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) override {
    ++calls;
    last_n_in = n_in;
    if (n_out != 3) return InvokeStatus::kBadSize;
    scores_for(static_cast<uint8_t>(in[0]) % 3, 0.9f, out);
    return fail ? InvokeStatus::kFailed : InvokeStatus::kOk;
  }
  void ResetState() override { ++resets; }
  int calls = 0;
  int resets = 0;
  size_t last_n_in = 0;
  bool fail = false;
};

uint32_t g_fake_us = 0;
uint32_t fake_clock() { return g_fake_us += 250; }

}  // namespace

TEST(pipeline_runs_the_model_once_per_window_and_postprocesses) {
  static const char* const kLabels[3] = {"idle", "one", "two"};
  const float mean[6] = {0, 0, 0, 0, 0, 0};
  const float std[6] = {1, 1, 1, 1, 1, 1};
  ModelSettings s = {3, kLabels, 0, 0.6f, 119000, 4, 2, mean, std, 0.000122f, 0, 1.0f / 256.0f, -128, 0xABCDu, 1, 5,
                     0.0f, 100.0f, -1, kUnknownThresholdOff, nullptr};
  int16_t counts[4 * 6];
  int8_t input[4 * 6];
  int8_t output[3];
  InferenceBuffers b = {counts, input, output};
  EchoRunner runner;
  InferencePipeline pipe(s, b, runner, fake_clock);
  ImuInfo imu = {0, 119000, 4, 2000, 0.000122f, 0.07f};
  int ran = 0, detected = 0;
  for (int k = 0; k < 10; ++k) {
    ImuCounts sample = {{1, 0, 0}, {0, 0, 0}};  // aX = 0.000122 g -> input 1 -> label 1
    WindowResult r = pipe.push(sample, imu);
    if (!r.ran) continue;
    CHECK(r.status == InvokeStatus::kOk);
    CHECK_EQ(r.inference_us, 250);
    CHECK_EQ(r.window_index, ran);
    CHECK_EQ(r.decision.label_index, 1);
    ++ran;
    detected += r.decision.detected ? 1 : 0;
  }
  CHECK_EQ(ran, 4);            // samples 4, 6, 8, 10
  CHECK_EQ(detected, 2);       // at sample 4, then refractory 5 samples: sample 10
  CHECK_EQ(runner.last_n_in, 24);
  CHECK_EQ(input[0], 1);
  pipe.reset();
  CHECK_EQ(runner.resets, 1);
  runner.fail = true;
  WindowResult r;
  for (int k = 0; k < 4; ++k) r = pipe.push(ImuCounts{{0, 0, 0}, {0, 0, 0}}, imu);
  CHECK(r.ran && r.status == InvokeStatus::kFailed);
  CHECK_EQ(pipe.failures(), 1);
  CHECK_EQ(postprocess_params(s).refractory_samples, 5);
  s.refractory_samples = 0;
  s.agreement = 0;
  CHECK_EQ(postprocess_params(s).refractory_samples, 119);
  CHECK_EQ(postprocess_params(s).agreement, kDefaultAgreement);
}

TEST(postprocess_motion_gate_keeps_a_still_window_from_detecting) {
  PostprocessParams pp = params(2, 0);
  pp.motion_gate = 40.0f;
  Postprocess p(pp);
  int8_t s[3];
  scores_for(1, 0.95f, s);
  CHECK(!p.update(s, 1, 39.9f).detected);
  CHECK(!p.update(s, 2, 39.9f).detected);  // confident but still: never fires
  CHECK(!p.update(s, 3, 40.0f).detected);  // moving: the streak starts again
  CHECK(!p.update(s, 4, 10.0f).detected);  // a still window breaks it
  CHECK(!p.update(s, 5, 50.0f).detected);
  CHECK(p.update(s, 6, 50.0f).detected);
  CHECK_EQ(p.update(s, 7, 0.0f).label_index, 1);  // the gate does not hide the top-1 label
  CHECK(p.update(s, 8).detected == false);        // no measure: the streak was broken above
  CHECK(p.update(s, 9).detected);                 // and without a measure the gate stays open
}

TEST(window_motion_is_gyro_rms_plus_weighted_accel_rms_of_the_window) {
  int16_t storage[4 * 6];
  SampleWindow w(storage, 4, 1);
  // gX alternates +-100 counts (variance 100^2), aY alternates +-10 counts (variance 10^2).
  for (int k = 0; k < 4; ++k) {
    int16_t g = static_cast<int16_t>(k % 2 == 0 ? 100 : -100);
    int16_t a = static_cast<int16_t>(k % 2 == 0 ? 1010 : 990);
    w.push(ImuCounts{{0, a, 8192}, {g, 7, 0}});
  }
  const float motion = window_motion(w, 0.001f, 0.1f, 100.0f);  // gyro RMS 10 dps, accel RMS 0.01 g
  CHECK(motion > 10.999f && motion < 11.001f);
  CHECK_EQ(window_motion(w, 0.001f, 0.1f, 0.0f), 10.0f);
  for (int k = 0; k < 4; ++k) w.push(ImuCounts{{-5, 3, 8192}, {-7, 7, 32767}});  // constant: no motion
  CHECK_EQ(window_motion(w, 0.001f, 0.1f, 100.0f), 0.0f);
  for (int k = 0; k < 4; ++k) {  // full-scale swings must not overflow the exact integer sums
    int16_t v = static_cast<int16_t>(k % 2 == 0 ? 32767 : -32768);
    w.push(ImuCounts{{v, v, v}, {v, v, v}});
  }
  const float big = window_motion(w, 1.0f, 1.0f, 1.0f);
  CHECK(big > 113509.5f && big < 113510.5f);  // 2 * sqrt(3) * 32767.5
}

TEST(pipeline_gates_detections_on_the_windows_own_motion) {
  static const char* const kLabels[3] = {"idle", "one", "two"};
  const float mean[6] = {0, 0, 0, 0, 0, 0};
  const float std[6] = {1, 1, 1, 1, 1, 1};
  ModelSettings s = {3, kLabels, 0, 0.6f, 119000, 4, 2, mean, std, 0.000122f, 0, 1.0f / 256.0f, -128, 0xABCDu, 1, 1,
                     5.0f, 100.0f, -1, kUnknownThresholdOff, nullptr};
  int16_t counts[4 * 6];
  int8_t input[4 * 6];
  int8_t output[3];
  EchoRunner runner;  // aX = 1 count -> label 1 at 0.9
  InferencePipeline pipe(s, InferenceBuffers{counts, input, output}, runner, nullptr);
  ImuInfo imu = {0, 119000, 4, 2000, 0.000122f, 0.07f};
  int detected = 0;
  for (int k = 0; k < 8; ++k) detected += pipe.push(ImuCounts{{1, 0, 0}, {0, 0, 0}}, imu).decision.detected ? 1 : 0;
  CHECK_EQ(detected, 0);  // confident, but the hand does not move
  for (int k = 0; k < 8; ++k) {
    int16_t g = static_cast<int16_t>(k % 2 == 0 ? 200 : -200);  // +-14 dps: gyro RMS 14 > 5
    detected += pipe.push(ImuCounts{{1, 0, 0}, {g, 0, 0}}, imu).decision.detected ? 1 : 0;
  }
  CHECK(detected >= 2);
  CHECK_EQ(postprocess_params(s).motion_gate, 5.0f);
}
