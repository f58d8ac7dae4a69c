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
