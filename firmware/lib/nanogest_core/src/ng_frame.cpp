#include "ng_frame.h"

#include <string.h>

#include "ng_crc.h"

namespace ng {

void put_u16(uint8_t* out, uint16_t v) {
  out[0] = static_cast<uint8_t>(v & 0xFFu);
  out[1] = static_cast<uint8_t>(v >> 8);
}

void put_u32(uint8_t* out, uint32_t v) {
  out[0] = static_cast<uint8_t>(v & 0xFFu);
  out[1] = static_cast<uint8_t>((v >> 8) & 0xFFu);
  out[2] = static_cast<uint8_t>((v >> 16) & 0xFFu);
  out[3] = static_cast<uint8_t>(v >> 24);
}

void put_f32(uint8_t* out, float v) {
  static_assert(sizeof(float) == 4, "IEEE-754 single precision expected");
  uint32_t bits = 0;
  memcpy(&bits, &v, sizeof bits);
  put_u32(out, bits);
}

size_t encode_frame(uint8_t* out, size_t out_capacity, uint8_t type, uint32_t seq, uint32_t t_us,
                    const uint8_t* payload, size_t payload_len) {
  if (payload_len > proto::kMaxPayload) return 0;
  const size_t total = frame_bytes(payload_len);
  if (total > out_capacity) return 0;
  out[0] = proto::kSync0;
  out[1] = proto::kSync1;
  put_u16(out + 2, static_cast<uint16_t>(payload_len));
  out[4] = type;
  put_u32(out + 5, seq);
  put_u32(out + 9, t_us);
  if (payload_len > 0) memcpy(out + proto::kHeaderBytes, payload, payload_len);
  const size_t crc_at = proto::kHeaderBytes + payload_len;
  put_u16(out + crc_at, crc16_ccitt_false(out + 2, crc_at - 2));
  return total;
}

size_t encode_sample_payload(uint8_t* out, const ImuCounts& s) {
  put_u16(out + proto::kSampleOffAx, static_cast<uint16_t>(s.accel[0]));
  put_u16(out + proto::kSampleOffAy, static_cast<uint16_t>(s.accel[1]));
  put_u16(out + proto::kSampleOffAz, static_cast<uint16_t>(s.accel[2]));
  put_u16(out + proto::kSampleOffGx, static_cast<uint16_t>(s.gyro[0]));
  put_u16(out + proto::kSampleOffGy, static_cast<uint16_t>(s.gyro[1]));
  put_u16(out + proto::kSampleOffGz, static_cast<uint16_t>(s.gyro[2]));
  return proto::kSamplePayloadBytes;
}

size_t encode_device_info_payload(uint8_t* out, const DeviceInfo& d) {
  out[proto::kDeviceInfoOffProtocolVersion] = d.protocol_version;
  out[proto::kDeviceInfoOffFwMajor] = d.fw_major;
  out[proto::kDeviceInfoOffFwMinor] = d.fw_minor;
  out[proto::kDeviceInfoOffFwPatch] = d.fw_patch;
  out[proto::kDeviceInfoOffBoardRev] = d.board_rev;
  out[proto::kDeviceInfoOffImu] = d.imu.chip;
  put_u16(out + proto::kDeviceInfoOffAccelRangeG, d.imu.accel_range_g);
  put_u16(out + proto::kDeviceInfoOffGyroRangeDps, d.imu.gyro_range_dps);
  put_u32(out + proto::kDeviceInfoOffRateMhz, d.imu.rate_mhz);
  put_f32(out + proto::kDeviceInfoOffAccelGPerCount, d.imu.accel_g_per_count);
  put_f32(out + proto::kDeviceInfoOffGyroDpsPerCount, d.imu.gyro_dps_per_count);
  put_u32(out + proto::kDeviceInfoOffModelHash, d.model_hash);
  out[proto::kDeviceInfoOffMode] = d.mode;
  put_u32(out + proto::kDeviceInfoOffModelRateMhz, d.model_rate_mhz);
  return proto::kDeviceInfoPayloadBytes;
}

size_t encode_status_payload(uint8_t* out, const Status& s) {
  put_u32(out + proto::kStatusOffSamplesProduced, s.samples_produced);
  put_u32(out + proto::kStatusOffSamplesDropped, s.samples_dropped);
  put_u32(out + proto::kStatusOffCommandErrors, s.command_errors);
  out[proto::kStatusOffMode] = s.mode;
  return proto::kStatusPayloadBytes;
}

size_t encode_device_info_labels(uint8_t* out, size_t capacity, const char* const* labels, size_t label_count) {
  if (capacity == 0) return 0;
  size_t n = 1;
  size_t included = 0;
  for (size_t i = 0; i < label_count && included < 255; ++i) {
    size_t length = strlen(labels[i]);
    if (n + length + 1 > capacity) break;
    memcpy(out + n, labels[i], length);
    n += length;
    out[n++] = 0;
    ++included;
  }
  out[0] = static_cast<uint8_t>(included);
  return n;
}

size_t encode_prediction_payload(uint8_t* out, const Prediction& p) {
  out[proto::kPredictionOffLabelIndex] = p.label_index;
  out[proto::kPredictionOffScoreQ] = static_cast<uint8_t>(p.score_q);
  put_u32(out + proto::kPredictionOffInferenceUs, p.inference_us);
  out[proto::kPredictionPayloadBytes] = p.detected ? 1 : 0;
  put_u32(out + proto::kPredictionPayloadBytes + 1, p.window_index);
  return proto::kPredictionPayloadBytes + kPredictionTailBytes;
}

size_t encode_ack_payload(uint8_t* out, const char* command_word) {
  size_t n = 0;
  while (command_word[n] != '\0' && n < proto::kMaxPayload) {
    out[n] = static_cast<uint8_t>(command_word[n]);
    ++n;
  }
  return n;
}

size_t encode_error_payload(uint8_t* out, uint8_t code, const char* message) {
  out[proto::kErrorOffCode] = code;
  size_t n = proto::kErrorPayloadBytes;
  for (size_t i = 0; message[i] != '\0' && n < proto::kMaxPayload; ++i) {
    out[n++] = static_cast<uint8_t>(message[i]);
  }
  return n;
}

}  // namespace ng
