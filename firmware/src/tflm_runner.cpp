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
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    arena_too_small_ = true;
    return false;
  }
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

ng::InvokeStatus TflmRunner::InvokeStep(const int8_t* x, size_t n_x, const int8_t* state, size_t n_state,
                                        int8_t* state_next, int8_t* scores, size_t n_scores) {
  namespace m = ng::model;
  if (interpreter_ == nullptr) return ng::InvokeStatus::kFailed;
  if (!m::kIsStepModel || interpreter_->inputs_size() != 2 || interpreter_->outputs_size() != 2) {
    return ng::InvokeStatus::kBadSize;
  }
  TfLiteTensor* x_in = interpreter_->input(m::kStepInputIndex);
  TfLiteTensor* h_in = interpreter_->input(m::kStateInputIndex);
  TfLiteTensor* h_out = interpreter_->output(m::kStateOutputIndex);
  TfLiteTensor* s_out = interpreter_->output(m::kScoresOutputIndex);
  if (x_in->bytes != n_x || h_in->bytes != n_state || h_out->bytes != n_state || s_out->bytes != n_scores) {
    return ng::InvokeStatus::kBadSize;
  }
  memcpy(x_in->data.int8, x, n_x);
  memcpy(h_in->data.int8, state, n_state);
  if (interpreter_->Invoke() != kTfLiteOk) return ng::InvokeStatus::kFailed;
  memcpy(state_next, h_out->data.int8, n_state);  // TFLM reuses the arena: the core keeps h itself
  memcpy(scores, s_out->data.int8, n_scores);
  return ng::InvokeStatus::kOk;
}
