#include "tflm_runner.h"  // first: TFLM before Arduino.h

#include <string.h>

#include "model_data.h"

namespace {
alignas(16) uint8_t tensor_arena[ng::model::kArenaBytes];
}  // namespace

bool TflmRunner::begin() {
  const tflite::Model* model = tflite::GetModel(g_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) return false;
  if (ng::model::RegisterOps(resolver_) != kTfLiteOk) return false;
  static tflite::MicroInterpreter interpreter(model, resolver_, tensor_arena, sizeof tensor_arena);
  if (interpreter.AllocateTensors() != kTfLiteOk) return false;
  interpreter_ = &interpreter;
  return true;
}

ng::InvokeStatus TflmRunner::Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) {
  if (interpreter_ == nullptr) return ng::InvokeStatus::kFailed;
  TfLiteTensor* input = interpreter_->input(0);
  TfLiteTensor* output = interpreter_->output(0);
  if (input->bytes != n_in || output->bytes != n_out) return ng::InvokeStatus::kBadSize;
  memcpy(input->data.int8, in, n_in);
  if (interpreter_->Invoke() != kTfLiteOk) return ng::InvokeStatus::kFailed;
  memcpy(out, output->data.int8, n_out);
  return ng::InvokeStatus::kOk;
}
