#include "ng_sampler.h"

namespace ng {

void SampleClock::start(uint32_t rate_mhz, uint32_t now_us) {
  rate_mhz_ = rate_mhz;
  start_us_ = now_us;
  last_now_us_ = now_us;
  elapsed_us_ = 0;
  index_ = 0;
}

uint64_t SampleClock::due_offset_us(uint64_t index) const {
  if (rate_mhz_ == 0) return UINT64_MAX;
  return index * 1000000000ull / rate_mhz_;
}

bool SampleClock::is_due(uint32_t now_us) {
  elapsed_us_ += static_cast<uint32_t>(now_us - last_now_us_);
  last_now_us_ = now_us;
  return rate_mhz_ != 0 && elapsed_us_ >= due_offset_us(index_);
}

uint64_t SampleClock::us_until_due() const {
  uint64_t due = due_offset_us(index_);
  return due > elapsed_us_ ? due - elapsed_us_ : 0;
}

}  // namespace ng
