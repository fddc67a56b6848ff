// The plain virtual board has no model settings compiled in: given --model it asks
// `python -m boardtools.virtual_build MODEL` for the program built with that run's header
// (built and cached on first use) and becomes it, same arguments and same process id, so
// whoever started it can still signal it.
#pragma once
#include <string>

namespace vboard {

// Does not return when it succeeds; otherwise the exit status (the reason is on stderr).
int become_run_program(const std::string& python, const std::string& model_path, char** argv);

}  // namespace vboard
