// Text mode: IMU_Capture-compatible CSV lines (the official Arduino sketch prints
// `aX,aY,aZ,gX,gY,gZ` with Serial.print(value, 3) and println), so people with a
// serial monitor get the format they know. Values in g and deg/s, 3 decimals,
// rounded half away from zero, a '-' whenever the value is negative (as Arduino's
// Print does, including "-0.000").
#pragma once
#include <stddef.h>

#include "ng_imu.h"

namespace ng {

extern const char kTextHeader[];  // "aX,aY,aZ,gX,gY,gZ\r\n"
constexpr size_t kTextHeaderBytes = 19;  // strlen(kTextHeader)

// Longest line: 6 values of "-32767.000" + 5 commas + "\r\n" + terminator.
constexpr size_t kTextLineMaxBytes = 6 * 11 + 5 + 2 + 1;

// Writes one value with 3 decimals; returns the number of characters (no terminator).
size_t format_fixed3(char* out, double value);

// Writes "aX,aY,aZ,gX,gY,gZ\r\n" for one sample and a terminating NUL into `out`
// (at least kTextLineMaxBytes); returns the length without the NUL.
size_t format_text_line(char* out, const ImuCounts& sample, const ImuInfo& info);

}  // namespace ng
