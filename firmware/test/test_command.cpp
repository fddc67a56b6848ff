#include <string.h>

#include "ng_command.h"
#include "ng_test.h"

using namespace ng;

namespace {

// Feeds `text` and returns how many commands completed; the last one lands in `last`.
int feed_text(CommandParser& parser, const char* text, size_t length, Command* last) {
  int completed = 0;
  for (size_t i = 0; i < length; ++i) {
    if (parser.feed(static_cast<uint8_t>(text[i]), last)) ++completed;
  }
  return completed;
}

int feed_str(CommandParser& parser, const char* text, Command* last) {
  return feed_text(parser, text, strlen(text), last);
}

}  // namespace

TEST(parser_accepts_every_command) {
  CommandParser parser;
  Command c;
  const struct {
    const char* line;
    CommandKind kind;
  } cases[] = {{"ping\n", CommandKind::kPing},   {"info\n", CommandKind::kInfo},
               {"status\n", CommandKind::kStatus}, {"start\n", CommandKind::kStart},
               {"stop\n", CommandKind::kStop}};
  for (const auto& k : cases) {
    CHECK_EQ(feed_str(parser, k.line, &c), 1);
    CHECK(c.kind == k.kind);
  }
  for (size_t m = 0; m < proto::kModeCount; ++m) {
    char line[32];
    strcpy(line, "mode ");
    strcat(line, proto::kModeNames[m]);
    strcat(line, "\n");
    CHECK_EQ(feed_str(parser, line, &c), 1);
    CHECK(c.kind == CommandKind::kMode);
    CHECK_EQ(c.mode, m);
  }
  CHECK(strcmp(command_word(CommandKind::kStatus), "status") == 0);
}

TEST(parser_ignores_cr_blank_lines_case_and_spaces) {
  CommandParser parser;
  Command c;
  CHECK_EQ(feed_str(parser, "\r\n\n  \t \r\n", &c), 0);
  CHECK_EQ(feed_str(parser, "  PiNg \r\n", &c), 1);
  CHECK(c.kind == CommandKind::kPing);
  CHECK_EQ(feed_str(parser, "mode\t  Text\r\n", &c), 1);
  CHECK(c.kind == CommandKind::kMode);
  CHECK_EQ(c.mode, proto::kModeText);
  CHECK_EQ(feed_str(parser, "st", &c), 0);  // a partial line waits for its newline
  CHECK_EQ(feed_str(parser, "op\n", &c), 1);
  CHECK(c.kind == CommandKind::kStop);
}

TEST(parser_rejects_unknown_commands_and_garbage) {
  CommandParser parser;
  Command c;
  CHECK_EQ(feed_str(parser, "jump\n", &c), 1);
  CHECK(c.kind == CommandKind::kError);
  CHECK_EQ(c.error_code, proto::kErrUnknownCommand);
  CHECK(strstr(c.message, "'jump'") != nullptr);
  const char garbage[] = {'\x01', '\xff', '\x00', 'A', '\x7f', '\n'};
  CHECK_EQ(feed_text(parser, garbage, sizeof garbage, &c), 1);
  CHECK_EQ(c.error_code, proto::kErrUnknownCommand);
  for (const char* m = c.message; *m; ++m) CHECK(*m >= 0x20 && *m < 0x7f);  // message stays printable
  CHECK_EQ(feed_str(parser, "ping\n", &c), 1);
  CHECK(c.kind == CommandKind::kPing);
}

TEST(parser_rejects_bad_arguments) {
  CommandParser parser;
  Command c;
  CHECK_EQ(feed_str(parser, "mode fast\n", &c), 1);
  CHECK(c.kind == CommandKind::kError);
  CHECK_EQ(c.error_code, proto::kErrBadArgument);
  CHECK(strstr(c.message, "fast") != nullptr);
  CHECK_EQ(feed_str(parser, "mode\n", &c), 1);
  CHECK_EQ(c.error_code, proto::kErrBadArgument);
  CHECK_EQ(feed_str(parser, "mode text extra\n", &c), 1);
  CHECK_EQ(c.error_code, proto::kErrBadArgument);
  CHECK_EQ(feed_str(parser, "ping now\n", &c), 1);
  CHECK_EQ(c.error_code, proto::kErrBadArgument);
}

TEST(parser_discards_long_lines_up_to_newline) {
  CommandParser parser;
  Command c;
  char line[proto::kCommandMaxBytes + 2];
  // Exactly kCommandMaxBytes bytes is still a command.
  memset(line, ' ', proto::kCommandMaxBytes);
  memcpy(line, "ping", 4);
  line[proto::kCommandMaxBytes] = '\n';
  CHECK_EQ(feed_text(parser, line, proto::kCommandMaxBytes + 1, &c), 1);
  CHECK(c.kind == CommandKind::kPing);
  // One more byte overflows: a single error, sent when the newline arrives.
  char long_line[1000];
  memset(long_line, 'p', sizeof long_line);
  CHECK_EQ(feed_text(parser, long_line, proto::kCommandMaxBytes + 1, &c), 0);
  CHECK_EQ(feed_text(parser, long_line, sizeof long_line, &c), 0);
  CHECK_EQ(feed_str(parser, "ping\n", &c), 1);  // the tail of the long line, not a command
  CHECK(c.kind == CommandKind::kError);
  CHECK_EQ(c.error_code, proto::kErrLineTooLong);
  CHECK_EQ(feed_str(parser, "ping\n", &c), 1);
  CHECK(c.kind == CommandKind::kPing);
  // '\r' does not count towards the limit.
  char crs[proto::kCommandMaxBytes * 2 + 8];
  size_t n = 0;
  for (int i = 0; i < 100; ++i) crs[n++] = '\r';
  memcpy(crs + n, "info\n", 5);
  n += 5;
  CHECK_EQ(feed_text(parser, crs, n, &c), 1);
  CHECK(c.kind == CommandKind::kInfo);
}
