#include "ng_test.h"

namespace ngtest {
namespace {

struct Case {
  const char* name;
  TestFn fn;
};

const int kMaxCases = 128;
Case g_cases[kMaxCases];
int g_case_count = 0;
int g_failures_in_case = 0;

}  // namespace

Registrar::Registrar(const char* name, TestFn fn) {
  if (g_case_count < kMaxCases) g_cases[g_case_count++] = Case{name, fn};
}

void record_failure(const char* file, int line, const char* expression, long long left, long long right,
                    bool has_values) {
  ++g_failures_in_case;
  if (has_values) {
    printf("  FAIL %s:%d: %s (%lld vs %lld)\n", file, line, expression, left, right);
  } else {
    printf("  FAIL %s:%d: %s\n", file, line, expression);
  }
}

int run_all() {
  int passed = 0;
  int failed = 0;
  if (g_case_count >= kMaxCases) {
    printf("  FAIL: more than %d test cases registered, raise kMaxCases\n", kMaxCases);
    ++failed;
  }
  for (int i = 0; i < g_case_count; ++i) {
    g_failures_in_case = 0;
    g_cases[i].fn();
    if (g_failures_in_case == 0) {
      ++passed;
    } else {
      ++failed;
      printf("FAILED %s\n", g_cases[i].name);
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  fflush(stdout);
  return failed;
}

}  // namespace ngtest
