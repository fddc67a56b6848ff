// The real board's ModelRunner: TFLM's MicroInterpreter on the generated model, with
// exactly the generated operators and the converter's arena size. Include this header
// before anything that pulls in Arduino.h (its abs() macro breaks TFLM's headers).
#pragma once
#include <Chirale_TensorFlowLite.h>

#include "model_settings.h"
#include "ng_model_defaults.h"  // after model_settings.h: step constants of a windowed model's header
#include "ng_model_runner.h"
#include "op_resolver.h"
#include "tensorflow/lite/micro/micro_interpreter.h"

class TflmRunner : public ng::ModelRunner {
 public:
  // Builds the interpreter and allocates tensors; false when the model does not fit.
  bool begin();
  // After begin() returned false: true when AllocateTensors failed (the arena is too small),
  // false when the model's schema or operators do not fit this firmware.
  bool arena_too_small() const { return arena_too_small_; }
  ng::InvokeStatus Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) override;
  // A step model (kIsStepModel): x_t and h into the inputs at kStepInputIndex / kStateInputIndex,
  // h' and the scores out of kStateOutputIndex / kScoresOutputIndex.
  ng::InvokeStatus InvokeStep(const int8_t* x, size_t n_x, const int8_t* state, size_t n_state, int8_t* state_next,
                              int8_t* scores, size_t n_scores) override;

 private:
  ng::model::OpResolver resolver_;
  tflite::MicroInterpreter* interpreter_ = nullptr;
  bool arena_too_small_ = false;
};
