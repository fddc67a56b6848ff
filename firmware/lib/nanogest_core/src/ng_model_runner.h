// The model seam: the core hands an int8 input tensor to a ModelRunner and gets the
// int8 output tensor back. The real board implements it with TFLM's MicroInterpreter
// (firmware/src/tflm_runner.*), the virtual board with a child process running the TFLM
// Python runtime (firmware/host/tflm_child_runner.*), the tests with scripted scores.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace ng {

enum class InvokeStatus : uint8_t {
  kOk = 0,
  kBadSize,  // n_in / n_out do not match the model's tensors
  kFailed,   // the runtime failed (allocation, kernel, lost child process)
  kBadRate,  // the model's rate cannot be resampled from the IMU's (ng_resample.h)
};

class ModelRunner {
 public:
  virtual ~ModelRunner() {}
  // Runs the model once on `in` (n_in int8 values) and writes n_out int8 scores.
  virtual InvokeStatus Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) = 0;

  // One step of a step model (a GRU exported as (x_t, h) -> (h', scores)): reads n_x
  // int8 values of x_t and n_state of the state h, writes n_state values of the next
  // state h' and n_scores class scores. The caller carries the state between steps.
  // Runners of windowed models refuse with kBadSize.
  virtual InvokeStatus InvokeStep(const int8_t* /*x*/, size_t /*n_x*/, const int8_t* /*state*/, size_t /*n_state*/,
                                  int8_t* /*state_next*/, int8_t* /*scores*/, size_t /*n_scores*/) {
    return InvokeStatus::kBadSize;
  }

  // Hook for models that carry state between invocations (a one-step GRU's hidden
  // state): true when Invoke() depends on earlier calls. Windowed models carry none.
  virtual bool carries_state() const { return false; }
  // Forgets carried state (a new take or stream begins). Windowed models: nothing to do.
  virtual void ResetState() {}
};

}  // namespace ng
