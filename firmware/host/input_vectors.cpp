// Prints the int8 input tensors the core computes for windows of counts, one line of
// hex per window, so tests can compare them byte for byte with the Python pipeline.
//
//   input_vectors ACCEL_G_PER_COUNT GYRO_DPS_PER_COUNT < settings block, then lines
//
// stdin: a model settings block (converter/tflm_server.py format, ending with "end"),
// then one line "ax ay az gx gy gz" of counts per sample; a blank line starts a new
// take (the window is emptied, as `start` does in replay mode).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "model_settings_text.h"
#include "ng_input.h"
#include "ng_window.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: input_vectors ACCEL_G_PER_COUNT GYRO_DPS_PER_COUNT < settings + count lines\n");
    return 2;
  }
  vboard::TextSettings text;
  std::string error;
  if (!vboard::read_text_settings(stdin, &text, &error)) {
    fprintf(stderr, "input_vectors: %s\n", error.c_str());
    return 2;
  }
  const ng::ModelSettings& s = text.settings;
  std::vector<int16_t> storage(s.window_samples * ng::kImuChannels);
  std::vector<int8_t> input(storage.size());
  ng::SampleWindow window(storage.data(), s.window_samples, s.hop_samples);
  ng::InputParams params = {strtof(argv[1], nullptr), strtof(argv[2], nullptr), s.mean, s.std, s.input_scale,
                            s.input_zero_point};
  char line[256];
  while (fgets(line, sizeof line, stdin) != nullptr) {
    int v[6];
    if (sscanf(line, "%d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
      window.reset();
      continue;
    }
    ng::ImuCounts c = {{static_cast<int16_t>(v[0]), static_cast<int16_t>(v[1]), static_cast<int16_t>(v[2])},
                       {static_cast<int16_t>(v[3]), static_cast<int16_t>(v[4]), static_cast<int16_t>(v[5])}};
    if (!window.push(c)) continue;
    ng::window_to_input(window, params, input.data());
    for (int8_t q : input) printf("%02x", static_cast<uint8_t>(q));
    printf("\n");
  }
  return 0;
}
