// The generated model in the board's TFLM library on QEMU mps2-an386 (Cortex-M4F), run by
// bench/bench_board_arm.py with the core tests' startup.cpp (semihosting). Prints, one fact per line:
//   ARENA_USED n                      arena_used_bytes() after AllocateTensors (32-bit)
//   OUT p<k> o<j>: v v v ...          int8 output j for input pattern k (0: zeros, 1: a fixed ramp)
//   TICKS_PER_INVOKE min max mean     SysTick ticks per Invoke (processor clock)
//   CALIBRATION insns ticks           a loop of a known instruction count, to turn ticks into
//                                     instructions (QEMU -icount shift=0 advances time per instruction)
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <new>

#include "model_data.h"
#include "model_settings.h"
#include "ng_test.h"
#include "systick_count.h"
#include "op_resolver.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/schema/schema_generated.h"

#ifndef NG_BENCH_INVOKES
#define NG_BENCH_INVOKES 10
#endif

namespace {

using ng_bench::kSysTickVal;
using ng_bench::systick_start;
using ng_bench::ticks_since;

alignas(16) uint8_t g_arena[256 * 1024];
// Placement-new'd, not function-local statics: those would register destructors (and need __dso_handle,
// which -nostartfiles leaves out).
alignas(ng::model::OpResolver) uint8_t g_resolver_storage[sizeof(ng::model::OpResolver)];
alignas(tflite::MicroInterpreter) uint8_t g_interpreter_storage[sizeof(tflite::MicroInterpreter)];

void fill(TfLiteTensor* t, int pattern) {
  for (size_t i = 0; i < t->bytes; ++i) {
    t->data.int8[i] = pattern == 0 ? 0 : static_cast<int8_t>(static_cast<int>((i * 37u + 11u) % 256u) - 128);
  }
}

}  // namespace

extern "C" void DebugLog(const char* s) { fputs(s, stdout); }
// libstdc++'s exception globals (pulled in by the library's C++ runtime use) register a destructor
// with __dso_handle, which crtbegin.o defines and -nostartfiles leaves out.
extern "C" {
void* __dso_handle = nullptr;
}
// micro_time.cpp's tick source (the Arduino build's is micros()); the bench times with SysTick itself.
namespace peripherals {
uint32_t MicrosecondsCounter() { return 0; }
}  // namespace peripherals

int ngtest::run_all() {
  namespace m = ng::model;
  systick_start();
  const tflite::Model* model = tflite::GetModel(g_model_data);
  m::OpResolver& resolver = *new (g_resolver_storage) m::OpResolver();
  if (model->version() != TFLITE_SCHEMA_VERSION || m::RegisterOps(resolver) != kTfLiteOk) {
    printf("ERROR model or resolver\n");
    return 1;
  }
  tflite::MicroInterpreter& interpreter =
      *new (g_interpreter_storage) tflite::MicroInterpreter(model, resolver, g_arena, sizeof g_arena);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    printf("ERROR AllocateTensors\n");
    return 1;
  }
  printf("ARENA_USED %u\n", static_cast<unsigned>(interpreter.arena_used_bytes()));
  for (int p = 0; p < 2; ++p) {
    for (size_t k = 0; k < interpreter.inputs_size(); ++k) fill(interpreter.input(k), p);
    if (interpreter.Invoke() != kTfLiteOk) {
      printf("ERROR Invoke\n");
      return 1;
    }
    for (size_t k = 0; k < interpreter.outputs_size(); ++k) {
      TfLiteTensor* t = interpreter.output(k);
      printf("OUT p%d o%u:", p, static_cast<unsigned>(k));
      for (size_t i = 0; i < t->bytes; ++i) printf(" %d", t->data.int8[i]);
      printf("\n");
    }
  }
  uint32_t lo = 0xFFFFFFFFu, hi = 0, sum = 0;
  for (int i = 0; i < NG_BENCH_INVOKES; ++i) {
    uint32_t t0 = *kSysTickVal;
    interpreter.Invoke();
    uint32_t d = ticks_since(t0);
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
    sum += d;
  }
  printf("TICKS_PER_INVOKE %lu %lu %lu\n", static_cast<unsigned long>(lo), static_cast<unsigned long>(hi),
         static_cast<unsigned long>(sum / NG_BENCH_INVOKES));
  ng_bench::print_calibration();
  return 0;
}
