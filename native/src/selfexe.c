/*
 * The helper never runs a container from the host's gb-helper file (the CVE-2019-5736 pattern).
 *
 * Every process sees the file it runs as /proc/PID/exe, and a container's process can open that
 * link for any process it can see with its own credentials: gb-init (PID 1 with --init), and the
 * helper itself while it execs a command, since a command whose first line is `#!/proc/self/exe`
 * makes the kernel run, as its interpreter, whatever that process runs at that moment. An open
 * descriptor on the host's binary is one write away from replacing the helper that every later
 * container runs as root on the host.
 *
 * So `run` and `exec` run from a sealed memfd: a copy of the binary in memory that no one can
 * change (F_SEAL_WRITE|SHRINK|GROW, and F_SEAL_SEAL so the seals stay). The engine spawns the
 * helper from such a copy it made once (server/engine/runtime/sealed-helper.ts), so this check
 * costs an open and an fcntl; a helper started from its file copies itself and re-execs first,
 * as runc's cloned_binary does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* set in our own environment across the re-exec only, so that a kernel that does not keep the
 * seals cannot make the helper exec itself forever */
#define REEXEC_MARK "_GB_HELPER_SEALED"

extern char **environ;

bool selfexe_is_sealed(int fd) {
  int seals = fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

static int copy_all(int to, int from, off_t size) {
  off_t done = 0;
  while (done < size) {
    ssize_t n = sendfile(to, from, NULL, (size_t)(size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO; /* the file shrank under us */
      return -1;
    }
    done += n;
  }
  return 0;
}

int selfexe_ensure_sealed(char **argv, char *err, size_t errlen) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    format_error(err, errlen, "selfexe", errno, "open /proc/self/exe");
    return -1;
  }
  if (selfexe_is_sealed(self)) {
    close(self);
    unsetenv(REEXEC_MARK);
    return 0;
  }
  if (getenv(REEXEC_MARK)) {
    close(self);
    format_error(err, errlen, "selfexe", EINVAL, "re-executed from a sealed memfd, but /proc/self/exe is not sealed");
    return -1;
  }
  struct stat st;
  if (fstat(self, &st) < 0) {
    format_error(err, errlen, "selfexe", errno, "fstat /proc/self/exe");
    close(self);
    return -1;
  }
  /* MFD_EXEC: since Linux 6.3 a memfd may be made non-executable by default (vm.memfd_noexec) */
  int mfd = memfd_create("gb-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) mfd = memfd_create("gb-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) {
    format_error(err, errlen, "selfexe", errno, "memfd_create(MFD_CLOEXEC|MFD_ALLOW_SEALING)");
    close(self);
    return -1;
  }
  int r = copy_all(mfd, self, st.st_size);
  int e = errno;
  close(self);
  if (r < 0) {
    format_error(err, errlen, "selfexe", e, "copy /proc/self/exe into the memfd");
    close(mfd);
    return -1;
  }
  fcntl(mfd, F_ADD_SEALS, F_SEAL_EXEC); /* Linux 6.3+: the mode bits stay too (EINVAL before) */
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) {
    format_error(err, errlen, "selfexe", errno, "fcntl(F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE)");
    close(mfd);
    return -1;
  }
  setenv(REEXEC_MARK, "1", 1);
  syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
  e = errno;
  unsetenv(REEXEC_MARK);
  close(mfd);
  format_error(err, errlen, "selfexe", e, "execveat(memfd, AT_EMPTY_PATH)");
  return -1;
}
