#include "replay_imu.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fstream>

#include "ng_protocol_defs.h"

namespace vboard {
namespace {

const ImuModel kModels[] = {
    {"lsm9ds1", ng::kLsm9ds1},
    {"bmi270", ng::kBmi270},
};

const char kHeader[] = "aX,aY,aZ,gX,gY,gZ";

std::string trimmed(const std::string& line) {
  size_t begin = 0;
  size_t end = line.size();
  while (begin < end && (line[begin] == ' ' || line[begin] == '\t')) ++begin;
  while (end > begin && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) --end;
  return line.substr(begin, end - begin);
}

bool is_header(const std::string& line) {
  std::string compact;
  for (char c : line) {
    if (c != ' ' && c != '\t') compact += c;
  }
  return compact == kHeader;
}

// Parses six finite comma-separated numbers.
bool parse_row(const std::string& line, double values[6]) {
  const char* p = line.c_str();
  for (int i = 0; i < 6; ++i) {
    char* end = nullptr;
    errno = 0;
    values[i] = strtod(p, &end);
    if (end == p || errno != 0 || !isfinite(values[i])) return false;
    while (*end == ' ' || *end == '\t') ++end;
    if (i < 5) {
      if (*end != ',') return false;
      p = end + 1;
    } else if (*end != '\0') {
      return false;
    }
  }
  return true;
}

}  // namespace

const ImuModel* find_imu_model(const std::string& name) {
  for (const ImuModel& m : kModels) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

ReplayImu::ReplayImu(const ImuModel& model, double rate_hz)
    : model_(model),
      info_(ng::imu_info(model.chip, static_cast<uint32_t>(llround(rate_hz * 1000.0)))),
      next_sample_(0),
      starts_(0) {}

bool ReplayImu::load(const std::string& path, std::string* error) {
  std::ifstream file(path.c_str());
  if (!file) {
    *error = "cannot open replay file " + path + ": " + strerror(errno) +
             " (give an IMU_Capture CSV with --replay FILE.csv)";
    return false;
  }
  samples_.clear();
  take_starts_.clear();
  bool seen_header = false;
  bool in_take = false;
  std::string raw;
  size_t line_number = 0;
  while (std::getline(file, raw)) {
    ++line_number;
    std::string line = trimmed(raw);
    if (line.empty()) {
      in_take = false;  // a blank line ends the take
      continue;
    }
    if (is_header(line)) {
      seen_header = true;
      continue;
    }
    if (!seen_header) {
      *error = path + ":" + std::to_string(line_number) + ": expected the IMU_Capture header '" + kHeader +
               "' before any sample row";
      return false;
    }
    double v[6];
    if (!parse_row(line, v)) {
      *error = path + ":" + std::to_string(line_number) +
               ": expected six comma-separated numbers (aX,aY,aZ in g, gX,gY,gZ in deg/s), got '" +
               line.substr(0, 60) + "'";
      return false;
    }
    if (!in_take) {
      take_starts_.push_back(samples_.size());
      in_take = true;
    }
    ng::ImuCounts counts;
    for (int i = 0; i < 3; ++i) {
      counts.accel[i] = ng::value_to_counts(v[i], model_.chip.accel_g_per_count, model_.chip.accel_range_g);
      counts.gyro[i] = ng::value_to_counts(v[3 + i], model_.chip.gyro_dps_per_count, model_.chip.gyro_range_dps);
    }
    samples_.push_back(counts);
  }
  if (samples_.empty()) {
    *error = path + ":" + std::to_string(line_number) + ": the replay file has no sample rows (expected the header '" +
             kHeader + "' followed by rows of six numbers)";
    return false;
  }
  return true;
}

bool ReplayImu::read(ng::ImuCounts* out) {
  *out = samples_[next_sample_];
  next_sample_ = (next_sample_ + 1) % samples_.size();
  return true;
}

void ReplayImu::on_stream_start() {
  next_sample_ = take_starts_[starts_ % take_starts_.size()];
  ++starts_;
}

}  // namespace vboard
