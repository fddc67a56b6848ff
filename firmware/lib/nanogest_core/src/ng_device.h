// The device application: ties the IMU provider, sample clock, command parser,
// frame encoder and TX ring together, so the Arduino sketch and the virtual board
// only move bytes and read clocks.
//
//   host bytes --on_rx()--> parser --> ACK / ERROR / DEVICE_INFO / STATUS frames --+
//   poll(now) --> IMU provider --> SAMPLE frame (capture) or CSV line (text) -------+--> TX ring
//                              \-> InferencePipeline (inference, text-inference) ---+
//                                  (resampled from the IMU's rate to the model's first)
//   "sample ..." lines (replay) --> InferencePipeline --> PREDICTION frames ---------+
//
// Nothing here blocks: when the TX ring is full a sample is dropped and counted
// (its sequence number is still used, so the host sees the gap). Responses have a
// reserve in the ring that samples may not use, so a busy stream cannot starve them.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_command.h"
#include "ng_frame.h"
#include "ng_imu.h"
#include "ng_inference.h"
#include "ng_protocol_defs.h"
#include "ng_ring.h"
#include "ng_sampler.h"

namespace ng {

enum class Pacing : uint8_t {
  kByClock,     // the SampleClock decides when a sample is due (virtual board)
  kByImuReady,  // a sample is taken whenever the IMU reports new data (real board)
};

struct DeviceConfig {
  uint8_t board_rev;  // proto::kBoard*
  uint8_t fw_major, fw_minor, fw_patch;
  uint32_t model_hash;  // 0: no model flashed (a pipeline's settings override it)
  Pacing pacing;
  // The recognition path, or nullptr: modes inference, replay and text-inference need it.
  InferencePipeline* inference = nullptr;
  // Without a pipeline: why the model could not be set up (format_arena_too_small()), or
  // nullptr (no model at all). Those modes then answer ERROR model_failed with this text
  // instead of ERROR unavailable; capture and text modes work either way.
  const char* model_failure = nullptr;
};

// Ring bytes that samples leave free for command responses.
constexpr size_t kResponseReserveBytes = 160;
// At most this many overdue samples are produced per poll() (keeps commands responsive).
constexpr size_t kMaxSamplesPerPoll = 32;

class Device {
 public:
  Device(ImuProvider& imu, ByteRing& tx, const DeviceConfig& config);

  // Feeds bytes received from the host; complete command lines are answered at once.
  void on_rx(const uint8_t* data, size_t length, uint32_t now_us);
  // Takes the samples that are due at device time `now_us`; returns how many.
  size_t poll(uint32_t now_us);
  // Microseconds until the next sample is due (kByClock pacing), or UINT64_MAX when idle.
  uint64_t us_until_next_sample() const;

  bool streaming() const { return streaming_; }
  uint8_t mode() const { return mode_; }
  uint32_t samples_produced() const { return samples_produced_; }
  uint32_t samples_dropped() const { return samples_dropped_; }
  uint32_t responses_dropped() const { return responses_dropped_; }
  uint32_t command_errors() const { return command_errors_; }
  uint32_t predictions_dropped() const { return predictions_dropped_; }
  // Detections fired so far and the label of the latest (for an LED; -1 before the first).
  uint32_t detections() const { return detections_; }
  int32_t last_detected_label() const { return last_detected_label_; }
  uint32_t next_seq() const { return seq_; }
  DeviceInfo device_info() const;
  Status status() const;

 private:
  void handle(const Command& command, uint32_t now_us);
  void start_stream(uint32_t now_us);
  void stop_stream();
  void take_sample(const ImuCounts& sample, uint32_t t_us);
  void infer(const ImuCounts& sample, uint32_t t_us);
  void report(const WindowResult& r, uint32_t t_us);
  bool inference_mode() const;
  bool send_response(uint8_t type, const uint8_t* payload, size_t length, uint32_t now_us);
  void send_error(uint8_t code, const char* message, uint32_t now_us);
  bool push_text(const char* text, size_t length, size_t reserve);

  ImuProvider& imu_;
  ByteRing& tx_;
  DeviceConfig config_;
  CommandParser parser_;
  SampleClock clock_;
  uint8_t mode_;
  bool streaming_;
  bool text_header_sent_;
  uint32_t seq_;
  uint32_t samples_produced_;
  uint32_t samples_dropped_;
  uint32_t responses_dropped_;
  uint32_t command_errors_;
  uint32_t predictions_dropped_;
  uint32_t detections_;
  int32_t last_detected_label_;
};

}  // namespace ng
