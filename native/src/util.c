/* Small helpers: files, directories, paths, signal names. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(data);
  ssize_t w = write(fd, data, len);
  int saved = errno;
  close(fd);
  errno = saved;
  return w == (ssize_t)len ? 0 : -1;
}

int mkdir_p(const char *path, mode_t mode) {
  char buf[4096];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
  return 0;
}

char *path_join(char *buf, size_t len, const char *a, const char *b) {
  snprintf(buf, len, "%s/%s", a, b[0] == '/' ? b + 1 : b);
  return buf;
}

const char *signal_name(int sig) {
  static char buf[16];
  const char *n = sigabbrev_np(sig);
  if (!n) {
    snprintf(buf, sizeof(buf), "%d", sig);
    return buf;
  }
  snprintf(buf, sizeof(buf), "SIG%s", n);
  return buf;
}

/*
 * How a process moves itself into a cgroup, given the cgroup.procs file the engine named.
 *
 * On a v1 hierarchy the process writes "0" into `tasks`: that moves only the calling thread, and
 * moving only the caller lets the kernel skip the global cgroup_threadgroup_rwsem, whose write side
 * waits for an RCU grace period (5-25 ms on an idle machine, on every container start and every
 * exec). The helper is single-threaded, so its one thread is the whole process, and whatever it
 * forks is born inside. A v2 domain cgroup moves whole processes only: cgroup.procs, also "0".
 * The file is opened now (with the opener's credentials: the kernel checks those, so a child
 * that is already in a user namespace can still use the descriptor) and written by cgroup_join().
 */
int cgroup_join_open(const char *procs, char *used, size_t usedlen) {
  char tasks[4096];
  snprintf(tasks, sizeof(tasks), "%s", procs);
  char *slash = strrchr(tasks, '/');
  const char *path = procs;
  if (slash && !strcmp(slash + 1, "cgroup.procs")) {
    snprintf(slash + 1, sizeof(tasks) - (size_t)(slash + 1 - tasks), "tasks");
    if (access(tasks, F_OK) == 0) path = tasks;
  }
  snprintf(used, usedlen, "%s", path);
  return open(path, O_WRONLY | O_CLOEXEC);
}

int cgroup_join(int fd) {
  return write(fd, "0", 1) == 1 ? 0 : -1;
}
