// The board's TFLM library (the sources of the pinned lib_deps entry) as a small C API, built for
// the host as a shared library by converter/board/board_tflm.py and called from Python through ctypes.
// It runs the library's own kernels (CMSIS-NN where the library has them, built with their
// portable C paths) in a MicroInterpreter, so the laptop computes what the board computes.
//
// One handle = one model copy + one arena + one interpreter. Every call returns 0 on success
// or -1 with the reason in ng_board_tflm_error() (TFLM's own log lines included).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <new>

#include "tensorflow/lite/micro/all_ops_resolver.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

char g_error[1024];
char g_log[2048];  // TFLM's DebugLog lines since the last call that reset it

void set_error(const char* what) {
  snprintf(g_error, sizeof g_error, "%s%s%s", what, g_log[0] ? ": " : "", g_log);
  for (char* p = g_error; *p; ++p) {
    if (*p == '\r' || *p == '\n') *p = ' ';
  }
}

struct Handle {
  uint8_t* model_copy = nullptr;  // 16-byte aligned copy the interpreter reads from
  uint8_t* arena = nullptr;
  tflite::AllOpsResolver resolver;
  tflite::MicroInterpreter* interpreter = nullptr;
  alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
};

void destroy(Handle* h) {
  if (h == nullptr) return;
  if (h->interpreter != nullptr) h->interpreter->~MicroInterpreter();
  free(h->model_copy);
  free(h->arena);
  delete h;
}

TfLiteTensor* tensor(Handle* h, int is_output, int index) {
  if (h == nullptr || h->interpreter == nullptr || index < 0) return nullptr;
  size_t n = is_output ? h->interpreter->outputs_size() : h->interpreter->inputs_size();
  if (static_cast<size_t>(index) >= n) return nullptr;
  return is_output ? h->interpreter->output(index) : h->interpreter->input(index);
}

}  // namespace

// The library's one Arduino dependency outside peripherals/ (micro_time.cpp's tick counter, used by
// its profiler): the host's clock in place of the board's micros().
namespace peripherals {
uint32_t MicrosecondsCounter() {
  using namespace std::chrono;
  return static_cast<uint32_t>(duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}
}  // namespace peripherals

extern "C" void DebugLog(const char* s) {
  size_t used = strlen(g_log);
  if (used + 1 < sizeof g_log) snprintf(g_log + used, sizeof g_log - used, "%s", s);
}

extern "C" {

const char* ng_board_tflm_error() { return g_error; }

// A handle for the model (copied) with an arena of arena_bytes, tensors allocated; NULL on failure.
void* ng_board_tflm_open(const uint8_t* model_data, size_t model_bytes, size_t arena_bytes) {
  g_log[0] = '\0';
  g_error[0] = '\0';
  Handle* h = new (std::nothrow) Handle();
  if (h == nullptr) return nullptr;
  h->model_copy = static_cast<uint8_t*>(aligned_alloc(16, (model_bytes + 15u) & ~static_cast<size_t>(15u)));
  h->arena = static_cast<uint8_t*>(aligned_alloc(16, (arena_bytes + 15u) & ~static_cast<size_t>(15u)));
  if (h->model_copy == nullptr || h->arena == nullptr) {
    set_error("out of memory");
    destroy(h);
    return nullptr;
  }
  memcpy(h->model_copy, model_data, model_bytes);
  const tflite::Model* model = tflite::GetModel(h->model_copy);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    set_error("the model's schema version is not the one this TFLM reads");
    destroy(h);
    return nullptr;
  }
  h->interpreter = new (h->interpreter_storage) tflite::MicroInterpreter(model, h->resolver, h->arena, arena_bytes);
  if (h->interpreter->AllocateTensors() != kTfLiteOk) {
    set_error("AllocateTensors failed");
    destroy(h);
    return nullptr;
  }
  return h;
}

void ng_board_tflm_close(void* handle) { destroy(static_cast<Handle*>(handle)); }

int ng_board_tflm_count(void* handle, int is_output) {
  Handle* h = static_cast<Handle*>(handle);
  if (h == nullptr) return -1;
  return static_cast<int>(is_output ? h->interpreter->outputs_size() : h->interpreter->inputs_size());
}

// Bytes of input/output tensor `index`, or -1.
long ng_board_tflm_bytes(void* handle, int is_output, int index) {
  TfLiteTensor* t = tensor(static_cast<Handle*>(handle), is_output, index);
  return t == nullptr ? -1 : static_cast<long>(t->bytes);
}

int ng_board_tflm_set_input(void* handle, int index, const int8_t* data, size_t n) {
  TfLiteTensor* t = tensor(static_cast<Handle*>(handle), 0, index);
  if (t == nullptr || t->bytes != n) {
    snprintf(g_error, sizeof g_error, "input %d takes %ld bytes, got %zu", index, t ? static_cast<long>(t->bytes) : -1L, n);
    return -1;
  }
  memcpy(t->data.int8, data, n);
  return 0;
}

int ng_board_tflm_invoke(void* handle) {
  Handle* h = static_cast<Handle*>(handle);
  if (h == nullptr) return -1;
  g_log[0] = '\0';
  if (h->interpreter->Invoke() != kTfLiteOk) {
    set_error("Invoke failed");
    return -1;
  }
  return 0;
}

int ng_board_tflm_get_output(void* handle, int index, int8_t* data, size_t n) {
  TfLiteTensor* t = tensor(static_cast<Handle*>(handle), 1, index);
  if (t == nullptr || t->bytes != n) {
    snprintf(g_error, sizeof g_error, "output %d has %ld bytes, asked for %zu", index, t ? static_cast<long>(t->bytes) : -1L, n);
    return -1;
  }
  memcpy(data, t->data.int8, n);
  return 0;
}

long ng_board_tflm_arena_used_bytes(void* handle) {
  Handle* h = static_cast<Handle*>(handle);
  return h == nullptr ? -1 : static_cast<long>(h->interpreter->arena_used_bytes());
}

}  // extern "C"
