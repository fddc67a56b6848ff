#include "pty_port.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

namespace vboard {
namespace {

bool make_raw(int fd) {
  struct termios settings;
  if (tcgetattr(fd, &settings) != 0) return false;
  cfmakeraw(&settings);
  settings.c_cc[VMIN] = 1;
  settings.c_cc[VTIME] = 0;
  return tcsetattr(fd, TCSANOW, &settings) == 0;
}

}  // namespace

PtyPort::~PtyPort() {
  if (slave_fd_ >= 0) close(slave_fd_);
  if (master_fd_ >= 0) close(master_fd_);
}

bool PtyPort::open(std::string* error) {
  master_fd_ = posix_openpt(O_RDWR | O_NOCTTY);
  if (master_fd_ < 0 || grantpt(master_fd_) != 0 || unlockpt(master_fd_) != 0) {
    *error = std::string("cannot create a pseudo-terminal: ") + strerror(errno);
    return false;
  }
  const char* name = ptsname(master_fd_);
  if (name == nullptr) {
    *error = std::string("cannot name the pseudo-terminal: ") + strerror(errno);
    return false;
  }
  slave_path_ = name;
  slave_fd_ = ::open(name, O_RDWR | O_NOCTTY);
  if (slave_fd_ < 0 || !make_raw(slave_fd_) || !make_raw(master_fd_)) {
    *error = "cannot put pseudo-terminal " + slave_path_ + " in raw mode: " + strerror(errno);
    return false;
  }
  int flags = fcntl(master_fd_, F_GETFL);
  if (flags < 0 || fcntl(master_fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
    *error = std::string("cannot make the pseudo-terminal non-blocking: ") + strerror(errno);
    return false;
  }
  return true;
}

}  // namespace vboard
