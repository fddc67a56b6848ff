// IMU providers of the real board. Each driver library lives in its own
// translation unit (both define an `IMU` macro); this header does not include them.
#pragma once
#include "ng_imu.h"
#include "ng_protocol_defs.h"

// LSM9DS1 on the Nano 33 BLE Sense Rev1 (Arduino_LSM9DS1: +/-4 g, +/-2000 dps, 119 Hz).
class Lsm9ds1Imu : public ng::ImuProvider {
 public:
  Lsm9ds1Imu();
  bool begin();  // false when the chip does not answer
  const ng::ImuInfo& info() const override { return info_; }
  bool read(ng::ImuCounts* out) override;

 private:
  ng::ImuInfo info_;
};

// BMI270 on the Rev2 (Arduino_BMI270_BMM150: +/-4 g, +/-2000 dps, 100 Hz, axes remapped by the library).
class Bmi270Imu : public ng::ImuProvider {
 public:
  Bmi270Imu();
  bool begin();
  const ng::ImuInfo& info() const override { return info_; }
  bool read(ng::ImuCounts* out) override;

 private:
  ng::ImuInfo info_;
};

// The provider chosen at boot (or none): what the Device talks to.
class DetectedImu : public ng::ImuProvider {
 public:
  DetectedImu() : chosen_(nullptr) {
    none_.chip = ng::proto::kImuUnknown;
    none_.rate_mhz = 0;
    none_.accel_range_g = 0;
    none_.gyro_range_dps = 0;
    none_.accel_g_per_count = 0;
    none_.gyro_dps_per_count = 0;
  }
  void choose(ng::ImuProvider* imu) { chosen_ = imu; }
  const ng::ImuInfo& info() const override { return chosen_ ? chosen_->info() : none_; }
  bool read(ng::ImuCounts* out) override { return chosen_ != nullptr && chosen_->read(out); }

 private:
  ng::ImuProvider* chosen_;
  ng::ImuInfo none_;
};
