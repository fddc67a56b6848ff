// The committed default model as the virtual board uses it, straight from the
// converter's generated headers (the same bytes and constants the real board is built
// with):
//   default_model --write-tflite PATH   writes g_model_data (model_data.cc) to PATH
//   default_model --write-report PATH   writes the header's arena sizes as a small report.json
//                                       (arena_bytes, arena_measured_bytes when recorded)
// `make -C firmware host` uses them to assemble build/host/default_run/ (with the committed
// host/default_run/contract.json and a copy of the generated model_settings.h, which the
// virtual board built for that run compiles in).
#include <stdio.h>
#include <string.h>

#include "model_data.h"
#include "ng_header_settings.h"  // the model's settings from the generated model_settings.h, as on the board

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--write-tflite") == 0) {
    FILE* out = fopen(argv[2], "wb");
    if (out == nullptr || fwrite(g_model_data, 1, g_model_data_len, out) != g_model_data_len || fclose(out) != 0) {
      fprintf(stderr, "default_model: cannot write %s\n", argv[2]);
      return 1;
    }
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "--write-report") == 0) {
    namespace m = ng::model;
    FILE* out = fopen(argv[2], "wb");
    bool ok = out != nullptr && fprintf(out, "{\n  \"arena_bytes\": %u", m::kArenaBytes) > 0;
    if (ok && m::kArenaMeasuredBytes > 0) ok = fprintf(out, ",\n  \"arena_measured_bytes\": %u", m::kArenaMeasuredBytes) > 0;
    if (ok) ok = fputs("\n}\n", out) >= 0;
    if (out == nullptr || fclose(out) != 0 || !ok) {
      fprintf(stderr, "default_model: cannot write %s\n", argv[2]);
      return 1;
    }
    return 0;
  }
  fprintf(stderr, "usage: default_model --write-tflite PATH | --write-report PATH\n");
  return 2;
}
