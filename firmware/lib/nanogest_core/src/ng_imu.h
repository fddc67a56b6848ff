// The IMU provider seam: one interface for the LSM9DS1 (Rev1), the BMI270 (Rev2)
// and the host's replay provider. Samples travel as raw int16 counts; ImuInfo
// says how to turn them into g and deg/s.
#pragma once
#include <stdint.h>

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
