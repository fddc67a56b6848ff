// Prints, one per line as lowercase hex, the frames the firmware core encodes for
// a fixed list of inputs, so tests can compare them byte for byte with the Python
// encoder (capture/wire/protocol.py). Floats are the float32 nearest to the given double.
//
//  #  type         seq         t_us        payload
//  1  SAMPLE       0           0           ax..gz = 0, 0, 0, 0, 0, 0
//  2  SAMPLE       1           8403        -32768, 32767, -1, 1, 256, -256
//  3  SAMPLE       0xFFFFFFFF  0xFFFFFFFF  32767, 32767, 32767, -32768, -32768, -32768
//  4  SAMPLE       2           16806       8197, -8197, 1000, 28571, -28571, 12345
//  5  DEVICE_INFO  3           100         protocol_version 2, fw 0.1.0, board_rev 0 (virtual), imu 1 (LSM9DS1),
//                                          accel_range_g 4, gyro_range_dps 2000, rate_mhz 119000,
//                                          accel_g_per_count 0.000122, gyro_dps_per_count 0.07,
//                                          model_hash 0xDEADBEEF, mode 0 (capture), model_rate_mhz 119000
//  6  DEVICE_INFO  4           200         protocol_version 2, fw 1.2.3, board_rev 2 (rev2), imu 2 (BMI270),
//                                          accel_range_g 4, gyro_range_dps 2000, rate_mhz 100000,
//                                          accel_g_per_count 1/8192, gyro_dps_per_count 1/16.4,
//                                          model_hash 0, mode 1 (text), model_rate_mhz 0
//  7  STATUS       5           300         samples_produced 1000, samples_dropped 7, command_errors 2, mode 0
//  8  STATUS       6           0x80000000  samples_produced 0xFFFFFFFF, samples_dropped 0, command_errors 0, mode 3
//  9  ACK          7           400         "ping"
// 10  ACK          8           500         "mode"
// 11  ERROR        9           600         code 1, "command line longer than 64 bytes, ignored"
// 12  ERROR        10          700         code 2, "" (code byte only)
#include <stdio.h>
#include <string.h>

#include "ng_frame.h"

namespace {

void print_frame(uint8_t type, uint32_t seq, uint32_t t_us, const uint8_t* payload, size_t length) {
  uint8_t frame[ng::proto::kMaxFrameBytes];
  size_t n = ng::encode_frame(frame, sizeof frame, type, seq, t_us, payload, length);
  for (size_t i = 0; i < n; ++i) printf("%02x", frame[i]);
  printf("\n");
}

void print_sample(uint32_t seq, uint32_t t_us, int16_t ax, int16_t ay, int16_t az, int16_t gx, int16_t gy,
                  int16_t gz) {
  ng::ImuCounts s = {{ax, ay, az}, {gx, gy, gz}};
  uint8_t payload[ng::proto::kMaxPayload];
  print_frame(ng::proto::kMsgSample, seq, t_us, payload, ng::encode_sample_payload(payload, s));
}

void print_info(uint32_t seq, uint32_t t_us, uint8_t fw_major, uint8_t fw_minor, uint8_t fw_patch, uint8_t board,
                uint8_t chip, uint32_t rate_mhz, double accel_scale, double gyro_scale, uint32_t hash, uint8_t mode,
                uint32_t model_rate_mhz) {
  ng::DeviceInfo d;
  d.protocol_version = ng::proto::kProtocolVersion;
  d.fw_major = fw_major;
  d.fw_minor = fw_minor;
  d.fw_patch = fw_patch;
  d.board_rev = board;
  d.imu.chip = chip;
  d.imu.rate_mhz = rate_mhz;
  d.imu.accel_range_g = 4;
  d.imu.gyro_range_dps = 2000;
  d.imu.accel_g_per_count = static_cast<float>(accel_scale);
  d.imu.gyro_dps_per_count = static_cast<float>(gyro_scale);
  d.model_hash = hash;
  d.mode = mode;
  d.model_rate_mhz = model_rate_mhz;
  uint8_t payload[ng::proto::kMaxPayload];
  print_frame(ng::proto::kMsgDeviceInfo, seq, t_us, payload, ng::encode_device_info_payload(payload, d));
}

void print_status(uint32_t seq, uint32_t t_us, uint32_t produced, uint32_t dropped, uint32_t errors, uint8_t mode) {
  ng::Status s = {produced, dropped, errors, mode};
  uint8_t payload[ng::proto::kMaxPayload];
  print_frame(ng::proto::kMsgStatus, seq, t_us, payload, ng::encode_status_payload(payload, s));
}

void print_ack(uint32_t seq, uint32_t t_us, const char* word) {
  uint8_t payload[ng::proto::kMaxPayload];
  print_frame(ng::proto::kMsgAck, seq, t_us, payload, ng::encode_ack_payload(payload, word));
}

void print_error(uint32_t seq, uint32_t t_us, uint8_t code, const char* message) {
  uint8_t payload[ng::proto::kMaxPayload];
  print_frame(ng::proto::kMsgError, seq, t_us, payload, ng::encode_error_payload(payload, code, message));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    fputs(strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
              ? "usage: frame_vectors\nPrints the firmware core's encoding of a fixed list of frames, one hex line "
                "each (the list is at the top of firmware/host/frame_vectors.cpp).\n"
              : "frame_vectors: takes no arguments (see frame_vectors --help)\n",
          stdout);
    return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
  }
  using namespace ng::proto;
  print_sample(0, 0, 0, 0, 0, 0, 0, 0);
  print_sample(1, 8403, -32768, 32767, -1, 1, 256, -256);
  print_sample(0xFFFFFFFFu, 0xFFFFFFFFu, 32767, 32767, 32767, -32768, -32768, -32768);
  print_sample(2, 16806, 8197, -8197, 1000, 28571, -28571, 12345);
  print_info(3, 100, 0, 1, 0, kBoardVirtual, kImuLSM9DS1, 119000, 0.000122, 0.07, 0xDEADBEEFu, kModeCapture, 119000);
  print_info(4, 200, 1, 2, 3, kBoardNano33bleRev2, kImuBMI270, 100000, 1.0 / 8192.0, 1.0 / 16.4, 0, kModeText, 0);
  print_status(5, 300, 1000, 7, 2, kModeCapture);
  print_status(6, 0x80000000u, 0xFFFFFFFFu, 0, 0, kModeReplay);
  print_ack(7, 400, "ping");
  print_ack(8, 500, "mode");
  print_error(9, 600, kErrLineTooLong, "command line longer than 64 bytes, ignored");
  print_error(10, 700, kErrUnknownCommand, "");
  return 0;
}
