/*
 * Descriptor hygiene. A process inherits every descriptor its parent did not mark close-on-exec:
 * a server holding the pty masters of other learners' terminals would hand them to whatever it
 * starts, and a container that gets one can type into someone else's shell. So the helper closes
 * what it inherited as soon as it starts, and marks everything above 2 close-on-exec right before
 * a container's process is exec'd (as runc does), whatever opened it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void one(int fd, bool cloexec) {
  if (cloexec) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  } else {
    close(fd);
  }
}

/*
 * Without close_range (kernels before 5.9, or a seccomp filter that refuses it): walk
 * /proc/self/fd, and where /proc is not mounted, every number below the descriptor limit.
 */
static int sweep_fallback(int low, bool cloexec) {
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    int self = dirfd(d);
    int fds[1024], n = 0;
    bool more = false;
    for (struct dirent *e; (e = readdir(d));) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      int fd = atoi(e->d_name);
      if (fd < low || fd == self) continue;
      /* closing while reading the directory would skip entries: collect, then act */
      if (n < (int)(sizeof(fds) / sizeof(fds[0]))) fds[n++] = fd;
      else more = true;
    }
    closedir(d);
    for (int i = 0; i < n; i++) one(fds[i], cloexec);
    if (!more) return 0;
  }
  struct rlimit rl;
  long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 1L << 20;
  if (max > 1L << 20) max = 1L << 20;
  for (long fd = low; fd < max; fd++) one((int)fd, cloexec);
  return 0;
}

int fds_close_from(int low) {
  if (syscall(SYS_close_range, (unsigned)low, ~0U, 0U) == 0) return 0;
  return sweep_fallback(low, false);
}

int fds_cloexec_from(int low) {
  if (syscall(SYS_close_range, (unsigned)low, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  return sweep_fallback(low, true);
}
