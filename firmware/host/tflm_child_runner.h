// The virtual board's ModelRunner: the model runs in the real TFLM interpreter inside
// a child process (`python -m converter.tflm_server MODEL`), which answers length-prefixed
// int8 tensors on its stdin/stdout. Only the invocation leaves the core: the settings are
// compiled in from the run's model_settings.h (run_settings.h).
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <string>

#include "ng_model_runner.h"
#include "run_settings.h"

namespace vboard {

class TflmChildRunner : public ng::ModelRunner {
 public:
  TflmChildRunner() : pid_(-1), to_child_(-1), from_child_(nullptr) {}
  ~TflmChildRunner() override;

  // Starts `python -m converter.tflm_server model_path`. On failure returns false and sets
  // `error` to one sentence. arena_bytes > 0 passes `--arena-bytes N`: the child's
  // interpreter gets that arena.
  bool start(const std::string& python, const std::string& model_path, std::string* error,
             unsigned long arena_bytes = 0);
  // One invocation on zeros of the settings' sizes: false when the child refuses or has
  // exited (an arena too small makes it fail or crash as it starts).
  bool probe(const RunSettings& settings);

  ng::InvokeStatus Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) override;
  // A step model: one request of x_t then h, one reply of h' then the scores.
  ng::InvokeStatus InvokeStep(const int8_t* x, size_t n_x, const int8_t* state, size_t n_state, int8_t* state_next,
                              int8_t* scores, size_t n_scores) override;

 private:
  pid_t pid_;
  int to_child_;
  FILE* from_child_;
};

// The FNV-1a 32-bit hash of the model file (`model_path`/model_int8.tflite for a run directory),
// as the converter writes it into kModelHash. False, with `error` set, when it cannot be read.
bool model_file_hash(const std::string& model_path, uint32_t* hash, std::string* error);

}  // namespace vboard
