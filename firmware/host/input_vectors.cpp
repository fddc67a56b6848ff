// Prints the int8 input tensors the core computes for windows of counts, one line of
// hex per window, so tests can compare them byte for byte with the Python pipeline.
//
//   input_vectors ACCEL_G_PER_COUNT GYRO_DPS_PER_COUNT [IMU_RATE_HZ] < count lines
//
// Built per model like the virtual board (boardtools/virtual_build.py): the settings are a
// generated model_settings.h compiled in (run_settings.h).
// With IMU_RATE_HZ the counts are an IMU stream at that rate and are resampled to the model's
// rate first (ng_resample.h), as the board's InferencePipeline::push_imu does.
// stdin: one line "ax ay az gx gy gz" of counts per sample; a blank line starts a new
// take (the window is emptied, as `start` does in replay mode).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ng_input.h"
#include "run_settings.h"
#include "ng_resample.h"
#include "ng_window.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: input_vectors ACCEL_G_PER_COUNT GYRO_DPS_PER_COUNT [IMU_RATE_HZ] < count lines\n");
    return 2;
  }
  const ng::ModelSettings& s = vboard::compiled_run_settings()->model;
  std::vector<int16_t> storage(s.window_samples * ng::kImuChannels);
  std::vector<int8_t> input(storage.size());
  ng::SampleWindow window(storage.data(), s.window_samples, s.hop_samples);
  ng::InputParams params = {strtof(argv[1], nullptr), strtof(argv[2], nullptr), s.mean, s.std, s.input_scale,
                            s.input_zero_point};
  ng::Resampler resampler;
  const uint32_t imu_rate_mhz = argc == 4 ? static_cast<uint32_t>(strtod(argv[3], nullptr) * 1000.0 + 0.5) : s.rate_mhz;
  if (!resampler.configure(imu_rate_mhz, s.rate_mhz)) {
    fprintf(stderr, "input_vectors: cannot resample %s Hz to the model's %.3f Hz\n", argv[3], s.rate_mhz / 1000.0);
    return 2;
  }
  char line[256];
  while (fgets(line, sizeof line, stdin) != nullptr) {
    int v[6];
    if (sscanf(line, "%d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
      window.reset();
      resampler.reset();
      continue;
    }
    ng::ImuCounts c = {{static_cast<int16_t>(v[0]), static_cast<int16_t>(v[1]), static_cast<int16_t>(v[2])},
                       {static_cast<int16_t>(v[3]), static_cast<int16_t>(v[4]), static_cast<int16_t>(v[5])}};
    ng::ImuCounts resampled[ng::kMaxResampleOutputs];
    const size_t n = resampler.push(c, resampled);
    for (size_t i = 0; i < n; ++i) {
      if (!window.push(resampled[i])) continue;
      ng::window_to_input(window, params, input.data());
      for (int8_t q : input) printf("%02x", static_cast<uint8_t>(q));
      printf("\n");
    }
  }
  return 0;
}
