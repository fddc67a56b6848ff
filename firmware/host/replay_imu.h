// Host IMU provider that replays an IMU_Capture CSV file (header aX,aY,aZ,gX,gY,gZ,
// values in g and deg/s, takes separated by blank lines) as raw counts of an
// emulated LSM9DS1 or BMI270. Each stream start jumps to the start of the next take
// (the first start plays take 0); playback runs on through the file and loops.
#pragma once
#include <stddef.h>

#include <string>
#include <vector>

#include "ng_imu.h"

namespace vboard {

// The emulated chip: what DEVICE_INFO announces and how values become counts.
struct ImuModel {
  const char* name;  // as given to --imu
  ng::ImuChip chip;  // ng_imu.h: the same facts the real board's providers use
};

// Looks up "lsm9ds1" or "bmi270"; nullptr if unknown.
const ImuModel* find_imu_model(const std::string& name);

class ReplayImu : public ng::ImuProvider {
 public:
  ReplayImu(const ImuModel& model, double rate_hz);

  // Reads and converts the whole file. On failure returns false and sets `error`
  // to one sentence naming the file (and line) and what to fix.
  bool load(const std::string& path, std::string* error);

  const ng::ImuInfo& info() const override { return info_; }
  bool read(ng::ImuCounts* out) override;
  void on_stream_start() override;

  size_t sample_count() const { return samples_.size(); }
  size_t take_count() const { return take_starts_.size(); }

 private:
  const ImuModel& model_;
  ng::ImuInfo info_;
  std::vector<ng::ImuCounts> samples_;
  std::vector<size_t> take_starts_;
  size_t next_sample_;
  size_t starts_;
};

}  // namespace vboard
