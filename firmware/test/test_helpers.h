// Helpers shared by the core tests: a minimal frame reader over a ByteRing and a
// scripted IMU provider.
#pragma once
#include <stdint.h>
#include <string.h>

#include "ng_crc.h"
#include "ng_imu.h"
#include "ng_protocol_defs.h"
#include "ng_ring.h"

namespace ngtest {

struct ParsedFrame {
  uint8_t type = 0;
  uint32_t seq = 0;
  uint32_t t_us = 0;
  uint16_t payload_len = 0;
  uint8_t payload[ng::proto::kMaxPayload] = {};
  bool crc_ok = false;
};

inline uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline int16_t get_i16(const uint8_t* p) { return static_cast<int16_t>(get_u16(p)); }
inline uint32_t get_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

// Parses one frame from `bytes`; returns its length or 0 if incomplete or not a frame.
inline size_t parse_frame(const uint8_t* bytes, size_t length, ParsedFrame* out) {
  using namespace ng::proto;
  if (length < kHeaderBytes + kCrcBytes || bytes[0] != kSync0 || bytes[1] != kSync1) return 0;
  out->payload_len = get_u16(bytes + 2);
  if (out->payload_len > kMaxPayload) return 0;
  size_t total = kHeaderBytes + out->payload_len + kCrcBytes;
  if (length < total) return 0;
  out->type = bytes[4];
  out->seq = get_u32(bytes + 5);
  out->t_us = get_u32(bytes + 9);
  memcpy(out->payload, bytes + kHeaderBytes, out->payload_len);
  uint16_t crc = get_u16(bytes + kHeaderBytes + out->payload_len);
  out->crc_ok = crc == ng::crc16_ccitt_false(bytes + 2, kHeaderBytes - 2 + out->payload_len);
  return total;
}

// Reads the next frame out of a ring (frames are pushed whole); false if none.
inline bool pop_frame(ng::ByteRing& ring, ParsedFrame* out) {
  uint8_t scratch[ng::proto::kMaxFrameBytes];
  ng::ByteRing view = ring;  // same storage, own indices: reading it leaves `ring` untouched
  size_t have = view.read(scratch, sizeof scratch);
  size_t total = parse_frame(scratch, have, out);
  if (total == 0) return false;
  ring.pop(total);
  return true;
}

// An IMU that returns a counting pattern: sample k has accel = (k, -k, 1000) and
// gyro = (2k, -2k, -1000), wrapping as int16.
class CountingImu : public ng::ImuProvider {
 public:
  CountingImu() : next_(0), starts_(0), ready_(true) {
    info_.chip = ng::proto::kImuLSM9DS1;
    info_.rate_mhz = 119000;
    info_.accel_range_g = 4;
    info_.gyro_range_dps = 2000;
    info_.accel_g_per_count = 0.000122f;
    info_.gyro_dps_per_count = 0.07f;
  }
  const ng::ImuInfo& info() const override { return info_; }
  bool read(ng::ImuCounts* out) override {
    if (!ready_) return false;
    int k = static_cast<int>(next_++);
    out->accel[0] = static_cast<int16_t>(k);
    out->accel[1] = static_cast<int16_t>(-k);
    out->accel[2] = 1000;
    out->gyro[0] = static_cast<int16_t>(2 * k);
    out->gyro[1] = static_cast<int16_t>(-2 * k);
    out->gyro[2] = -1000;
    return true;
  }
  void on_stream_start() override { ++starts_; }

  ng::ImuInfo info_;
  uint32_t next_;
  int starts_;
  bool ready_;
};

}  // namespace ngtest
