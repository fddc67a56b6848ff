#include "tflm_child_runner.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace vboard {
namespace {

bool write_all(int fd, const void* data, size_t length) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (length > 0) {
    ssize_t n = write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

const size_t kMaxStepBytes = 4096;  // x_t + h of one step (a window of 4096 values at most)

void put_u32(uint8_t* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

TflmChildRunner::~TflmChildRunner() {
  if (to_child_ >= 0) {
    uint8_t zero[4] = {0, 0, 0, 0};  // a zero-length request ends the server
    write_all(to_child_, zero, sizeof zero);
    close(to_child_);
  }
  if (from_child_ != nullptr) fclose(from_child_);
  if (pid_ > 0) {
    int status = 0;
    for (int i = 0; i < 300 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(10000);
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, &status, 0);
    }
  }
}

bool TflmChildRunner::start(const std::string& python, const std::string& model_path, std::string* error,
                            unsigned long arena_bytes) {
  const std::string arena = std::to_string(arena_bytes);
  int down[2], up[2];
  if (pipe(down) != 0 || pipe(up) != 0) {
    *error = std::string("cannot create pipes for the TFLM child: ") + strerror(errno);
    return false;
  }
  pid_ = fork();
  if (pid_ < 0) {
    *error = std::string("cannot start the TFLM child: ") + strerror(errno);
    return false;
  }
  if (pid_ == 0) {
    dup2(down[0], STDIN_FILENO);
    dup2(up[1], STDOUT_FILENO);
    close(down[0]);
    close(down[1]);
    close(up[0]);
    close(up[1]);
    if (arena_bytes > 0) {
      execlp(python.c_str(), python.c_str(), "-m", "converter.tflm_server", model_path.c_str(), "--arena-bytes",
             arena.c_str(), static_cast<char*>(nullptr));
    } else {
      execlp(python.c_str(), python.c_str(), "-m", "converter.tflm_server", model_path.c_str(),
             static_cast<char*>(nullptr));
    }
    fprintf(stderr, "virtual_board: cannot run %s: %s (pass --python PATH of the nanogest venv)\n", python.c_str(),
            strerror(errno));
    _exit(127);
  }
  close(down[0]);
  close(up[1]);
  to_child_ = down[1];
  from_child_ = fdopen(up[0], "rb");
  if (from_child_ == nullptr) {
    *error = "cannot read from the TFLM child";
    return false;
  }
  return true;
}

bool TflmChildRunner::probe(const RunSettings& settings) {
  const ng::ModelSettings& ms = settings.model;
  const ng::StepModelSettings& step = settings.step;
  std::vector<int8_t> in(step.is_step_model ? step.step_input_samples * ng::kImuChannels : ms.window_samples * ng::kImuChannels);
  std::vector<int8_t> state(step.is_step_model ? step.state_size : 0);
  std::vector<int8_t> state_next(state.size()), scores(ms.label_count);
  if (in.empty() || scores.empty()) return false;
  if (step.is_step_model) {
    return InvokeStep(in.data(), in.size(), state.data(), state.size(), state_next.data(), scores.data(),
                      scores.size()) == ng::InvokeStatus::kOk;
  }
  return Invoke(in.data(), in.size(), scores.data(), scores.size()) == ng::InvokeStatus::kOk;
}

bool model_file_hash(const std::string& model_path, uint32_t* hash, std::string* error) {
  struct stat info;
  std::string path = model_path;
  if (stat(model_path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) path += "/model_int8.tflite";
  FILE* file = fopen(path.c_str(), "rb");
  if (file == nullptr) {
    *error = path + ": " + strerror(errno) + "; pass a converted run directory or its .tflite";
    return false;
  }
  uint32_t h = 2166136261u;
  uint8_t buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, file)) > 0) {
    for (size_t i = 0; i < n; ++i) h = (h ^ buffer[i]) * 16777619u;
  }
  fclose(file);
  *hash = h;
  return true;
}

ng::InvokeStatus TflmChildRunner::Invoke(const int8_t* in, size_t n_in, int8_t* out, size_t n_out) {
  if (to_child_ < 0 || from_child_ == nullptr) return ng::InvokeStatus::kFailed;
  uint8_t head[4];
  put_u32(head, static_cast<uint32_t>(n_in));
  if (!write_all(to_child_, head, sizeof head) || !write_all(to_child_, in, n_in)) return ng::InvokeStatus::kFailed;
  uint8_t reply[4];
  if (fread(reply, 1, sizeof reply, from_child_) != sizeof reply) return ng::InvokeStatus::kFailed;
  uint32_t m = static_cast<uint32_t>(reply[0]) | (static_cast<uint32_t>(reply[1]) << 8) |
               (static_cast<uint32_t>(reply[2]) << 16) | (static_cast<uint32_t>(reply[3]) << 24);
  if (m == 0) return ng::InvokeStatus::kBadSize;
  if (m != n_out) {
    int8_t sink[256];
    while (m > 0) {  // keep the stream in step, then report the mismatch
      size_t chunk = m < sizeof sink ? m : sizeof sink;
      if (fread(sink, 1, chunk, from_child_) != chunk) return ng::InvokeStatus::kFailed;
      m -= static_cast<uint32_t>(chunk);
    }
    return ng::InvokeStatus::kBadSize;
  }
  if (fread(out, 1, n_out, from_child_) != n_out) return ng::InvokeStatus::kFailed;
  return ng::InvokeStatus::kOk;
}

ng::InvokeStatus TflmChildRunner::InvokeStep(const int8_t* x, size_t n_x, const int8_t* state, size_t n_state,
                                             int8_t* state_next, int8_t* scores, size_t n_scores) {
  if (n_x + n_state > kMaxStepBytes || n_state + n_scores > kMaxStepBytes) return ng::InvokeStatus::kBadSize;
  int8_t request[kMaxStepBytes];
  int8_t reply[kMaxStepBytes];
  memcpy(request, x, n_x);
  memcpy(request + n_x, state, n_state);
  ng::InvokeStatus status = Invoke(request, n_x + n_state, reply, n_state + n_scores);
  if (status != ng::InvokeStatus::kOk) return status;
  memcpy(state_next, reply, n_state);
  memcpy(scores, reply + n_state, n_scores);
  return ng::InvokeStatus::kOk;
}

}  // namespace vboard
