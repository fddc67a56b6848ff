// A tiny test runner for the portable core: the same binary runs on the host
// (with sanitizers) and on Cortex-M4 under QEMU (semihosting). No heap, no
// exceptions. TEST(name) registers a case; CHECK/CHECK_EQ record failures.
// main() prints each failure and ends with the line "N passed, N failed".
#pragma once
#include <stdio.h>

namespace ngtest {

typedef void (*TestFn)();

struct Registrar {
  Registrar(const char* name, TestFn fn);
};

void record_failure(const char* file, int line, const char* expression, long long left, long long right,
                    bool has_values);
int run_all();  // returns the number of failed cases

}  // namespace ngtest

#define TEST(name)                                                   \
  static void name();                                                \
  static ::ngtest::Registrar name##_registrar(#name, &name);         \
  static void name()

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) ::ngtest::record_failure(__FILE__, __LINE__, #cond, 0, 0, false); \
  } while (0)

#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    long long ng_left_ = static_cast<long long>(a);                                          \
    long long ng_right_ = static_cast<long long>(b);                                         \
    if (ng_left_ != ng_right_)                                                               \
      ::ngtest::record_failure(__FILE__, __LINE__, #a " == " #b, ng_left_, ng_right_, true); \
  } while (0)
