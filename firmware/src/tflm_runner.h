// The real board's ModelRunner: TFLM's MicroInterpreter on the generated model, with
// exactly the generated operators and the converter's arena size. Include this header
// before anything that pulls in Arduino.h (its abs() macro breaks TFLM's headers).
#pragma once
#include <Chirale_TensorFlowLite.h>

#include "model_settings.h"
#include "ng_model_runner.h"
#include "op_resolver.h"
#include "tensorflow/lite/micro/micro_interpreter.h"

class TflmRunner : public ng::ModelRunner {
 public:
  // Builds the interpreter and allocates tensors; false when the model does not fit.
  bool begin();
  ng::InvokeStatus Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) override;

 private:
  ng::model::OpResolver resolver_;
  tflite::MicroInterpreter* interpreter_ = nullptr;
};
