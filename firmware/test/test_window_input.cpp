// SampleWindow (ring, hop) and the int8 input quantization.
#include <math.h>
#include <string.h>

#include "ng_input.h"
#include "ng_test.h"
#include "ng_window.h"

using namespace ng;

namespace {

ImuCounts counts_of(int k) {
  ImuCounts s = {{static_cast<int16_t>(k), static_cast<int16_t>(-k), 7}, {static_cast<int16_t>(2 * k), 0, -7}};
  return s;
}

}  // namespace

TEST(window_emits_first_after_window_then_every_hop) {
  int16_t storage[5 * kImuChannels];
  SampleWindow w(storage, 5, 2);
  int emitted_at[8];
  int n = 0;
  for (int k = 1; k <= 12; ++k) {
    if (w.push(counts_of(k)) && n < 8) emitted_at[n++] = k;
  }
  CHECK_EQ(n, 4);
  CHECK_EQ(emitted_at[0], 5);
  CHECK_EQ(emitted_at[1], 7);
  CHECK_EQ(emitted_at[2], 9);
  CHECK_EQ(emitted_at[3], 11);
  CHECK_EQ(w.windows_emitted(), 4);
}

TEST(window_reads_oldest_first_across_the_ring_wrap) {
  int16_t storage[4 * kImuChannels];
  SampleWindow w(storage, 4, 3);
  for (int k = 1; k <= 7; ++k) w.push(counts_of(k));  // holds samples 4..7, slot of 4 is not slot 0
  int16_t out[4 * kImuChannels];
  w.copy_oldest_first(out);
  for (int i = 0; i < 4; ++i) {
    CHECK_EQ(out[i * 6 + 0], 4 + i);
    CHECK_EQ(out[i * 6 + 1], -(4 + i));
    CHECK_EQ(out[i * 6 + 3], 2 * (4 + i));
    CHECK_EQ(out[i * 6 + 5], -7);
    CHECK_EQ(w.at(static_cast<size_t>(i), 0), 4 + i);
  }
}

TEST(window_reset_needs_a_full_window_again_and_hop_one_emits_every_sample) {
  int16_t storage[3 * kImuChannels];
  SampleWindow w(storage, 3, 1);
  for (int k = 1; k <= 4; ++k) w.push(counts_of(k));
  CHECK_EQ(w.windows_emitted(), 2);
  w.reset();
  CHECK(!w.push(counts_of(10)));
  CHECK(!w.push(counts_of(11)));
  CHECK(w.push(counts_of(12)));
  CHECK(w.push(counts_of(13)));
  CHECK_EQ(w.at(0, 0), 11);
  SampleWindow zero_hop(storage, 3, 0);  // taken as 1
  for (int k = 0; k < 3; ++k) zero_hop.push(counts_of(k));
  CHECK(zero_hop.push(counts_of(3)));
}

TEST(quantize_rounds_half_away_from_zero_then_adds_zero_point) {
  CHECK_EQ(quantize_to_int8(0.5f, 1.0f, 0), 1);
  CHECK_EQ(quantize_to_int8(-0.5f, 1.0f, 0), -1);
  CHECK_EQ(quantize_to_int8(2.5f, 1.0f, 0), 3);    // numpy's round would give 2
  CHECK_EQ(quantize_to_int8(-2.5f, 1.0f, 0), -3);
  CHECK_EQ(quantize_to_int8(-0.5f, 1.0f, 2), 1);   // round(-0.5) + 2, not round(1.5)
  CHECK_EQ(quantize_to_int8(0.49999997f, 1.0f, 0), 0);
  CHECK_EQ(quantize_to_int8(0.25f, 0.5f, -3), -3 + 1);  // 0.5 -> 1
  CHECK_EQ(quantize_to_int8(1.0f, 0.055193037f, 2), 18 + 2);  // 18.118
}

TEST(quantize_clamps_to_int8_and_survives_extremes) {
  CHECK_EQ(quantize_to_int8(127.4f, 1.0f, 0), 127);
  CHECK_EQ(quantize_to_int8(127.5f, 1.0f, 0), 127);
  CHECK_EQ(quantize_to_int8(126.0f, 1.0f, 5), 127);
  CHECK_EQ(quantize_to_int8(-128.6f, 1.0f, 0), -128);
  CHECK_EQ(quantize_to_int8(-125.0f, 1.0f, -10), -128);
  CHECK_EQ(quantize_to_int8(1e30f, 0.01f, 0), 127);
  CHECK_EQ(quantize_to_int8(-1e30f, 0.01f, 0), -128);
  CHECK_EQ(quantize_to_int8(INFINITY, 0.1f, 0), 127);
  CHECK_EQ(quantize_to_int8(NAN, 0.1f, 7), 7);
}

TEST(window_to_input_scales_normalizes_and_quantizes_each_channel) {
  int16_t storage[2 * kImuChannels];
  SampleWindow w(storage, 2, 1);
  ImuCounts a = {{8197, 0, -8197}, {1000, -1000, 0}};
  ImuCounts b = {{0, 4098, 0}, {0, 0, 2000}};
  w.push(a);
  w.push(b);
  const float mean[6] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 10.0f};
  const float std[6] = {1.0f, 0.5f, 1.0f, 70.0f, 35.0f, 20.0f};
  InputParams p = {0.000122f, 0.07f, mean, std, 0.1f, -1};
  int8_t out[2 * kImuChannels];
  window_to_input(w, p, out);
  // 8197 counts = 1.000 g -> 1.0 / 0.1 = 10 -> 10 - 1 = 9
  CHECK_EQ(out[0], 9);
  CHECK_EQ(out[1], -1);
  CHECK_EQ(out[2], -11);
  CHECK_EQ(out[3], 9);    // 70 dps / 70 = 1.0 -> 10 - 1
  CHECK_EQ(out[4], -21);  // -70 / 35 = -2 -> -20 - 1
  CHECK_EQ(out[5], -6);   // (0 - 10) / 20 = -0.5 -> -5 - 1
  CHECK_EQ(out[7], 9);    // 4098 * 0.000122 = 0.49996 g / 0.5 = 0.99992 -> 10 - 1
  CHECK_EQ(out[11], 64);  // (140 - 10) / 20 = 6.5 -> 65 - 1
}
