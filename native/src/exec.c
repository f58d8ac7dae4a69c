/*
 * `gb-helper exec`: enter a running container (docker exec, the browser terminals). setns() into
 * each namespace of the container's init that differs from ours (user first, mount last), join its
 * cgroups, then fork: a new pid namespace applies to children only. The child takes the
 * container's credentials, capabilities and seccomp filter and execs; this process stays as its
 * parent, forwards signals and exits with its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static void __attribute__((noreturn)) die(const char *step, int err, const char *what) {
  exec_error(step, err, "%s", what);
  exit(err == EACCES || err == EPERM ? 126 : 127);
}

static void read_start_time(pid_t pid, char *out, size_t len) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  out[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return;
  /* after ") " come fields 3..; the start time is field 22 */
  int field = 2;
  for (char *save = NULL, *tok = strtok_r(p + 2, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (++field == 22) {
      snprintf(out, len, "%s", tok);
      return;
    }
  }
}

static pid_t child_pid;
static volatile sig_atomic_t winch = 1;

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

static void on_winch(int sig) {
  (void)sig;
  winch = 1;
}

/*
 * With a terminal, the command gets a pty of the container's own devpts (so `tty` inside says
 * /dev/pts/N, as with docker exec -t), and this process relays bytes between the caller's
 * terminal (set raw: the inner pty does the line editing and ^C) and the inner one.
 */
static int relay(int master) {
  struct termios saved, raw;
  bool have_termios = tcgetattr(0, &saved) == 0;
  if (have_termios) {
    raw = saved;
    cfmakeraw(&raw);
    tcsetattr(0, TCSANOW, &raw);
  }
  bool in_open = true;
  int status = 0;
  bool exited = false;
  for (;;) {
    if (winch) {
      winch = 0;
      struct winsize ws;
      if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    }
    struct pollfd p[2] = {{.fd = in_open ? 0 : -1, .events = POLLIN}, {.fd = master, .events = POLLIN}};
    int r = poll(p, 2, exited ? 20 : 200);
    if (r < 0 && errno != EINTR) break;
    char buf[65536];
    if (in_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof(buf));
      if (n > 0) {
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(master, buf + off, (size_t)(n - off));
          if (w < 0 && errno != EINTR) break;
          if (w > 0) off += w;
        }
      } else if (n == 0 || errno != EINTR) {
        in_open = false; /* the caller's terminal closed: hang up the command */
        kill(child_pid, SIGHUP);
      }
    }
    bool got = false;
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof(buf));
      if (n > 0) {
        got = true;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(1, buf + off, (size_t)(n - off));
          if (w < 0 && errno != EINTR) break;
          if (w > 0) off += w;
        }
      } else if (exited) {
        break; /* EIO: every slave is closed and the command is gone */
      }
    }
    if (!exited && waitpid(child_pid, &status, WNOHANG) == child_pid) exited = true;
    if (exited && !got) break;
  }
  if (!exited) waitpid(child_pid, &status, 0);
  if (have_termios) tcsetattr(0, TCSANOW, &saved);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int exec_main(struct spec *s) {
  if (s->target_pid <= 0) die("spec", 0, "no target_pid");
  char start[32];
  read_start_time(s->target_pid, start, sizeof(start));
  if (!start[0]) die("target", ESRCH, "the container's init is gone");
  if (s->target_start && strcmp(start, s->target_start)) die("target", ESRCH, "the container's init is gone (its pid was reused)");

  /* Open every namespace first: after joining the mount namespace /proc/PID may not be reachable */
  /* The time namespace belongs to the host's user namespace (the monitor made it before the
   * clone), so it is joined while we still are the host's root; the others belong to the
   * container's user namespace, joined next. The mount namespace goes last: it changes our root. */
  static const struct { const char *name; int type; } order[] = {
    {"time", CLONE_NEWTIME}, {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
  };
  int fds[8];
  bool userns = false;
  for (int i = 0; i < 8; i++) {
    char theirs[64], ours[64];
    snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", s->target_pid, order[i].name);
    snprintf(ours, sizeof(ours), "/proc/self/ns/%s", order[i].name);
    struct stat a, b;
    fds[i] = -1;
    if (stat(theirs, &a) < 0 || stat(ours, &b) < 0) continue;
    if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue; /* shared with the host */
    fds[i] = open(theirs, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die("setns", errno, theirs);
    if (order[i].type == CLONE_NEWUSER) userns = true;
  }
  /* The init's root directory, opened before we join anything: after setns(mnt) the kernel puts
   * us at the mount namespace's root, which is the host's tree for a chroot-mode container (its
   * init only chroot()ed). Entering that root again below keeps an exec where its init is. */
  char rootpath[64];
  snprintf(rootpath, sizeof(rootpath), "/proc/%d/root", s->target_pid);
  int rootfd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die("setns", errno, rootpath);
  /* join the cgroups while we still have the host's privileges (see cgroup_join_open: the
   * helper moves itself, and the command it forks is born inside) */
  for (int i = 0; i < s->ncgroups; i++) {
    char used[4096];
    int fd = cgroup_join_open(s->cgroups[i], used, sizeof(used));
    if (fd < 0 && errno == ENOENT) continue;
    if (fd < 0 || cgroup_join(fd) < 0) die("cgroup", errno, used);
    close(fd);
  }
  for (int i = 0; i < 8; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], order[i].type) < 0) {
      char what[64];
      snprintf(what, sizeof(what), "setns(%s)", order[i].name);
      die("setns", errno, what);
    }
    close(fds[i]);
  }
  if (fchdir(rootfd) < 0 || chroot(".") < 0) die("setns", errno, "fchdir(/proc/PID/root); chroot(\".\")");
  close(rootfd);

  bool tty = isatty(0);
  int master = -1;
  char slave_path[64] = "";
  if (tty) {
    /* the container's /dev/ptmx: we are in its mount namespace now */
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0, n = -1;
    if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) die("terminal", errno, "open the container's /dev/ptmx");
    snprintf(slave_path, sizeof(slave_path), "/dev/pts/%d", n);
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
  }
  child_pid = fork();
  if (child_pid < 0) die("fork", errno, "fork into the pid namespace");
  if (child_pid == 0 && tty) {
    int slave = open(slave_path, O_RDWR | O_NOCTTY);
    if (slave < 0) die("terminal", errno, slave_path);
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) die("terminal", errno, "make the pty the controlling terminal");
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    if (slave > 2) close(slave);
  }
  if (child_pid == 0) {
    if (userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) die("user", errno, "become root of the user namespace");
    if (chdir(s->cwd) < 0) die("cwd", errno, s->cwd);
    /* nothing above 2 crosses the execve (the inner pty's master is close-on-exec already);
     * before the credentials: the container's seccomp filter may refuse close_range */
    fds_cloexec_from(3);
    char err[2800];
    status_fd_set(-1); /* the terminal is the user's: no status lines */
    if (apply_credentials(s, err, sizeof(err), "exec") < 0) {
      exec_status_json(err);
      _exit(126);
    }
    /* if this helper is killed hard, the command goes too: no process left behind */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char path[4096];
    if (!find_in_path(s->args[0], s->env, s->nenv, path, sizeof(path))) {
      exec_error("exec", 0, "\"%s\": executable file not found in $PATH", s->args[0]);
      _exit(127);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    execve(path, s->args, s->env);
    int e = errno;
    exec_error("exec", e, "execve %s", path);
    _exit(e == ENOENT ? 127 : 126);
  }
    struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  int fwd[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGINT, SIGQUIT};
  for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++) sigaction(fwd[i], &sa, NULL);
  if (tty) {
    /* the caller's terminal is raw: ^C arrives as a byte and the inner pty turns it into SIGINT */
    struct sigaction sw = {.sa_handler = on_winch};
    sigemptyset(&sw.sa_mask);
    sigaction(SIGWINCH, &sw, NULL);
    return relay(master);
  }
  sigaction(SIGWINCH, &sa, NULL);
  int st;
  while (waitpid(child_pid, &st, 0) < 0)
    if (errno != EINTR) return 127;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
