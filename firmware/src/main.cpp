// nanogest firmware for the Arduino Nano 33 BLE Sense: thin glue between the
// board (USB serial, micros(), the IMU drivers) and the portable core
// (lib/nanogest_core), which does everything else and is tested on host and QEMU.
#include <Arduino.h>

#include "board_imu.h"
#include "ng_device.h"

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
ng::DeviceConfig config = {ng::proto::kBoardNano33bleRev1, 0, 1, 0, 0, false, ng::Pacing::kByImuReady};
ng::Device* device = nullptr;

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
  static ng::Device the_device(imu, tx, config);
  device = &the_device;
}

void loop() {
  receive_commands();
  device->poll(micros());
  send_queued_bytes();
}
