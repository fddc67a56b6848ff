#include "run_program.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vboard {

int become_run_program(const std::string& python, const std::string& model_path, char** argv) {
  int up[2];
  if (pipe(up) != 0) {
    fprintf(stderr, "virtual_board: cannot create a pipe: %s\n", strerror(errno));
    return 1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(up[1], STDOUT_FILENO);
    close(up[0]);
    close(up[1]);
    execlp(python.c_str(), python.c_str(), "-m", "boardtools.virtual_build", model_path.c_str(),
           static_cast<char*>(nullptr));
    fprintf(stderr, "virtual_board: cannot run %s: %s (pass --python PATH of the nanogest venv)\n",
            python.c_str(), strerror(errno));
    _exit(127);
  }
  close(up[1]);
  std::string path;
  char buffer[512];
  ssize_t n;
  while ((n = read(up[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) path.append(buffer, static_cast<size_t>(n));
  }
  close(up[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (pid > 0 && WIFEXITED(status) && (WEXITSTATUS(status) == 2 || WEXITSTATUS(status) == 127)) return 2;  // said why
    fprintf(stderr, "virtual_board: no virtual board for %s (the reason is printed above)\n",
            model_path.c_str());
    return 2;
  }
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  size_t line = path.rfind('\n');  // the path is the last line, whatever else reached stdout
  if (line != std::string::npos) path.erase(0, line + 1);
  execv(path.c_str(), argv);
  fprintf(stderr, "virtual_board: cannot start %s: %s\n", path.c_str(), strerror(errno));
  return 1;
}

}  // namespace vboard
