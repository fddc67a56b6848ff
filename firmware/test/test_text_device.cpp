#include <string.h>

#include "ng_device.h"
#include "ng_text.h"
#include "ng_test.h"
#include "test_helpers.h"

using namespace ng;
using ngtest::CountingImu;
using ngtest::ParsedFrame;
using ngtest::get_i16;
using ngtest::get_u32;
using ngtest::pop_frame;

namespace {

bool fixed3_is(double value, const char* expected) {
  char out[32];
  size_t n = format_fixed3(out, value);
  out[n] = '\0';
  return strcmp(out, expected) == 0;
}

DeviceConfig virtual_config() {
  DeviceConfig c;
  c.board_rev = proto::kBoardVirtual;
  c.fw_major = 0;
  c.fw_minor = 1;
  c.fw_patch = 0;
  c.model_hash = 0;
  c.pacing = Pacing::kByClock;
  return c;
}

void send(Device& device, const char* line, uint32_t now_us) {
  device.on_rx(reinterpret_cast<const uint8_t*>(line), strlen(line), now_us);
}

}  // namespace

TEST(text_values_have_three_decimals_like_arduino_print) {
  CHECK(fixed3_is(0.0, "0.000"));
  CHECK(fixed3_is(1.0, "1.000"));
  CHECK(fixed3_is(-1.25, "-1.250"));
  CHECK(fixed3_is(0.0004, "0.000"));
  CHECK(fixed3_is(-0.0004, "-0.000"));  // Arduino's Print keeps the sign
  CHECK(fixed3_is(0.9996, "1.000"));
  CHECK(fixed3_is(2293.69, "2293.690"));
  CHECK(fixed3_is(-1997.987, "-1997.987"));
}

TEST(text_line_converts_counts_with_the_imu_scale) {
  CountingImu imu;
  ImuCounts s = {{8197, -8197, 0}, {1000, -1000, 32767}};
  char line[kTextLineMaxBytes];
  size_t n = format_text_line(line, s, imu.info());
  CHECK(strcmp(line, "1.000,-1.000,0.000,70.000,-70.000,2293.690\r\n") == 0);
  CHECK_EQ(n, strlen(line));
  ImuCounts extreme = {{-32768, -32768, -32768}, {-32768, -32768, -32768}};
  CHECK(format_text_line(line, extreme, imu.info()) < kTextLineMaxBytes);
  CHECK(strcmp(kTextHeader, "aX,aY,aZ,gX,gY,gZ\r\n") == 0);
  CHECK_EQ(strlen(kTextHeader), kTextHeaderBytes);
}

TEST(value_to_counts_rounds_and_clips_at_range) {
  CHECK_EQ(value_to_counts(1.0, 0.000122, 4.0), 8197);      // 8196.72
  CHECK_EQ(value_to_counts(-1.0, 0.000122, 4.0), -8197);
  CHECK_EQ(value_to_counts(100.0, 0.000122, 4.0), 32767);   // clipped at int16
  CHECK_EQ(value_to_counts(2500.0, 0.07, 2000.0), 28571);   // clipped at +/-2000 dps
  CHECK_EQ(value_to_counts(-2500.0, 0.07, 2000.0), -28571);
  CHECK_EQ(value_to_counts(0.035, 0.07, 2000.0), 1);        // half rounds away from zero
  CHECK_EQ(value_to_counts(-0.035, 0.07, 2000.0), -1);
  CHECK_EQ(value_to_counts(-4.0, 1.0 / 8192, 4.0), -32767);
}

TEST(device_answers_info_status_ping_with_frames_then_ack) {
  CountingImu imu;
  uint8_t storage[2048];
  ByteRing ring(storage, sizeof storage);
  Device device(imu, ring, virtual_config());
  send(device, "info\nstatus\nping\n", 5000);
  ParsedFrame f;
  CHECK(pop_frame(ring, &f));
  CHECK(f.crc_ok);
  CHECK_EQ(f.type, proto::kMsgDeviceInfo);
  CHECK_EQ(f.seq, 0);
  CHECK_EQ(f.t_us, 5000);
  CHECK_EQ(f.payload_len, proto::kDeviceInfoPayloadBytes);
  CHECK_EQ(f.payload[proto::kDeviceInfoOffBoardRev], proto::kBoardVirtual);
  CHECK_EQ(get_u32(f.payload + proto::kDeviceInfoOffRateMhz), 119000);
  CHECK(pop_frame(ring, &f));
  CHECK_EQ(f.type, proto::kMsgAck);
  CHECK_EQ(f.seq, 1);
  CHECK(f.payload_len == 4 && memcmp(f.payload, "info", 4) == 0);
  CHECK(pop_frame(ring, &f));
  CHECK_EQ(f.type, proto::kMsgStatus);
  CHECK(pop_frame(ring, &f));
  CHECK(f.payload_len == 6 && memcmp(f.payload, "status", 6) == 0);
  CHECK(pop_frame(ring, &f));
  CHECK(f.payload_len == 4 && memcmp(f.payload, "ping", 4) == 0);
  CHECK_EQ(f.seq, 4);
  CHECK(ring.empty());
}

TEST(device_reports_errors_and_counts_them) {
  CountingImu imu;
  uint8_t storage[2048];
  ByteRing ring(storage, sizeof storage);
  Device device(imu, ring, virtual_config());
  send(device, "fly\nmode inference\nmode warp\n", 0);
  ParsedFrame f;
  const uint8_t expected[3] = {proto::kErrUnknownCommand, proto::kErrUnavailable, proto::kErrBadArgument};
  for (uint8_t code : expected) {
    CHECK(pop_frame(ring, &f));
    CHECK_EQ(f.type, proto::kMsgError);
    CHECK_EQ(f.payload[0], code);
    CHECK(f.payload_len > 1);
  }
  CHECK_EQ(device.command_errors(), 3);
  CHECK_EQ(device.mode(), proto::kModeCapture);
  CHECK_EQ(device.status().command_errors, 3);
  imu.info_.chip = proto::kImuUnknown;  // no IMU found at boot: start is refused
  send(device, "start\n", 0);
  CHECK(pop_frame(ring, &f));
  CHECK_EQ(f.type, proto::kMsgError);
  CHECK_EQ(f.payload[0], proto::kErrUnavailable);
  CHECK(!device.streaming());
}

TEST(device_streams_samples_at_device_time_from_the_index) {
  CountingImu imu;
  uint8_t storage[8192];
  ByteRing ring(storage, sizeof storage);
  Device device(imu, ring, virtual_config());
  const uint32_t t0 = 1000;
  send(device, "start\n", t0);
  CHECK(device.streaming());
  CHECK_EQ(imu.starts_, 1);
  ParsedFrame f;
  CHECK(pop_frame(ring, &f));
  CHECK_EQ(f.type, proto::kMsgAck);
  // Poll every 5 ms for one second of device time.
  for (uint32_t now = t0; now <= t0 + 1000000; now += 5000) device.poll(now);
  uint32_t k = 0;
  uint32_t first_seq = 1;
  while (pop_frame(ring, &f)) {
    CHECK(f.crc_ok);
    CHECK_EQ(f.type, proto::kMsgSample);
    CHECK_EQ(f.seq, first_seq + k);
    CHECK_EQ(f.t_us, t0 + static_cast<uint32_t>(k * 1000000ull / 119));
    CHECK_EQ(get_i16(f.payload + proto::kSampleOffAx), static_cast<int16_t>(k));
    CHECK_EQ(get_i16(f.payload + proto::kSampleOffGz), -1000);
    ++k;
  }
  CHECK_EQ(k, 120);  // samples 0..119 are due within [t0, t0 + 1 s]
  CHECK_EQ(device.samples_produced(), 120);
  send(device, "stop\n", t0 + 1000001);
  CHECK(!device.streaming());
  CHECK_EQ(device.poll(t0 + 3000000), 0);
}

TEST(device_drops_and_counts_samples_when_tx_is_full) {
  CountingImu imu;
  uint8_t storage[kResponseReserveBytes + 27 * 10];  // room for exactly 10 sample frames
  ByteRing ring(storage, sizeof storage);
  Device device(imu, ring, virtual_config());
  send(device, "start\n", 0);
  ParsedFrame f;
  CHECK(pop_frame(ring, &f));  // the ACK
  for (uint32_t now = 0; now < 200000; now += 1000) device.poll(now);  // 24 samples due
  CHECK_EQ(device.samples_produced(), 24);
  CHECK_EQ(device.samples_dropped(), 14);
  CHECK_EQ(device.next_seq(), 25);  // dropped frames still used their sequence numbers
  send(device, "status\n", 200000);  // responses use the reserve
  CHECK_EQ(device.responses_dropped(), 0);
  int samples = 0;
  while (pop_frame(ring, &f) && f.type == proto::kMsgSample) ++samples;
  CHECK_EQ(samples, 10);
  CHECK_EQ(f.type, proto::kMsgStatus);
  CHECK_EQ(get_u32(f.payload + proto::kStatusOffSamplesDropped), 14);
  CHECK_EQ(get_u32(f.payload + proto::kStatusOffSamplesProduced), 24);
}

TEST(device_text_mode_prints_imu_capture_csv) {
  CountingImu imu;
  uint8_t storage[4096];
  ByteRing ring(storage, sizeof storage);
  Device device(imu, ring, virtual_config());
  send(device, "mode text\n", 0);
  ParsedFrame f;
  CHECK(pop_frame(ring, &f));
  CHECK(f.type == proto::kMsgAck && f.payload_len == 4 && memcmp(f.payload, "mode", 4) == 0);
  CHECK_EQ(device.mode(), proto::kModeText);
  send(device, "start\n", 0);
  CHECK(pop_frame(ring, &f));  // ACK start
  device.poll(10000);          // samples 0 and 1
  send(device, "stop\n", 10000);
  char text[256];
  size_t n = ring.read(reinterpret_cast<uint8_t*>(text), sizeof text - 1);
  text[n] = '\0';
  const char* expected =
      "aX,aY,aZ,gX,gY,gZ\r\n"
      "0.000,0.000,0.122,0.000,0.000,-70.000\r\n"
      "0.000,-0.000,0.122,0.140,-0.140,-70.000\r\n"
      "\r\n";
  CHECK(n > strlen(expected));  // the ACK of "stop" follows the blank line
  CHECK(strncmp(text, expected, strlen(expected)) == 0);
}
