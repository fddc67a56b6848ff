// nanogest firmware for the Arduino Nano 33 BLE Sense: thin glue between the
// board (USB serial, micros(), the IMU drivers) and the portable core
// (lib/nanogest_core), which does everything else and is tested on host and QEMU.
// The model runs in TFLM (tflm_runner.h, included first: Arduino.h's abs() macro
// breaks TFLM's headers); its settings come from the generated model_settings.h.
#include "tflm_runner.h"

#include <Arduino.h>

#include "board_imu.h"
#include "ng_arena.h"
#include "ng_device.h"
#include "ng_header_settings.h"  // the model's settings from the generated model_settings.h

namespace {

// One full-speed USB CDC packet. The mbed core's USB serial does not implement
// availableForWrite() (it reports 0), so when it says 0 we send at most one packet
// per loop(), which the host drains within a USB frame.
const size_t kUsbPacketBytes = 64;

Lsm9ds1Imu lsm9ds1;
Bmi270Imu bmi270;
DetectedImu imu;
uint8_t tx_storage[4096];
ng::ByteRing tx(tx_storage, sizeof tx_storage);
ng::DeviceConfig config = {ng::proto::kBoardNano33bleRev1, 0, 2, 0, ng::model::kModelHash, ng::Pacing::kByImuReady};
ng::Device* device = nullptr;

// The recognition path, sized at compile time from the generated settings (ng_header_settings.h).
namespace m = ng::model;
constexpr ng::ModelSettings kModelSettings = ng::model_settings_from_header();
constexpr ng::StepModelSettings kStepSettings = ng::step_settings_from_header();
constexpr int kModelInputValues = ng::kModelInputValues;
constexpr int kStateValues = ng::kModelStateValues;
int16_t window_counts[kModelInputValues];
int8_t model_input[kModelInputValues];
int8_t model_state[kStateValues];
int8_t model_state_next[kStateValues];
int8_t model_output[m::kLabelCount];
TflmRunner runner;
char model_failure[ng::kArenaMessageMaxBytes];  // why runner.begin() failed (ERROR model_failed)

uint32_t board_micros() { return micros(); }

// The RGB LED (active low) shows the latest detected label for kLedHoldMs.
const uint32_t kLedHoldMs = 600;
uint32_t shown_detections = 0;
uint32_t led_on_since_ms = 0;
bool led_on = false;

void set_led(int label) {
  // Label index -> one of seven colours (bit 0 red, bit 1 green, bit 2 blue); -1: off.
  int colour = label < 0 ? 0 : (label % 7) + 1;
  digitalWrite(LEDR, (colour & 1) ? LOW : HIGH);
  digitalWrite(LEDG, (colour & 2) ? LOW : HIGH);
  digitalWrite(LEDB, (colour & 4) ? LOW : HIGH);
}

void show_detections() {
  if (device->detections() != shown_detections) {
    shown_detections = device->detections();
    set_led(device->last_detected_label());
    led_on_since_ms = millis();
    led_on = true;
  } else if (led_on && millis() - led_on_since_ms > kLedHoldMs) {
    set_led(-1);
    led_on = false;
  }
}

void receive_commands() {
  uint8_t buffer[64];
  size_t n = 0;
  while (n < sizeof buffer && Serial.available() > 0) buffer[n++] = static_cast<uint8_t>(Serial.read());
  if (n > 0) device->on_rx(buffer, n, micros());
}

void send_queued_bytes() {
  if (tx.empty()) return;
  int room = Serial.availableForWrite();
  size_t budget = room > 0 ? static_cast<size_t>(room) : kUsbPacketBytes;
  const uint8_t* run = nullptr;
  size_t n = tx.peek(&run);
  if (n > budget) n = budget;
  tx.pop(Serial.write(run, n));  // a closed port writes 0: bytes stay queued, later samples drop
}

}  // namespace

void setup() {
  Serial.begin(115200);  // USB CDC: the baud rate is ignored; never wait for the host here
  if (lsm9ds1.begin()) {
    imu.choose(&lsm9ds1);
    config.board_rev = ng::proto::kBoardNano33bleRev1;
  } else if (bmi270.begin()) {
    imu.choose(&bmi270);
    config.board_rev = ng::proto::kBoardNano33bleRev2;
  }
  pinMode(LEDR, OUTPUT);
  pinMode(LEDG, OUTPUT);
  pinMode(LEDB, OUTPUT);
  set_led(-1);
  if (runner.begin()) {  // otherwise modes inference/replay answer ERROR model_failed with the sizes
    const ng::InferenceBuffers buffers{window_counts, model_input, model_output};
    if (m::kIsStepModel) {
      static ng::InferencePipeline pipeline(kModelSettings, kStepSettings, buffers,
                                            ng::StepBuffers{model_state, model_state_next}, runner, board_micros);
      config.inference = &pipeline;
    } else {
      static ng::InferencePipeline pipeline(kModelSettings, buffers, runner, board_micros);
      config.inference = &pipeline;
    }
  } else if (runner.arena_too_small()) {
    ng::format_arena_too_small(model_failure, sizeof model_failure, m::kArenaBytes, m::kArenaMeasuredBytes);
    config.model_failure = model_failure;
  } else {
    config.model_failure = "the model's schema version or operators do not match this firmware's TFLM; reconvert and rebuild";
  }
  static ng::Device the_device(imu, tx, config);
  device = &the_device;
}

void loop() {
  receive_commands();
  device->poll(micros());
  send_queued_bytes();
  show_detections();
}
