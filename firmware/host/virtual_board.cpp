// The virtual board: the firmware's portable core on the host, fed by a CSV replay
// IMU and speaking the real protocol over a pseudo-terminal.
//
//   virtual_board --replay FILE.csv [--rate-hz 119] [--speed X] [--imu lsm9ds1|bmi270]
//                 [--model RUN_DIR|MODEL.tflite [--python PYTHON] [--arena-bytes N] [--print-settings]]
//
// With --model the core's recognition path runs (modes inference, replay,
// text-inference) with the run's settings compiled in from its generated model_settings.h
// (run_settings.h); only the model invocation is delegated to the real TFLM runtime in a
// child process (tflm_child_runner.h). The plain build has no settings: given --model it asks
// `python -m boardtools.virtual_build` for the program built for that run and becomes it.
//
// Prints the pty slave path as its first stdout line, then serves until stdin
// reaches end of file or it receives SIGTERM/SIGINT. Device time runs `speed`
// times faster than wall time; sample timestamps are device time computed from
// the sample index, so they do not depend on --speed or on host scheduling.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <vector>

#include "ng_arena.h"
#include "ng_device.h"
#include "pty_port.h"
#include "replay_imu.h"
#include "run_program.h"
#include "run_settings.h"
#include "tflm_child_runner.h"

namespace {

const char kUsage[] =
    "usage: virtual_board [--replay FILE.csv] [--rate-hz HZ] [--speed X] [--imu lsm9ds1|bmi270]\n"
    "                     [--model RUN_DIR|MODEL.tflite] [--python PYTHON] [--arena-bytes N]\n"
    "                     [--print-settings]\n"
    "\n"
    "Emulates a Nano 33 BLE Sense running nanogest firmware on a pseudo-terminal.\n"
    "Prints the pty path (open it like a serial port) on the first stdout line and\n"
    "serves until stdin closes or SIGTERM/SIGINT.\n"
    "\n"
    "  --replay FILE.csv  IMU_Capture CSV (header aX,aY,aZ,gX,gY,gZ; g and deg/s;\n"
    "                     takes separated by blank lines); each `start` plays the next take\n"
    "  --rate-hz HZ       output data rate (default: the IMU's, 119 for lsm9ds1, 100 for bmi270)\n"
    "  --speed X          device time runs X times faster than wall time (default 1)\n"
    "  --imu NAME         emulated IMU: lsm9ds1 (Rev1, default) or bmi270 (Rev2)\n"
    "  --model PATH       a converted run directory (model_int8.tflite + contract.json) or a\n"
    "                     .tflite with contract.json beside it: enables modes inference, replay\n"
    "                     and text-inference; --replay is then optional (no IMU samples).\n"
    "                     The settings are the run's generated model_settings.h compiled in, as\n"
    "                     on the board: this program is built per run (cached in\n"
    "                     firmware/build/host/runs/) by `-m boardtools.virtual_build`\n"
    "  --python PYTHON    interpreter for that build and for `-m converter.tflm_server`, which\n"
    "                     runs the model (default: $NANOGEST_PYTHON, else python3)\n"
    "  --arena-bytes N    give the model's TFLM interpreter an N-byte tensor arena (default: 1 MiB);\n"
    "                     when the model does not fit, modes inference, replay and text-inference\n"
    "                     answer ERROR model_failed naming N and the header's kArenaMeasuredBytes,\n"
    "                     as the board does; capture keeps working\n"
    "  --print-settings   print the model settings compiled in (JSON) and exit\n";

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

struct Options {
  std::string replay_path;
  double rate_hz = 0;  // 0: the IMU's native rate
  double speed = 1.0;
  std::string imu = "lsm9ds1";
  std::string model_path;
  std::string python;
  unsigned long arena_bytes = 0;  // 0: tflm_server's default arena
  bool print_settings = false;
};

// The emulated IMU's description without samples (--model without --replay).
class SilentImu : public ng::ImuProvider {
 public:
  explicit SilentImu(const ng::ImuInfo& info) : info_(info) {}
  const ng::ImuInfo& info() const override { return info_; }
  bool read(ng::ImuCounts*) override { return false; }

 private:
  ng::ImuInfo info_;
};

uint32_t host_micros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint32_t>(static_cast<uint64_t>(ts.tv_sec) * 1000000ull + static_cast<uint64_t>(ts.tv_nsec) / 1000ull);
}

int usage_error(const std::string& message) {
  fprintf(stderr, "virtual_board: %s (see virtual_board --help)\n", message.c_str());
  return 2;
}

bool parse_positive(const char* text, double* out) {
  char* end = nullptr;
  double value = strtod(text, &end);
  if (end == text || *end != '\0' || !(value > 0) || value > 1e6) return false;
  *out = value;
  return true;
}

// Returns -1 when the options are fine, otherwise the exit status.
int parse_options(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--print-settings") {
      options->print_settings = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error("option " + arg + " needs a value");
    const char* value = argv[++i];
    if (arg == "--replay") {
      options->replay_path = value;
    } else if (arg == "--rate-hz") {
      if (!parse_positive(value, &options->rate_hz)) return usage_error("--rate-hz wants a positive number of Hz");
    } else if (arg == "--speed") {
      if (!parse_positive(value, &options->speed)) return usage_error("--speed wants a positive factor like 1 or 20");
    } else if (arg == "--imu") {
      options->imu = value;
    } else if (arg == "--model") {
      options->model_path = value;
    } else if (arg == "--arena-bytes") {
      char* end = nullptr;
      errno = 0;
      unsigned long bytes = strtoul(value, &end, 10);
      if (end == value || *end != '\0' || errno != 0 || bytes == 0 || bytes > 0xFFFFFFFFul || value[0] == '-') {
        return usage_error("--arena-bytes wants a positive number of bytes like 8192");
      }
      options->arena_bytes = bytes;
    } else if (arg == "--python") {
      options->python = value;
    } else {
      return usage_error("unknown option " + arg);
    }
  }
  if (options->arena_bytes > 0 && options->model_path.empty()) return usage_error("--arena-bytes needs --model");
  if (options->replay_path.empty() && options->model_path.empty() && !options->print_settings) {
    return usage_error("--replay FILE.csv is required (optional only with --model)");
  }
  if (options->python.empty()) {
    const char* env = getenv("NANOGEST_PYTHON");
    options->python = env != nullptr && *env != '\0' ? env : "python3";
  }
  return -1;
}

uint64_t monotonic_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000ull + static_cast<uint64_t>(ts.tv_nsec) / 1000ull;
}

// Writes queued TX bytes to the pty until it would block.
void drain(ng::ByteRing& tx, int fd) {
  while (!tx.empty()) {
    const uint8_t* run = nullptr;
    size_t length = tx.peek(&run);
    ssize_t written = write(fd, run, length);
    if (written <= 0) return;  // EAGAIN: the host is not reading; the ring absorbs (then drops)
    tx.pop(static_cast<size_t>(written));
  }
}

// The recognition path: the compiled-in settings, the buffers they size, and the TFLM child.
struct ModelSide {
  vboard::TflmChildRunner runner;
  std::vector<int16_t> window_counts;
  std::vector<int8_t> input, output, state, state_next;
  std::unique_ptr<ng::InferencePipeline> pipeline;
  char failure[ng::kArenaMessageMaxBytes] = "";  // why the inference modes answer ERROR model_failed
};

// Returns -1 when the model side is ready (or failed the way the board reports over the
// protocol: side->failure), otherwise the exit status.
int start_model(const Options& options, const vboard::RunSettings& run, uint32_t imu_rate_mhz, ModelSide* side) {
  const ng::ModelSettings& ms = run.model;
  uint32_t file_hash = 0;
  std::string error;
  if (!vboard::model_file_hash(options.model_path, &file_hash, &error)) {
    fprintf(stderr, "virtual_board: %s\n", error.c_str());
    return 2;
  }
  if (file_hash != ms.model_hash) {
    fprintf(stderr, "virtual_board: %s is model 0x%08x, this virtual board was built for model 0x%08x; start "
            "build/host/virtual_board --model %s to get the one built for it\n", options.model_path.c_str(),
            static_cast<unsigned>(file_hash), static_cast<unsigned>(ms.model_hash), options.model_path.c_str());
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (!side->runner.start(options.python, options.model_path, &error, options.arena_bytes)) {
    fprintf(stderr, "virtual_board: %s\n", error.c_str());
    return 2;
  }
  // A child that refuses or dies on a first invocation on zeros (an arena too small: TFLM fails
  // or crashes): the inference modes answer ERROR model_failed, like the board.
  if (!side->runner.probe(run)) {
    if (options.arena_bytes > 0) {
      ng::format_arena_too_small(side->failure, sizeof side->failure, static_cast<uint32_t>(options.arena_bytes),
                                 run.arena_measured_bytes);
    } else {
      snprintf(side->failure, sizeof side->failure, "the model runtime failed on a first invocation (see the "
               "virtual board's stderr); reconvert the run");
    }
    fprintf(stderr, "virtual_board: the model cannot run: %s\n", side->failure);
    return -1;
  }
  side->window_counts.resize(ms.window_samples * ng::kImuChannels);
  side->input.resize(ms.window_samples * ng::kImuChannels);
  side->output.resize(ms.label_count);
  ng::InferenceBuffers buffers = {side->window_counts.data(), side->input.data(), side->output.data()};
  if (run.step.is_step_model) {  // a GRU one step at a time: the core carries its state
    if (!ng::step_settings_valid(run.step)) {
      fprintf(stderr, "virtual_board: the step model's settings are not usable (a size or scale is zero)\n");
      return 2;
    }
    side->state.resize(run.step.state_size);
    side->state_next.resize(run.step.state_size);
    side->pipeline.reset(new ng::InferencePipeline(ms, run.step, buffers,
                                                   ng::StepBuffers{side->state.data(), side->state_next.data()},
                                                   side->runner, host_micros));
  } else {
    side->pipeline.reset(new ng::InferencePipeline(ms, buffers, side->runner, host_micros));  // the host may allocate
  }
  if (ms.rate_mhz != imu_rate_mhz) {
    fprintf(stderr, "virtual_board: note: the model was trained at %.3f Hz, the IMU runs at %.3f Hz: the core "
            "resamples the IMU's stream to the model's rate\n", ms.rate_mhz / 1000.0, imu_rate_mhz / 1000.0);
  }
  return -1;
}

// Serves the device on the pty until stdin closes or a signal asks to stop.
int serve(ng::Device& device, ng::ByteRing& tx, const vboard::PtyPort& port, double speed) {
  const uint64_t wall_start_us = monotonic_us();
  auto device_now = [&]() {
    double device_us = static_cast<double>(monotonic_us() - wall_start_us) * speed;
    return static_cast<uint32_t>(static_cast<uint64_t>(device_us));
  };
  bool stdin_open = true;
  while (!g_stop && stdin_open) {
    struct pollfd fds[2];
    fds[0].fd = port.master_fd();
    fds[0].events = static_cast<short>(POLLIN | (tx.empty() ? 0 : POLLOUT));
    fds[1].fd = STDIN_FILENO;
    fds[1].events = POLLIN;
    uint64_t wait_us = 100000;
    uint64_t until_sample = device.us_until_next_sample();
    if (until_sample != UINT64_MAX) {
      uint64_t wall_us = static_cast<uint64_t>(static_cast<double>(until_sample) / speed);
      if (wall_us < wait_us) wait_us = wall_us;
    }
    struct timespec timeout = {static_cast<time_t>(wait_us / 1000000), static_cast<long>(wait_us % 1000000) * 1000};
    int ready = ppoll(fds, 2, &timeout, nullptr);
    if (ready < 0 && errno != EINTR) {
      fprintf(stderr, "virtual_board: waiting on the pseudo-terminal failed: %s\n", strerror(errno));
      return 1;
    }
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      uint8_t buffer[256];
      ssize_t n = read(port.master_fd(), buffer, sizeof buffer);
      if (n > 0) device.on_rx(buffer, static_cast<size_t>(n), device_now());
    }
    if (ready > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char sink[256];
      ssize_t n = read(STDIN_FILENO, sink, sizeof sink);
      if (n <= 0) stdin_open = false;
    }
    device.poll(device_now());
    drain(tx, port.master_fd());
  }
  return 0;
}

void describe(const Options& options, const vboard::ImuModel& model, double rate_hz, const vboard::ReplayImu& replay,
              const ng::InferencePipeline* pipeline) {
  if (options.replay_path.empty()) {
    fprintf(stderr, "virtual_board: %s at %.3f Hz x%.3g, no replay file (IMU silent)\n", model.name, rate_hz,
            options.speed);
  } else {
    fprintf(stderr, "virtual_board: %s at %.3f Hz x%.3g, replaying %zu samples in %zu takes from %s\n", model.name,
            rate_hz, options.speed, replay.sample_count(), replay.take_count(), options.replay_path.c_str());
  }
  if (pipeline != nullptr) {
    const ng::ModelSettings& ms = pipeline->settings();
    fprintf(stderr, "virtual_board: model %s (hash 0x%08x): %zu labels, window %zu, hop %zu, run by TFLM in %s\n",
            options.model_path.c_str(), static_cast<unsigned>(ms.model_hash), ms.label_count, ms.window_samples,
            ms.hop_samples, options.python.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  int status = parse_options(argc, argv, &options);
  if (status >= 0) return status;
  const vboard::RunSettings* run = vboard::compiled_run_settings();
  if (!options.model_path.empty() && run == nullptr) return vboard::become_run_program(options.python, options.model_path, argv);
  if (options.print_settings) {
    if (run == nullptr) return usage_error("--print-settings needs --model");
    vboard::print_settings_json(stdout, *run);
    return 0;
  }
  if (run != nullptr && options.model_path.empty()) {
    return usage_error("this virtual board was built for one model: pass its run directory with --model");
  }
  const vboard::ImuModel* model = vboard::find_imu_model(options.imu);
  if (model == nullptr) return usage_error("unknown --imu " + options.imu + ": use lsm9ds1 or bmi270");
  double rate_hz = options.rate_hz > 0 ? options.rate_hz : model->chip.rate_mhz / 1000.0;

  vboard::ReplayImu replay_imu(*model, rate_hz);
  SilentImu silent_imu(replay_imu.info());
  std::string error;
  if (!options.replay_path.empty() && !replay_imu.load(options.replay_path, &error)) {
    fprintf(stderr, "virtual_board: %s\n", error.c_str());
    return 2;
  }
  ng::ImuProvider& imu = options.replay_path.empty() ? static_cast<ng::ImuProvider&>(silent_imu) : replay_imu;
  ModelSide side;
  if (run != nullptr && (status = start_model(options, *run, imu.info().rate_mhz, &side)) >= 0) return status;
  vboard::PtyPort port;
  if (!port.open(&error)) {
    fprintf(stderr, "virtual_board: %s\n", error.c_str());
    return 1;
  }

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  static uint8_t tx_storage[8192];
  ng::ByteRing tx(tx_storage, sizeof tx_storage);
  ng::DeviceConfig config;
  config.board_rev = ng::proto::kBoardVirtual;
  config.fw_major = 0;
  config.fw_minor = 1;
  config.fw_patch = 0;
  config.model_hash = run != nullptr ? run->model.model_hash : 0;
  config.pacing = ng::Pacing::kByClock;
  config.inference = side.pipeline.get();
  if (side.failure[0] != '\0') config.model_failure = side.failure;
  ng::Device device(imu, tx, config);

  printf("%s\n", port.slave_path().c_str());
  fflush(stdout);
  describe(options, *model, rate_hz, replay_imu, side.pipeline.get());
  status = serve(device, tx, port, options.speed);
  fprintf(stderr, "virtual_board: stopped after %u samples (%u dropped because the host did not read)\n",
          device.samples_produced(), device.samples_dropped());
  if (side.pipeline != nullptr && side.pipeline->failures() > 0) {
    fprintf(stderr, "virtual_board: the model failed on %u windows\n", side.pipeline->failures());
  }
  return status;
}
