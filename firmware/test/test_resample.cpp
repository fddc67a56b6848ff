// The fixed-ratio resampler (ng_resample.h): pass-through at equal rates, the stated
// interpolation at 100 -> 119, 119 -> 100 and 119 -> 50 Hz, and the number of outputs.
#include "ng_resample.h"
#include "ng_test.h"

using namespace ng;

namespace {

ImuCounts ramp(int k) {
  ImuCounts s = {{static_cast<int16_t>(100 * k), static_cast<int16_t>(-7 * k), static_cast<int16_t>(k * k)},
                 {static_cast<int16_t>(32767 - k), static_cast<int16_t>(-32768 + 3 * k), 5}};
  return s;
}

// Feeds inputs 0..n-1; returns how many outputs came out, keeping channel 0 of the first 64.
size_t run(Resampler& r, int n, int16_t* first_channel) {
  ImuCounts out[kMaxResampleOutputs];
  size_t total = 0;
  for (int k = 0; k < n; ++k) {
    size_t got = r.push(ramp(k), out);
    CHECK(got <= kMaxResampleOutputs);
    for (size_t j = 0; j < got; ++j, ++total) {
      if (total < 64) first_channel[total] = out[j].accel[0];
    }
  }
  return total;
}

}  // namespace

TEST(resampler_passes_samples_through_at_equal_rates) {
  Resampler r;
  CHECK(r.configure(119000, 119000));
  CHECK(r.passes_through());
  ImuCounts out[kMaxResampleOutputs];
  for (int k = 0; k < 20; ++k) {
    CHECK_EQ(r.push(ramp(k), out), 1);
    for (size_t c = 0; c < 3; ++c) {
      CHECK_EQ(out[0].accel[c], ramp(k).accel[c]);
      CHECK_EQ(out[0].gyro[c], ramp(k).gyro[c]);
    }
  }
}

TEST(resampler_reduces_the_ratio) {
  Resampler r;
  CHECK(r.configure(100000, 119000));
  CHECK_EQ(r.step(), 100);
  CHECK_EQ(r.den(), 119);
  CHECK(r.configure(119000, 50000));
  CHECK_EQ(r.step(), 119);
  CHECK_EQ(r.den(), 50);
}

TEST(resampler_100_to_119_interpolates_at_k_times_100_over_119) {
  Resampler r;
  CHECK(r.configure(100000, 119000));
  int16_t ch0[64];
  // n inputs give every k with 100 k <= 119 (n - 1): for n = 50, k = 0..58.
  CHECK_EQ(run(r, 50, ch0), 59);
  // channel 0 is 100 * input index, so y_k = round(100 * k * 100 / 119).
  for (int k = 0; k < 59; ++k) {
    long exact2 = 2L * 100 * 100 * k;  // 2 * numerator over 119
    long expected = (exact2 + 119) / (2 * 119);
    CHECK_EQ(ch0[k], expected);
  }
}

TEST(resampler_119_to_100_and_119_to_50_keep_every_grid_point) {
  Resampler down;
  CHECK(down.configure(119000, 100000));
  int16_t ch0[64];
  CHECK_EQ(run(down, 60, ch0), 50);  // k with 119 k <= 100 * 59
  CHECK_EQ(ch0[0], 0);
  CHECK_EQ(ch0[1], 119);  // 1.19 input samples of 100 counts each
  CHECK_EQ(ch0[49], 5831);
  Resampler fifty;
  CHECK(fifty.configure(119000, 50000));
  CHECK_EQ(run(fifty, 120, ch0), 51);  // 119 k <= 50 * 119: k = 0..50
  CHECK_EQ(ch0[1], 238);                // input position 2.38
  CHECK_EQ(ch0[50], 11900);
}

TEST(resampler_rounds_ties_away_from_zero_and_hits_both_ends) {
  CHECK_EQ(resample_lerp(0, 1, 1, 2), 1);
  CHECK_EQ(resample_lerp(0, -1, 1, 2), -1);
  CHECK_EQ(resample_lerp(10, 13, 1, 2), 12);  // 11.5 -> 12
  CHECK_EQ(resample_lerp(10, 7, 1, 2), 8);    // 8.5 -> 8 (away from zero of the step -1.5 -> -2)
  CHECK_EQ(resample_lerp(-32768, 32767, 0, 7), -32768);
  CHECK_EQ(resample_lerp(-32768, 32767, 7, 7), 32767);
  CHECK_EQ(resample_lerp(32767, -32768, 3, 7), 32767 - 28086);  // 65535 * 3 / 7 = 28086.4
}

TEST(resampler_lerp_agrees_between_its_32_and_64_bit_paths) {
  // den 32767 takes the 32-bit path, 32768 and up the 64-bit one; both must be the exact quotient.
  const uint32_t dens[] = {3, 119, 32767, 32768, 119001, 4000000000u};
  const int16_t ends[][2] = {{-32768, 32767}, {32767, -32768}, {5, 6}, {-7, 100}};
  for (uint32_t den : dens) {
    for (const auto& e : ends) {
      const uint32_t rs[] = {1u, den / 3u, den / 2u, den - 1u};
      for (uint32_t r : rs) {
        const long long d = static_cast<long long>(e[1]) - e[0];
        const long long m = (d < 0 ? -d : d) * static_cast<long long>(r);
        const long long q = (2 * m + den) / (2 * static_cast<long long>(den));
        CHECK_EQ(resample_lerp(e[0], e[1], r, den), e[0] + (d < 0 ? -q : q));
      }
    }
  }
}

TEST(resampler_reset_starts_a_new_take_at_output_zero) {
  Resampler r;
  CHECK(r.configure(100000, 119000));
  int16_t a[64], b[64];
  size_t first = run(r, 30, a);
  r.reset();
  size_t second = run(r, 30, b);
  CHECK_EQ(first, second);
  for (size_t k = 0; k < first && k < 64; ++k) CHECK_EQ(a[k], b[k]);
}

TEST(resampler_refuses_a_zero_rate_or_too_high_an_upsampling) {
  Resampler r;
  CHECK(!r.configure(0, 119000));
  CHECK(r.passes_through());
  CHECK(!r.configure(10000, 119000));
  CHECK(r.passes_through());
  CHECK(r.configure(30000, 119000));
  int16_t ch0[64];
  CHECK_EQ(run(r, 10, ch0), 36);  // 30 k <= 119 * 9
}
