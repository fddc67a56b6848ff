// The Device with a recognition path: replay mode's sample lines, PREDICTION frames with
// their tail, the DEVICE_INFO label tail, text-inference lines, and refusals.
#include <stdio.h>
#include <string.h>

#include "ng_device.h"
#include "ng_test.h"
#include "test_helpers.h"

using namespace ng;
using ngtest::CountingImu;
using ngtest::ParsedFrame;
using ngtest::get_u32;
using ngtest::pop_frame;

namespace {

const char* const kLabels[3] = {"idle", "wave", "punch"};
const float kMean[6] = {0, 0, 0, 0, 0, 0};
const float kStd[6] = {1, 1, 1, 1, 1, 1};

// Scores label (aX counts of the newest sample mod 3) at 0.9 (output scale 1/256, zero point -128).
class NewestRunner : public ModelRunner {
 public:
  InvokeStatus Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) override {
    int label = (static_cast<uint8_t>(in[n_in - 6]) % 3);
    for (size_t i = 0; i < n_out; ++i) out[i] = static_cast<int8_t>(i == static_cast<size_t>(label) ? 102 : -116);
    return InvokeStatus::kOk;
  }
};

uint32_t zero_clock() { return 0; }

struct Rig {
  CountingImu imu;
  uint8_t storage[4096];
  ByteRing ring{storage, sizeof storage};
  int16_t counts[3 * 6];
  int8_t input[3 * 6];
  int8_t output[3];
  NewestRunner runner;
  ModelSettings settings{3, kLabels, 0, 0.6f, 119000, 3, 2, kMean, kStd, 0.000122f, 0, 1.0f / 256, -128,
                         0x12345678u, 1, 1, 0.0f, 100.0f, -1, kUnknownThresholdOff, nullptr};
  InferencePipeline pipeline{settings, InferenceBuffers{counts, input, output}, runner, zero_clock};
  DeviceConfig config;
  Device* device = nullptr;
  Rig() {
    config.board_rev = proto::kBoardVirtual;
    config.fw_major = 0;
    config.fw_minor = 2;
    config.fw_patch = 0;
    config.model_hash = 0;
    config.pacing = Pacing::kByClock;
    config.inference = &pipeline;
  }
  void send(Device& d, const char* text) { d.on_rx(reinterpret_cast<const uint8_t*>(text), strlen(text), 1000); }
};

}  // namespace

TEST(device_replay_mode_answers_each_window_with_a_prediction) {
  Rig rig;
  Device device(rig.imu, rig.ring, rig.config);
  rig.send(device, "mode replay\nstart\nsample 1 0 0 0 0 0\nsample 1 0 0 0 0 0\nsample 1 0 0 0 0 0\n"
                   "sample 2 0 0 0 0 0\nsample 2 0 0 0 0 0\nstop\n");
  ParsedFrame f;
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgAck);  // mode
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgAck && memcmp(f.payload, "start", 5) == 0);
  uint8_t labels[2];
  uint8_t detected[2];
  for (int w = 0; w < 2; ++w) {
    CHECK(pop_frame(rig.ring, &f));
    CHECK_EQ(f.type, proto::kMsgPrediction);
    CHECK_EQ(f.payload_len, proto::kPredictionPayloadBytes + kPredictionTailBytes);
    CHECK_EQ(static_cast<int8_t>(f.payload[proto::kPredictionOffScoreQ]), 102);
    CHECK_EQ(get_u32(f.payload + proto::kPredictionPayloadBytes + 1), w);  // window_index
    labels[w] = f.payload[proto::kPredictionOffLabelIndex];
    detected[w] = f.payload[proto::kPredictionPayloadBytes];
  }
  CHECK_EQ(labels[0], 1);    // newest aX = 1 -> wave
  CHECK_EQ(labels[1], 2);    // newest aX = 2 -> punch
  CHECK_EQ(detected[0], 1);  // agreement 1, refractory 1 sample
  CHECK_EQ(detected[1], 1);
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgAck && memcmp(f.payload, "stop", 4) == 0);
  CHECK(rig.ring.empty());  // sample lines are not acknowledged
  CHECK_EQ(device.samples_produced(), 5);
  CHECK_EQ(device.detections(), 2);
  CHECK_EQ(device.last_detected_label(), 2);
}

TEST(device_info_carries_the_label_tail_and_the_model_hash) {
  Rig rig;
  Device device(rig.imu, rig.ring, rig.config);
  rig.send(device, "info\n");
  ParsedFrame f;
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgDeviceInfo);
  CHECK_EQ(get_u32(f.payload + proto::kDeviceInfoOffModelHash), 0x12345678u);
  const uint8_t* tail = f.payload + proto::kDeviceInfoPayloadBytes;
  CHECK_EQ(tail[0], 3);
  CHECK(memcmp(tail + 1, "idle\0wave\0punch\0", 16) == 0);
  CHECK_EQ(f.payload_len, proto::kDeviceInfoPayloadBytes + 1 + 16);
  uint8_t small[8];
  CHECK_EQ(encode_device_info_labels(small, sizeof small, kLabels, 3), 1 + 5);  // "wave" does not fit
  CHECK_EQ(small[0], 1);
}

TEST(device_refuses_samples_outside_replay_and_bad_sample_lines) {
  Rig rig;
  Device device(rig.imu, rig.ring, rig.config);
  rig.send(device, "sample 1 2 3 4 5 6\nmode replay\nsample 1 2 3\nsample 1 2 3 4 5 40000\nsample 1 2 x 4 5 6\n");
  ParsedFrame f;
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgError && f.payload[0] == proto::kErrUnavailable);
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgAck);
  for (int i = 0; i < 3; ++i) CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgError && f.payload[0] == proto::kErrBadArgument);
  CHECK_EQ(device.command_errors(), 4);
}

TEST(device_text_inference_prints_a_line_per_detection) {
  Rig rig;
  Device device(rig.imu, rig.ring, rig.config);  // CountingImu: aX = k, so labels cycle
  rig.send(device, "mode text-inference\nstart\n");
  ParsedFrame f;
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgAck);
  CHECK(pop_frame(rig.ring, &f) && f.type == proto::kMsgAck);
  device.poll(1000 + 3 * 8404);  // samples 0..3 -> one window (newest aX = 2 -> punch)
  char text[128] = {0};
  rig.ring.read(reinterpret_cast<uint8_t*>(text), sizeof text - 1);
  CHECK(strcmp(text, "gesture punch score 0.90 inference_us 0\r\n") == 0);
}

namespace {

// Replays `n` sample lines of aX = k into a Device whose IMU runs at imu_rate_mhz; counts PREDICTION frames.
int predictions_for(uint32_t imu_rate_mhz, int n, int* errors) {
  Rig rig;
  rig.imu.info_.rate_mhz = imu_rate_mhz;
  Device device(rig.imu, rig.ring, rig.config);
  rig.send(device, "mode replay\nstart\n");
  char line[40];
  int predictions = 0;
  *errors = 0;
  ParsedFrame f;
  for (int k = 0; k <= n; ++k) {
    if (k < n) {
      snprintf(line, sizeof line, "sample %d 0 0 0 0 0\n", k);
    } else {
      snprintf(line, sizeof line, "stop\n");
    }
    rig.send(device, line);
    while (pop_frame(rig.ring, &f)) {
      if (f.type == proto::kMsgPrediction) ++predictions;
      if (f.type == proto::kMsgError) ++*errors;
    }
  }
  return predictions;
}

}  // namespace

TEST(device_resamples_the_imu_stream_to_the_models_rate_before_windowing) {
  int errors = 0;
  // window 3, hop 2 at the model's 119 Hz: windows end at resampled samples 3, 5, 7, ...
  CHECK_EQ(predictions_for(119000, 10, &errors), 4);  // 10 samples: windows at 3, 5, 7, 9
  CHECK_EQ(errors, 0);
  CHECK_EQ(predictions_for(100000, 10, &errors), 5);  // 100 -> 119 Hz: 9 * 119 / 100 + 1 = 11 samples
  CHECK_EQ(errors, 0);
  CHECK_EQ(predictions_for(238000, 10, &errors), 2);  // 238 -> 119 Hz: samples 0, 2, .., 8: 5 samples
  CHECK_EQ(predictions_for(10000, 3, &errors), 0);    // 10 -> 119 Hz is more than 4x: refused per sample
  CHECK_EQ(errors, 3);
}
