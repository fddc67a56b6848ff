// The IMU provider seam: one interface for the LSM9DS1 (Rev1), the BMI270 (Rev2)
// and the host's replay provider. Samples travel as raw int16 counts; ImuInfo
// says how to turn them into g and deg/s.
#pragma once
#include <stdint.h>

#include "ng_contract_defs.h"
#include "ng_protocol_defs.h"

namespace ng {

struct ImuCounts {
  int16_t accel[3];  // aX, aY, aZ in counts of ImuInfo::accel_g_per_count
  int16_t gyro[3];   // gX, gY, gZ in counts of ImuInfo::gyro_dps_per_count
};

struct ImuInfo {
  uint8_t chip;               // proto::kImu*
  uint32_t rate_mhz;          // output data rate in millihertz (119 Hz -> 119000)
  uint16_t accel_range_g;     // full scale, +/- g
  uint16_t gyro_range_dps;    // full scale, +/- deg/s
  float accel_g_per_count;
  float gyro_dps_per_count;
};

// The two IMUs of the Nano 33 BLE Sense as nanogest runs them: the real board's providers
// (firmware/src) and the virtual board's emulation (firmware/host) both read them from here.
// Scales are the datasheet's at +/-4 g and +/-2000 dps; the values are contract/resample.py's
// IMU_SCALES and IMU_RATES_MHZ, generated into ng_contract_defs.h.
struct ImuChip {
  uint8_t chip;               // proto::kImu*
  uint32_t rate_mhz;          // the chip's own output data rate
  uint16_t accel_range_g;
  uint16_t gyro_range_dps;
  double accel_g_per_count;
  double gyro_dps_per_count;
};

constexpr ImuChip kLsm9ds1 = {proto::kImuLSM9DS1,           contract::kLsm9ds1RateMilliHz,
                              contract::kImuAccelRangeG,     contract::kImuGyroRangeDps,
                              contract::kLsm9ds1AccelGPerCount, contract::kLsm9ds1GyroDpsPerCount};  // Rev1
constexpr ImuChip kBmi270 = {proto::kImuBMI270,           contract::kBmi270RateMilliHz,
                             contract::kImuAccelRangeG,   contract::kImuGyroRangeDps,
                             contract::kBmi270AccelGPerCount, contract::kBmi270GyroDpsPerCount};  // Rev2

// What DEVICE_INFO announces for `chip` sampled at `rate_mhz`.
inline ImuInfo imu_info(const ImuChip& chip, uint32_t rate_mhz) {
  ImuInfo info;
  info.chip = chip.chip;
  info.rate_mhz = rate_mhz;
  info.accel_range_g = chip.accel_range_g;
  info.gyro_range_dps = chip.gyro_range_dps;
  info.accel_g_per_count = static_cast<float>(chip.accel_g_per_count);
  info.gyro_dps_per_count = static_cast<float>(chip.gyro_dps_per_count);
  return info;
}

class ImuProvider {
 public:
  virtual ~ImuProvider() {}
  virtual const ImuInfo& info() const = 0;
  // Fills `out` with the next sample and returns true, or returns false when no
  // new sample is ready yet (it never waits).
  virtual bool read(ImuCounts* out) = 0;
  // Called when streaming starts (the replay provider jumps to its next take).
  virtual void on_stream_start() {}
};

// Converts a physical value to counts: rounded half away from zero, clipped at
// +/- range and at the int16 limits.
int16_t value_to_counts(double value, double units_per_count, double range);

}  // namespace ng
