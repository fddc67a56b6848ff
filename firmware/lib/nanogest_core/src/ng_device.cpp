#include "ng_device.h"

#include <stdio.h>

#include "ng_text.h"

namespace ng {

namespace {
// Fixed sizes of the two frames sent per sample or window (no variable-length arrays).
constexpr size_t kPredictionPayloadAllBytes = proto::kPredictionPayloadBytes + kPredictionTailBytes;
constexpr size_t kPredictionFrameBytes = frame_bytes(kPredictionPayloadAllBytes);
constexpr size_t kSampleFrameBytes = frame_bytes(proto::kSamplePayloadBytes);
static_assert(kPredictionPayloadAllBytes <= proto::kMaxPayload, "a PREDICTION payload must fit one frame");
static_assert(proto::kSamplePayloadBytes <= proto::kMaxPayload, "a SAMPLE payload must fit one frame");
static_assert(kPredictionFrameBytes <= proto::kMaxFrameBytes && kSampleFrameBytes <= proto::kMaxFrameBytes,
              "frame buffers are bounded by proto::kMaxFrameBytes");
}  // namespace

Device::Device(ImuProvider& imu, ByteRing& tx, const DeviceConfig& config)
    : imu_(imu),
      tx_(tx),
      config_(config),
      mode_(proto::kModeCapture),
      streaming_(false),
      text_header_sent_(false),
      seq_(0),
      samples_produced_(0),
      samples_dropped_(0),
      responses_dropped_(0),
      command_errors_(0),
      predictions_dropped_(0),
      detections_(0),
      last_detected_label_(-1) {}

DeviceInfo Device::device_info() const {
  DeviceInfo info;
  info.protocol_version = proto::kProtocolVersion;
  info.fw_major = config_.fw_major;
  info.fw_minor = config_.fw_minor;
  info.fw_patch = config_.fw_patch;
  info.board_rev = config_.board_rev;
  info.imu = imu_.info();
  info.model_hash = config_.inference != nullptr ? config_.inference->settings().model_hash : config_.model_hash;
  info.mode = mode_;
  info.model_rate_mhz = config_.inference != nullptr ? config_.inference->settings().rate_mhz : 0;
  return info;
}

Status Device::status() const {
  Status s;
  s.samples_produced = samples_produced_;
  s.samples_dropped = samples_dropped_;
  s.command_errors = command_errors_;
  s.mode = mode_;
  return s;
}

void Device::on_rx(const uint8_t* data, size_t length, uint32_t now_us) {
  Command command;
  for (size_t i = 0; i < length; ++i) {
    if (parser_.feed(data[i], &command)) handle(command, now_us);
  }
}

size_t Device::poll(uint32_t now_us) {
  if (!streaming_) return 0;
  ImuCounts sample;
  if (config_.pacing == Pacing::kByImuReady) {
    if (!imu_.read(&sample)) return 0;
    take_sample(sample, now_us);
    return 1;
  }
  size_t taken = 0;
  while (taken < kMaxSamplesPerPoll && clock_.is_due(now_us)) {
    if (!imu_.read(&sample)) break;
    take_sample(sample, clock_.due_t_us());
    clock_.advance();
    ++taken;
  }
  return taken;
}

uint64_t Device::us_until_next_sample() const {
  if (!streaming_ || config_.pacing != Pacing::kByClock) return UINT64_MAX;
  return clock_.us_until_due();
}

void Device::handle(const Command& command, uint32_t now_us) {
  uint8_t payload[proto::kMaxPayload];
  switch (command.kind) {
    case CommandKind::kError:
      send_error(command.error_code, command.message, now_us);
      return;
    case CommandKind::kPing:
      break;
    case CommandKind::kInfo: {
      size_t length = encode_device_info_payload(payload, device_info());
      if (config_.inference != nullptr) {
        const ModelSettings& s = config_.inference->settings();
        length += encode_device_info_labels(payload + length, sizeof payload - length, s.labels, s.label_count);
      }
      send_response(proto::kMsgDeviceInfo, payload, length, now_us);
      break;
    }
    case CommandKind::kStatus:
      send_response(proto::kMsgStatus, payload, encode_status_payload(payload, status()), now_us);
      break;
    case CommandKind::kStart:
      if (mode_ == proto::kModeReplay) {  // a replay take begins; the host sends the samples
        config_.inference->reset();
        break;
      }
      if (imu_.info().chip == proto::kImuUnknown) {
        send_error(proto::kErrUnavailable, "no IMU was detected, so there is nothing to stream", now_us);
        return;
      }
      send_response(proto::kMsgAck, payload, encode_ack_payload(payload, command_word(command.kind)), now_us);
      start_stream(now_us);  // after the ACK, so a text-mode header starts the CSV
      return;
    case CommandKind::kStop:
      stop_stream();
      break;
    case CommandKind::kSample: {
      if (mode_ != proto::kModeReplay) {
        send_error(proto::kErrUnavailable, "sample lines are taken in mode replay only", now_us);
        return;
      }
      ImuCounts sample = {{command.sample[0], command.sample[1], command.sample[2]},
                          {command.sample[3], command.sample[4], command.sample[5]}};
      ++samples_produced_;
      infer(sample, now_us);
      return;  // not acknowledged: see capture/wire/protocol_spec.py
    }
    case CommandKind::kMode:
      if ((command.mode == proto::kModeInference || command.mode == proto::kModeReplay ||
           command.mode == proto::kModeTextInference) &&
          config_.inference == nullptr) {
        if (config_.model_failure != nullptr) {
          send_error(proto::kErrModelFailed, config_.model_failure, now_us);
          return;
        }
        char message[96];
        snprintf(message, sizeof message, "mode %s needs a model, and this firmware has none",
                 proto::kModeNames[command.mode]);
        send_error(proto::kErrUnavailable, message, now_us);
        return;
      }
      if (command.mode == proto::kModeReplay) stop_stream();  // replay samples come from the host only
      if (command.mode != mode_) text_header_sent_ = false;
      mode_ = command.mode;
      if (config_.inference != nullptr) config_.inference->reset();
      break;
  }
  // The ACK follows any data frame it answers, so "ack info" means the info has arrived.
  send_response(proto::kMsgAck, payload, encode_ack_payload(payload, command_word(command.kind)), now_us);
}

void Device::start_stream(uint32_t now_us) {
  imu_.on_stream_start();
  clock_.start(imu_.info().rate_mhz, now_us);
  streaming_ = true;
  if (inference_mode()) config_.inference->reset();
  if (mode_ == proto::kModeText && !text_header_sent_) {
    text_header_sent_ = push_text(kTextHeader, kTextHeaderBytes, 0);
  }
}

void Device::stop_stream() {
  if (streaming_ && mode_ == proto::kModeText) push_text("\r\n", 2, 0);  // blank line ends a take
  streaming_ = false;
}

bool Device::inference_mode() const {
  return config_.inference != nullptr && (mode_ == proto::kModeInference || mode_ == proto::kModeTextInference);
}

void Device::infer(const ImuCounts& sample, uint32_t t_us) {
  WindowResult results[kMaxResampleOutputs];
  const size_t n = config_.inference->push_imu(sample, imu_.info(), results);
  for (size_t i = 0; i < n; ++i) report(results[i], t_us);
}

void Device::report(const WindowResult& r, uint32_t t_us) {
  if (r.status != InvokeStatus::kOk) {
    send_error(proto::kErrModelFailed,
               r.status == InvokeStatus::kBadSize   ? "the model's tensors do not match the settings"
               : r.status == InvokeStatus::kBadRate ? "the model's rate is over 4x the IMU's; the board cannot resample to it"
                                                    : "the model runtime failed on a window",
               t_us);
    return;
  }
  if (r.decision.detected) {
    ++detections_;
    last_detected_label_ = r.decision.label_index;
  }
  if (mode_ == proto::kModeTextInference) {
    if (!r.decision.detected) return;
    char line[96];
    const ModelSettings& s = config_.inference->settings();
    long centi = static_cast<long>(r.decision.score * 100.0f + 0.5f);
    if (centi < 0) centi = 0;
    int n = snprintf(line, sizeof line, "gesture %s score %ld.%02ld inference_us %lu\r\n", s.labels[r.decision.label_index],
                     centi / 100, centi % 100, static_cast<unsigned long>(r.inference_us));
    if (n < 0) return;
    size_t length = static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1;
    if (!push_text(line, length, kResponseReserveBytes)) ++predictions_dropped_;
    return;
  }
  Prediction p;
  p.label_index = r.decision.label_index;
  p.score_q = r.decision.score_q;
  p.inference_us = r.inference_us;
  p.detected = r.decision.detected;
  p.window_index = r.window_index;
  uint8_t payload[kPredictionPayloadAllBytes];
  uint8_t frame[kPredictionFrameBytes];
  size_t length = encode_frame(frame, sizeof frame, proto::kMsgPrediction, seq_++, t_us, payload,
                               encode_prediction_payload(payload, p));
  if (tx_.free_space() < length + kResponseReserveBytes || !tx_.push(frame, length)) ++predictions_dropped_;
}

void Device::take_sample(const ImuCounts& sample, uint32_t t_us) {
  ++samples_produced_;
  if (inference_mode()) {
    infer(sample, t_us);
    return;
  }
  if (mode_ == proto::kModeText) {
    char line[kTextLineMaxBytes];
    size_t length = format_text_line(line, sample, imu_.info());
    if (!push_text(line, length, kResponseReserveBytes)) ++samples_dropped_;
    return;
  }
  uint8_t payload[proto::kSamplePayloadBytes];
  uint8_t frame[kSampleFrameBytes];
  size_t length = encode_frame(frame, sizeof frame, proto::kMsgSample, seq_++, t_us, payload,
                               encode_sample_payload(payload, sample));
  if (tx_.free_space() < length + kResponseReserveBytes || !tx_.push(frame, length)) ++samples_dropped_;
}

bool Device::send_response(uint8_t type, const uint8_t* payload, size_t length, uint32_t now_us) {
  uint8_t frame[proto::kMaxFrameBytes];
  size_t frame_length = encode_frame(frame, sizeof frame, type, seq_++, now_us, payload, length);
  if (frame_length == 0 || !tx_.push(frame, frame_length)) {
    ++responses_dropped_;
    return false;
  }
  return true;
}

void Device::send_error(uint8_t code, const char* message, uint32_t now_us) {
  ++command_errors_;
  uint8_t payload[proto::kMaxPayload];
  send_response(proto::kMsgError, payload, encode_error_payload(payload, code, message), now_us);
}

bool Device::push_text(const char* text, size_t length, size_t reserve) {
  if (tx_.free_space() < length + reserve) return false;
  return tx_.push(reinterpret_cast<const uint8_t*>(text), length);
}

}  // namespace ng
