#include "ng_command.h"

#include <stdio.h>
#include <string.h>

namespace ng {
namespace {

struct Word {
  const char* text;
  size_t length;
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool word_is(const Word& w, const char* text) {
  size_t n = strlen(text);
  if (w.length != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (to_lower(w.text[i]) != text[i]) return false;
  }
  return true;
}

// Splits up to `max_words` whitespace-separated words; returns how many there were
// (possibly more than max_words).
size_t split_words(const char* line, size_t length, Word* words, size_t max_words) {
  size_t count = 0;
  size_t i = 0;
  while (i < length) {
    while (i < length && is_space(line[i])) ++i;
    if (i >= length) break;
    size_t start = i;
    while (i < length && !is_space(line[i])) ++i;
    if (count < max_words) words[count] = Word{line + start, i - start};
    ++count;
  }
  return count;
}

// Copies a word for an error message, replacing anything unprintable by '?'.
void printable_copy(char* out, size_t out_size, const Word& w) {
  size_t n = 0;
  for (size_t i = 0; i < w.length && n + 1 < out_size; ++i) {
    char c = w.text[i];
    out[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  out[n] = '\0';
}

void set_error(Command* out, uint8_t code, const char* message) {
  out->kind = CommandKind::kError;
  out->error_code = code;
  snprintf(out->message, sizeof out->message, "%s", message);
}

// Parses a decimal int16 ("-32768".."32767"); false on anything else.
bool parse_int16(const Word& w, int16_t* out) {
  size_t i = 0;
  bool negative = false;
  if (w.length > 0 && (w.text[0] == '-' || w.text[0] == '+')) {
    negative = w.text[0] == '-';
    i = 1;
  }
  if (i >= w.length || w.length - i > 6) return false;
  int32_t value = 0;
  for (; i < w.length; ++i) {
    if (w.text[i] < '0' || w.text[i] > '9') return false;
    value = value * 10 + (w.text[i] - '0');
  }
  if (negative) value = -value;
  if (value < -32768 || value > 32767) return false;
  *out = static_cast<int16_t>(value);
  return true;
}

}  // namespace

const char* command_word(CommandKind kind) {
  switch (kind) {
    case CommandKind::kPing: return "ping";
    case CommandKind::kInfo: return "info";
    case CommandKind::kStatus: return "status";
    case CommandKind::kStart: return "start";
    case CommandKind::kStop: return "stop";
    case CommandKind::kMode: return "mode";
    case CommandKind::kSample: return "sample";
    case CommandKind::kError: return "error";
  }
  return "error";
}

bool CommandParser::feed(uint8_t byte, Command* out) {
  if (byte == '\r') return false;
  if (byte != '\n') {
    if (length_ < sizeof line_) {
      line_[length_++] = static_cast<char>(byte);
    } else {
      overflowed_ = true;
    }
    return false;
  }
  bool had_overflow = overflowed_;
  size_t had_length = length_;
  overflowed_ = false;
  if (had_overflow) {
    length_ = 0;
    char message[80];
    snprintf(message, sizeof message, "command line longer than %u bytes, ignored",
             static_cast<unsigned>(proto::kCommandMaxBytes));
    set_error(out, proto::kErrLineTooLong, message);
    return true;
  }
  Word first;
  if (split_words(line_, had_length, &first, 1) == 0) {
    length_ = 0;
    return false;  // blank line: nothing to answer
  }
  parse_line(out);
  length_ = 0;
  return true;
}

void CommandParser::parse_line(Command* out) const {
  Word words[8];
  size_t count = split_words(line_, length_, words, 8);
  const Word& verb = words[0];
  out->mode = 0;
  out->error_code = 0;
  out->message[0] = '\0';

  static const struct {
    const char* text;
    CommandKind kind;
  } kPlain[] = {{"ping", CommandKind::kPing},   {"info", CommandKind::kInfo},
                {"status", CommandKind::kStatus}, {"start", CommandKind::kStart},
                {"stop", CommandKind::kStop}};
  char shown[proto::kCommandMaxBytes + 1];
  for (const auto& plain : kPlain) {
    if (!word_is(verb, plain.text)) continue;
    if (count != 1) {
      char message[sizeof out->message];
      snprintf(message, sizeof message, "'%s' takes no argument", plain.text);
      set_error(out, proto::kErrBadArgument, message);
      return;
    }
    out->kind = plain.kind;
    return;
  }
  if (word_is(verb, "sample")) {
    bool ok = count == 7;
    for (size_t c = 0; ok && c < 6; ++c) ok = parse_int16(words[1 + c], &out->sample[c]);
    if (!ok) {
      set_error(out, proto::kErrBadArgument, "use sample ax ay az gx gy gz (six int16 counts)");
      return;
    }
    out->kind = CommandKind::kSample;
    return;
  }
  if (word_is(verb, "mode")) {
    if (count == 2) {
      for (size_t m = 0; m < proto::kModeCount; ++m) {
        if (word_is(words[1], proto::kModeNames[m])) {
          out->kind = CommandKind::kMode;
          out->mode = static_cast<uint8_t>(m);
          return;
        }
      }
    }
    char message[sizeof out->message];
    if (count == 2) {
      printable_copy(shown, sizeof shown, words[1]);
      snprintf(message, sizeof message, "unknown mode '%s': use mode capture|text|inference|replay|text-inference",
               shown);
    } else {
      snprintf(message, sizeof message, "use mode capture|text|inference|replay|text-inference");
    }
    set_error(out, proto::kErrBadArgument, message);
    return;
  }
  printable_copy(shown, sizeof shown, verb);
  char message[sizeof out->message];
  snprintf(message, sizeof message, "unknown command '%s': use ping, info, status, start, stop, mode or sample", shown);
  set_error(out, proto::kErrUnknownCommand, message);
}

}  // namespace ng
