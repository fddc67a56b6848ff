// Host entry point: exit status 0 only when every case passed.
#include "ng_test.h"

int main() { return ngtest::run_all() == 0 ? 0 : 1; }
