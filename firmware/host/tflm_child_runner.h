// The virtual board's ModelRunner: the model runs in the real TFLM interpreter inside
// a child process (`python -m converter.tflm_server MODEL`), which first prints the
// model's settings (read from the same run's files) and then answers length-prefixed
// int8 tensors on its stdin/stdout. Only the invocation leaves the core.
#pragma once
#include <stdio.h>
#include <sys/types.h>

#include <string>

#include "model_settings_text.h"
#include "ng_model_runner.h"

namespace vboard {

class TflmChildRunner : public ng::ModelRunner {
 public:
  TflmChildRunner() : pid_(-1), to_child_(-1), from_child_(nullptr) {}
  ~TflmChildRunner() override;

  // Starts `python -m converter.tflm_server model_path` and reads its settings into
  // `settings`. On failure returns false and sets `error` to one sentence.
  bool start(const std::string& python, const std::string& model_path, TextSettings* settings, std::string* error);

  ng::InvokeStatus Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) override;
  // A step model: one request of x_t then h, one reply of h' then the scores.
  ng::InvokeStatus InvokeStep(const int8_t* x, size_t n_x, const int8_t* state, size_t n_state, int8_t* state_next,
                              int8_t* scores, size_t n_scores) override;

 private:
  pid_t pid_;
  int to_child_;
  FILE* from_child_;
};

}  // namespace vboard
