// LSM9DS1 provider: Arduino_LSM9DS1 1.1.1 (object IMU_LSM9DS1). The library reports
// g and deg/s; they are converted to counts of the scale announced in DEVICE_INFO.
#include <Arduino_LSM9DS1.h>

#include "board_imu.h"

Lsm9ds1Imu::Lsm9ds1Imu() : info_(ng::imu_info(ng::kLsm9ds1, ng::kLsm9ds1.rate_mhz)) {}

bool Lsm9ds1Imu::begin() { return IMU_LSM9DS1.begin() == 1; }

bool Lsm9ds1Imu::read(ng::ImuCounts* out) {
  // A sample is taken only when both sensors have a new reading: never wait.
  if (!IMU_LSM9DS1.accelerationAvailable() || !IMU_LSM9DS1.gyroscopeAvailable()) return false;
  float a[3], g[3];
  IMU_LSM9DS1.readAcceleration(a[0], a[1], a[2]);
  IMU_LSM9DS1.readGyroscope(g[0], g[1], g[2]);
  for (int i = 0; i < 3; ++i) {
    out->accel[i] = ng::value_to_counts(a[i], ng::kLsm9ds1.accel_g_per_count, ng::kLsm9ds1.accel_range_g);
    out->gyro[i] = ng::value_to_counts(g[i], ng::kLsm9ds1.gyro_dps_per_count, ng::kLsm9ds1.gyro_range_dps);
  }
  return true;
}
