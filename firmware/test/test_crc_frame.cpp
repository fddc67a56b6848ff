#include <string.h>

#include "ng_crc.h"
#include "ng_frame.h"
#include "ng_test.h"
#include "test_helpers.h"

using namespace ng;
using ngtest::get_u16;
using ngtest::get_u32;

TEST(crc_matches_standard_check_value) {
  const char* text = "123456789";
  CHECK_EQ(crc16_ccitt_false(reinterpret_cast<const uint8_t*>(text), 9), 0x29B1);
}

TEST(crc_of_nothing_is_init_and_update_is_incremental) {
  const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7};
  CHECK_EQ(crc16_ccitt_false(data, 0), 0xFFFF);
  uint16_t split = crc16_update(crc16_update(proto::kCrcInit, data, 3), data + 3, 4);
  CHECK_EQ(split, crc16_ccitt_false(data, 7));
}

TEST(frame_layout_is_sync_len_type_seq_time_payload_crc) {
  ImuCounts s = {{-32768, 32767, 0}, {1, -1, 0x1234}};
  uint8_t payload[proto::kMaxPayload];
  size_t n = encode_sample_payload(payload, s);
  CHECK_EQ(n, 12);
  const uint8_t expected_payload[12] = {0x00, 0x80, 0xFF, 0x7F, 0x00, 0x00, 0x01, 0x00, 0xFF, 0xFF, 0x34, 0x12};
  CHECK(memcmp(payload, expected_payload, 12) == 0);

  uint8_t frame[64];
  size_t length = encode_frame(frame, sizeof frame, proto::kMsgSample, 0x01020304u, 0xA1B2C3D4u, payload, n);
  CHECK_EQ(length, 13 + 12 + 2);
  CHECK_EQ(frame[0], 0xA5);
  CHECK_EQ(frame[1], 0x5A);
  CHECK_EQ(frame[2], 12);
  CHECK_EQ(frame[3], 0);
  CHECK_EQ(frame[4], proto::kMsgSample);
  const uint8_t seq_bytes[4] = {0x04, 0x03, 0x02, 0x01};
  const uint8_t time_bytes[4] = {0xD4, 0xC3, 0xB2, 0xA1};
  CHECK(memcmp(frame + 5, seq_bytes, 4) == 0);
  CHECK(memcmp(frame + 9, time_bytes, 4) == 0);
  CHECK(memcmp(frame + 13, expected_payload, 12) == 0);
  uint16_t crc = crc16_ccitt_false(frame + 2, 11 + 12);
  CHECK_EQ(frame[25], crc & 0xFF);
  CHECK_EQ(frame[26], crc >> 8);
}

TEST(frame_rejects_oversized_payload_and_small_buffer) {
  uint8_t payload[proto::kMaxPayload + 1] = {0};
  uint8_t frame[proto::kMaxFrameBytes + 8];
  CHECK_EQ(encode_frame(frame, sizeof frame, proto::kMsgAck, 0, 0, payload, proto::kMaxPayload + 1), 0);
  CHECK_EQ(encode_frame(frame, sizeof frame, proto::kMsgAck, 0, 0, payload, proto::kMaxPayload),
           proto::kMaxFrameBytes);
  CHECK_EQ(encode_frame(frame, 14, proto::kMsgAck, 0, 0, payload, 0), 0);
  CHECK_EQ(encode_frame(frame, 15, proto::kMsgAck, 0, 0, payload, 0), 15);
}

TEST(device_info_payload_fields) {
  DeviceInfo d;
  d.protocol_version = proto::kProtocolVersion;
  d.fw_major = 1;
  d.fw_minor = 2;
  d.fw_patch = 3;
  d.board_rev = proto::kBoardVirtual;
  d.imu.chip = proto::kImuBMI270;
  d.imu.rate_mhz = 100000;
  d.imu.accel_range_g = 4;
  d.imu.gyro_range_dps = 2000;
  d.imu.accel_g_per_count = 1.0f;
  d.imu.gyro_dps_per_count = -2.0f;
  d.model_hash = 0xDEADBEEFu;
  d.mode = proto::kModeText;
  d.model_rate_mhz = 50000;
  uint8_t p[proto::kMaxPayload];
  CHECK_EQ(encode_device_info_payload(p, d), proto::kDeviceInfoPayloadBytes);
  CHECK_EQ(p[0], proto::kProtocolVersion);
  CHECK_EQ(p[1], 1);
  CHECK_EQ(p[3], 3);
  CHECK_EQ(p[5], proto::kImuBMI270);
  CHECK_EQ(get_u16(p + proto::kDeviceInfoOffAccelRangeG), 4);
  CHECK_EQ(get_u16(p + proto::kDeviceInfoOffGyroRangeDps), 2000);
  CHECK_EQ(get_u32(p + proto::kDeviceInfoOffRateMhz), 100000);
  CHECK_EQ(get_u32(p + proto::kDeviceInfoOffAccelGPerCount), 0x3F800000u);  // 1.0f
  CHECK_EQ(get_u32(p + proto::kDeviceInfoOffGyroDpsPerCount), 0xC0000000u);  // -2.0f
  CHECK_EQ(get_u32(p + proto::kDeviceInfoOffModelHash), 0xDEADBEEFu);
  CHECK_EQ(p[proto::kDeviceInfoOffMode], proto::kModeText);
  CHECK_EQ(get_u32(p + proto::kDeviceInfoOffModelRateMhz), 50000);
}

TEST(status_ack_and_error_payloads) {
  uint8_t p[proto::kMaxPayload];
  Status s = {7, 0x01000000u, 3, proto::kModeReplay};
  CHECK_EQ(encode_status_payload(p, s), 13);
  CHECK_EQ(get_u32(p), 7);
  CHECK_EQ(get_u32(p + 4), 0x01000000u);
  CHECK_EQ(get_u32(p + 8), 3);
  CHECK_EQ(p[12], proto::kModeReplay);
  CHECK_EQ(encode_ack_payload(p, "ping"), 4);
  CHECK(memcmp(p, "ping", 4) == 0);
  CHECK_EQ(encode_error_payload(p, proto::kErrBadArgument, "no"), 3);
  CHECK_EQ(p[0], proto::kErrBadArgument);
  CHECK(memcmp(p + 1, "no", 2) == 0);
  char long_message[400];
  memset(long_message, 'x', sizeof long_message - 1);
  long_message[sizeof long_message - 1] = '\0';
  CHECK_EQ(encode_error_payload(p, 1, long_message), proto::kMaxPayload);
}
