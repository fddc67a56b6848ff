// Frame and payload encoders for the layout in capture/wire/protocol_spec.py:
//   sync0 sync1 | payload_len u16 | type u8 | seq u32 | t_us u32 | payload | crc u16
// All integers little-endian, written byte by byte (no struct packing, no host
// endianness assumptions). The CRC covers payload_len .. end of payload.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_imu.h"
#include "ng_protocol_defs.h"

namespace ng {

// Writes one frame into `out`. Returns the frame length, or 0 when the payload is
// longer than proto::kMaxPayload or the frame does not fit in `out_capacity`.
size_t encode_frame(uint8_t* out, size_t out_capacity, uint8_t type, uint32_t seq, uint32_t t_us,
                    const uint8_t* payload, size_t payload_len);

// Frame length for a payload of `payload_len` bytes; constexpr so that frame buffers have
// fixed sizes (the core uses no variable-length arrays).
constexpr size_t frame_bytes(size_t payload_len) { return proto::kHeaderBytes + payload_len + proto::kCrcBytes; }

struct DeviceInfo {
  uint8_t protocol_version;
  uint8_t fw_major, fw_minor, fw_patch;
  uint8_t board_rev;  // proto::kBoard*
  ImuInfo imu;
  uint32_t model_hash;  // 0 when no model is flashed
  uint8_t mode;         // proto::kMode*
  uint32_t model_rate_mhz;  // the rate the model was trained at; 0: no model
};

struct Status {
  uint32_t samples_produced;
  uint32_t samples_dropped;
  uint32_t command_errors;
  uint8_t mode;
};

// Payload encoders: each writes into `out` (at least proto::kMaxPayload bytes) and
// returns the payload length.
size_t encode_sample_payload(uint8_t* out, const ImuCounts& sample);
size_t encode_device_info_payload(uint8_t* out, const DeviceInfo& info);
size_t encode_status_payload(uint8_t* out, const Status& status);
// DEVICE_INFO tail of a board with a model (after the fixed part): label_count, then
// the names NUL-terminated. Writes at most `capacity` bytes; names that do not fit are
// left out and not counted. Returns the tail length.
size_t encode_device_info_labels(uint8_t* out, size_t capacity, const char* const* labels, size_t label_count);
// PREDICTION payload: the fixed part (label_index, score_q, inference_us), then the tail
// of capture/wire/protocol_spec.PREDICTION_TAIL (detected, window_index).
struct Prediction {
  uint8_t label_index;
  int8_t score_q;
  uint32_t inference_us;
  bool detected;
  uint32_t window_index;
};
constexpr size_t kPredictionTailBytes = 5;  // detected u8, window_index u32
size_t encode_prediction_payload(uint8_t* out, const Prediction& p);
// ACK payload: the acknowledged command word (ASCII, no terminator).
size_t encode_ack_payload(uint8_t* out, const char* command_word);
// ERROR payload: code byte then the ASCII message, truncated to fit.
size_t encode_error_payload(uint8_t* out, uint8_t code, const char* message);

// Little-endian writers (byte by byte), exposed for tests.
void put_u16(uint8_t* out, uint16_t v);
void put_u32(uint8_t* out, uint32_t v);
void put_f32(uint8_t* out, float v);

}  // namespace ng
