// Bounded parser for the host's ASCII command lines ("ping", "info", "status",
// "start", "stop", "mode <name>", "sample ax ay az gx gy gz" with int16 counts). Bytes arrive one at a time; '\r' is ignored and
// '\n' ends a line. A line longer than proto::kCommandMaxBytes is discarded up to
// its newline and reported once as kErrLineTooLong. Empty lines are ignored.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ng_protocol_defs.h"

namespace ng {

enum class CommandKind : uint8_t { kPing, kInfo, kStatus, kStart, kStop, kMode, kSample, kError };

struct Command {
  CommandKind kind;
  uint8_t mode;        // kMode: the requested proto::kMode*
  uint8_t error_code;  // kError: proto::kErr*
  int16_t sample[6];   // kSample: aX aY aZ gX gY gZ in counts
  // kError: a one-sentence message for the ERROR frame.
  char message[proto::kCommandMaxBytes + 96];
};

// The canonical word of a command kind, as echoed in ACK payloads.
const char* command_word(CommandKind kind);

class CommandParser {
 public:
  CommandParser() : length_(0), overflowed_(false) {}

  // Feeds one byte; returns true and fills `out` when it completes a command line
  // (or a line that must be answered with an error).
  bool feed(uint8_t byte, Command* out);

 private:
  void parse_line(Command* out) const;

  char line_[proto::kCommandMaxBytes];
  size_t length_;
  bool overflowed_;
};

}  // namespace ng
