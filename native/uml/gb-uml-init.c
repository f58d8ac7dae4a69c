/*
 * gb-uml-init: PID 1 of a User-mode Linux guest (the uml runtime driver). Built static: the
 * guest's root is the container image, which may have no libc at all.
 *
 * linux.uml runs it as init=/dev/.gb-uml/init, from the read-only kernel directory gb-uml-launch
 * put on the host side's /dev. It reads the container's process from /dev/gb-uml.spec (written
 * by the engine: one `KEY VALUE` a line, VALUE percent-encoded as in the helper spec):
 *   arg V (repeatable), env K=V (repeatable), cwd DIR, user UID GID [GID...], hostname NAME,
 *   terminal 0|1
 * then mounts what a container has (/proc, /sys, a devtmpfs /dev, /dev/pts, /dev/shm), runs the
 * command on the console with that environment, directory and user, and when it ends writes its
 * exit code to /proc/exitcode (linux.uml exits with it) and powers the guest off.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "xstate-filter.h"

#define MAXV 4096

static char *args[MAXV + 1], *envs[MAXV + 2];
static int nargs, nenvs;
static gid_t groups[64];
static int ngroups;
static uid_t uid;
static gid_t gid;
static char *cwd = "/", *host = NULL;
static int terminal;

static void say(const char *fmt, const char *a, int err) {
  fprintf(stderr, "gb-uml-init: ");
  fprintf(stderr, fmt, a);
  if (err) fprintf(stderr, ": %s", strerror(err));
  fprintf(stderr, "\n");
}

static void __attribute__((noreturn)) halt_with(int code) {
  int fd = open("/proc/exitcode", O_WRONLY);
  if (fd >= 0) {
    dprintf(fd, "%d\n", code);
    close(fd);
  }
  sync();
  reboot(RB_POWER_OFF);
  _exit(code);
}

static char *decode(char *s) {
  char *o = s, *r = s;
  while (*s) {
    if (s[0] == '%' && s[1] && s[2]) {
      char hex[3] = {s[1], s[2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      s += 3;
    } else *o++ = *s++;
  }
  *o = 0;
  return r;
}

static void read_spec(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f) {
    say("%s", path, errno);
    halt_with(125);
  }
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    line[strcspn(line, "\n")] = 0;
    char *sp = strchr(line, ' ');
    if (!sp) continue;
    *sp = 0;
    char *val = sp + 1;
    if (!strcmp(line, "arg") && nargs < MAXV) args[nargs++] = strdup(decode(val));
    else if (!strcmp(line, "env") && nenvs < MAXV) envs[nenvs++] = strdup(decode(val));
    else if (!strcmp(line, "cwd")) cwd = strdup(decode(val));
    else if (!strcmp(line, "hostname")) host = strdup(decode(val));
    else if (!strcmp(line, "terminal")) terminal = atoi(val);
    else if (!strcmp(line, "user")) {
      char *save = NULL, *t = strtok_r(val, " ", &save);
      uid = t ? (uid_t)strtoul(t, NULL, 10) : 0;
      t = strtok_r(NULL, " ", &save);
      gid = t ? (gid_t)strtoul(t, NULL, 10) : 0;
      while ((t = strtok_r(NULL, " ", &save)) && ngroups < 64) groups[ngroups++] = (gid_t)strtoul(t, NULL, 10);
    }
  }
  free(line);
  fclose(f);
  if (!nargs) {
    say("%s names no command", path, 0);
    halt_with(125);
  }
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  mkdir(dst, 0755);
  if (mount(src, dst, type, flags, data) < 0) say("mount %s", dst, errno);
}

/* The console without a terminal: bytes pass as they are (no \r\n, no echo, no line editing). */
static void raw_console(int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return;
  cfmakeraw(&t);
  tcsetattr(fd, TCSANOW, &t);
}

static const char *getenv_of(const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < nenvs; i++)
    if (!strncmp(envs[i], name, n) && envs[i][n] == '=') return envs[i] + n + 1;
  return NULL;
}

static void exec_command(void) {
  const char *file = args[0];
  if (strchr(file, '/')) {
    execve(file, args, envs);
  } else {
    const char *path = getenv_of("PATH");
    char buf[4096];
    for (const char *p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; *p;) {
      size_t len = strcspn(p, ":");
      snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? p : ".", file);
      execve(buf, args, envs);
      if (errno != ENOENT && errno != ENOTDIR) break;
      p += len;
      if (*p == ':') p++;
    }
  }
  int err = errno;
  say("exec %s", file, err);
  _exit(err == ENOENT ? 127 : 126);
}

int main(void) {
  read_spec("/dev/gb-uml.spec");
  /* the container's standard mounts, the guest kernel's own */
  mnt("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=755");
  mnt("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mnt("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mnt("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620");
  mnt("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  symlink("/proc/self/fd", "/dev/fd");
  if (host) sethostname(host, strlen(host));

  /* the kernel found no /dev/console to open (devtmpfs.mount=0): 0, 1, 2 are ours to open */
  int con = open("/dev/console", O_RDWR | O_NOCTTY);
  if (con < 0) halt_with(125);
  int err = -1;
  if (!terminal) {
    raw_console(con);
    /* ttyS0 is linux.uml's fd 2 (ssl0=null,fd:2): the command's stderr stays apart */
    err = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
    if (err >= 0) raw_console(err);
  }
  dup2(con, 0);
  dup2(con, 1);
  dup2(err >= 0 ? err : con, 2);
  if (con > 2) close(con);
  if (err > 2) close(err);

  /*
   * linux.uml keeps only the x87/SSE registers of a guest process here (gb-uml-launch.c): keep
   * glibc's string functions and Go's runtime off AVX and AVX-512, whose upper register halves
   * it would lose.
   */
  if (!getenv_of("GLIBC_TUNABLES") && nenvs < MAXV) envs[nenvs++] = "GLIBC_TUNABLES=" GUEST_GLIBC_TUNABLES;
  if (!getenv_of("GODEBUG") && nenvs < MAXV) envs[nenvs++] = "GODEBUG=" GUEST_GODEBUG;

  pid_t pid = fork();
  if (pid < 0) halt_with(125);
  if (pid == 0) {
    setsid();
    if (terminal) ioctl(0, TIOCSCTTY, 1);
    if (setgroups((size_t)ngroups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
      say("set the user %s", "", errno);
      _exit(126);
    }
    if (chdir(cwd) < 0) {
      say("chdir %s", cwd, errno);
      _exit(126);
    }
    exec_command();
  }
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) halt_with(125);
    if (p == pid) halt_with(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  }
}
