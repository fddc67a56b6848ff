#include "ng_imu.h"

namespace ng {

int16_t value_to_counts(double value, double units_per_count, double range) {
  double limit = range / units_per_count;
  if (limit > 32767.0) limit = 32767.0;
  double counts = value / units_per_count;
  if (counts > limit) counts = limit;
  if (counts < -limit) counts = -limit;
  // Round half away from zero without <cmath> (std::lround is not in every newlib).
  double rounded = counts >= 0 ? counts + 0.5 : counts - 0.5;
  long whole = static_cast<long>(rounded);  // truncates toward zero
  if (whole > 32767) whole = 32767;
  if (whole < -32768) whole = -32768;
  return static_cast<int16_t>(whole);
}

}  // namespace ng
