// A pseudo-terminal that stands in for the board's USB serial port: the virtual
// board reads and writes the master side; the host opens the slave path like a
// serial device. Both sides are in raw mode (no echo, no line editing, 8-bit clean).
#pragma once
#include <string>

namespace vboard {

class PtyPort {
 public:
  PtyPort() : master_fd_(-1), slave_fd_(-1) {}
  ~PtyPort();
  PtyPort(const PtyPort&) = delete;
  PtyPort& operator=(const PtyPort&) = delete;

  // Opens the pair; on failure returns false and sets `error` to one sentence.
  bool open(std::string* error);

  int master_fd() const { return master_fd_; }
  const std::string& slave_path() const { return slave_path_; }

 private:
  int master_fd_;
  int slave_fd_;  // kept open so the master never sees a hang-up between host connections
  std::string slave_path_;
};

}  // namespace vboard
