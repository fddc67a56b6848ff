// The plain virtual board (build/host/virtual_board) has no model compiled in: with --model it
// hands over to the program built for that run (virtual_board.cpp, boardtools/virtual_build.py).
#include "run_settings.h"

namespace vboard {

const RunSettings* compiled_run_settings() { return nullptr; }

}  // namespace vboard
