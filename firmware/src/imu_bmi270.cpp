// BMI270 provider: Arduino_BMI270_BMM150 1.2.3 (object IMU_BMI270_BMM150), Rev2 boards.
#include <Arduino_BMI270_BMM150.h>

#include "board_imu.h"

Bmi270Imu::Bmi270Imu() : info_(ng::imu_info(ng::kBmi270, ng::kBmi270.rate_mhz)) {}

// BOSCH_ACCELEROMETER_ONLY sets up the BMI270's accelerometer and gyroscope and leaves the
// BMM150 magnetometer alone. The default (BOSCH_ACCEL_AND_MAGN) also sets up the
// magnetometer, and its result is then the magnetometer's alone: a board whose BMM150
// fails would report failure with a working BMI270, and the other way round.
bool Bmi270Imu::begin() { return IMU_BMI270_BMM150.begin(BOSCH_ACCELEROMETER_ONLY) == 1; }

bool Bmi270Imu::read(ng::ImuCounts* out) {
  if (!IMU_BMI270_BMM150.accelerationAvailable() || !IMU_BMI270_BMM150.gyroscopeAvailable()) return false;
  float a[3], g[3];
  IMU_BMI270_BMM150.readAcceleration(a[0], a[1], a[2]);
  IMU_BMI270_BMM150.readGyroscope(g[0], g[1], g[2]);
  for (int i = 0; i < 3; ++i) {
    out->accel[i] = ng::value_to_counts(a[i], ng::kBmi270.accel_g_per_count, ng::kBmi270.accel_range_g);
    out->gyro[i] = ng::value_to_counts(g[i], ng::kBmi270.gyro_dps_per_count, ng::kBmi270.gyro_range_dps);
  }
  return true;
}
