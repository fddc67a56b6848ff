// A model that does not fit its tensor arena: the message format_arena_too_small() writes,
// and a Device without a pipeline but with that text answering the inference modes with
// ERROR model_failed while capture keeps streaming.
#include <string.h>

#include "ng_arena.h"
#include "ng_device.h"
#include "ng_test.h"
#include "test_helpers.h"

using namespace ng;
using ngtest::CountingImu;
using ngtest::ParsedFrame;
using ngtest::pop_frame;

TEST(arena_message_names_both_sizes) {
  char text[kArenaMessageMaxBytes];
  size_t n = format_arena_too_small(text, sizeof text, 512, 6240);
  const char want[] = "tensor arena of 512 bytes is too small for this model (the converter measured 6240 bytes on a "
                      "64-bit host); reconvert and rebuild";
  CHECK_EQ(n, sizeof want - 1);
  CHECK(strcmp(text, want) == 0);
}

TEST(arena_message_says_unknown_without_a_measurement) {
  char text[kArenaMessageMaxBytes];
  size_t n = format_arena_too_small(text, sizeof text, 4294967295u, 0);
  CHECK(strstr(text, "tensor arena of 4294967295 bytes") == text);
  CHECK(strstr(text, "measured unknown on") != nullptr);
  CHECK_EQ(n, strlen(text));
  CHECK(n < kArenaMessageMaxBytes);
}

TEST(arena_message_is_cut_to_the_buffer) {
  char text[16];
  memset(text, 'x', sizeof text);
  size_t n = format_arena_too_small(text, sizeof text, 512, 6240);
  CHECK_EQ(n, 15);
  CHECK_EQ(text[15], '\0');
  CHECK(strncmp(text, "tensor arena of", 15) == 0);
  CHECK_EQ(format_arena_too_small(text, 0, 512, 6240), 0);
}

TEST(device_with_a_failed_model_answers_model_failed_and_still_captures) {
  CountingImu imu;
  uint8_t storage[4096];
  ByteRing ring(storage, sizeof storage);
  char failure[kArenaMessageMaxBytes];
  format_arena_too_small(failure, sizeof failure, 512, 6240);
  DeviceConfig config;
  config.board_rev = proto::kBoardVirtual;
  config.fw_major = 0;
  config.fw_minor = 2;
  config.fw_patch = 0;
  config.model_hash = 0;
  config.pacing = Pacing::kByClock;
  config.model_failure = failure;
  Device device(imu, ring, config);
  const char commands[] = "mode inference\nmode replay\nmode text-inference\nping\nmode capture\nstart\n";
  device.on_rx(reinterpret_cast<const uint8_t*>(commands), sizeof commands - 1, 1000);
  ParsedFrame f;
  for (int i = 0; i < 3; ++i) {
    CHECK(pop_frame(ring, &f) && f.type == proto::kMsgError && f.payload[0] == proto::kErrModelFailed);
    CHECK_EQ(f.payload_len, proto::kErrorPayloadBytes + strlen(failure));
    CHECK(memcmp(f.payload + proto::kErrorPayloadBytes, failure, strlen(failure)) == 0);
  }
  CHECK_EQ(device.mode(), proto::kModeCapture);
  for (int i = 0; i < 3; ++i) CHECK(pop_frame(ring, &f) && f.type == proto::kMsgAck);  // ping, mode, start
  CHECK(device.poll(1000 + 100000) > 0);
  CHECK(pop_frame(ring, &f) && f.type == proto::kMsgSample);
  CHECK_EQ(device.command_errors(), 3);
}
