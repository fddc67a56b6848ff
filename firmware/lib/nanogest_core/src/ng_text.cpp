#include "ng_text.h"

#include <stdint.h>

namespace ng {

const char kTextHeader[] = "aX,aY,aZ,gX,gY,gZ\r\n";

size_t format_fixed3(char* out, double value) {
  size_t n = 0;
  if (value < 0) {
    out[n++] = '-';
    value = -value;
  }
  if (value > 4.0e9) value = 4.0e9;  // far beyond any IMU range; keeps the cast defined
  uint64_t milli = static_cast<uint64_t>(value * 1000.0 + 0.5);
  uint64_t whole = milli / 1000;
  unsigned frac = static_cast<unsigned>(milli % 1000);
  char digits[24];
  size_t d = 0;
  do {
    digits[d++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole != 0);
  while (d > 0) out[n++] = digits[--d];
  out[n++] = '.';
  out[n++] = static_cast<char>('0' + frac / 100);
  out[n++] = static_cast<char>('0' + (frac / 10) % 10);
  out[n++] = static_cast<char>('0' + frac % 10);
  return n;
}

size_t format_text_line(char* out, const ImuCounts& s, const ImuInfo& info) {
  size_t n = 0;
  for (int i = 0; i < 3; ++i) {
    n += format_fixed3(out + n, static_cast<double>(s.accel[i]) * info.accel_g_per_count);
    out[n++] = ',';
  }
  for (int i = 0; i < 3; ++i) {
    n += format_fixed3(out + n, static_cast<double>(s.gyro[i]) * info.gyro_dps_per_count);
    out[n++] = i < 2 ? ',' : '\r';
  }
  out[n++] = '\n';
  out[n] = '\0';
  return n;
}

}  // namespace ng
