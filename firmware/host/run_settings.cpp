// One model's settings, compiled per run against its generated model_settings.h (found on the
// include path) exactly as the board's main.cpp takes them: ng_header_settings.h, field by name.
#include "run_settings.h"

#include "ng_header_settings.h"

namespace vboard {
namespace {

constexpr RunSettings kRunSettings = {ng::model_settings_from_header(), ng::step_settings_from_header(),
                                      ng::model::kArenaMeasuredBytes};

}  // namespace

const RunSettings* compiled_run_settings() { return &kRunSettings; }

}  // namespace vboard
