/*
 * `gb-helper run`: the container's monitor (like conmon or containerd's shim). It creates the
 * container's init with clone(), writes what only the parent may write (uid/gid maps, cgroup
 * membership, oom_score_adj, rlimits), holds the create/start barrier, then stays as init's parent:
 * it copies init's output to the log and to attached clients, and writes exit.json when init ends.
 * The engine may die and come back at any time; the monitor does not need it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MAX_CLIENTS 32

static struct spec *S;
static char sock_path[108];

static void iso_now(char *buf, size_t len) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

static void fail(const char *line) {
  status_line("%s", line);
  if (sock_path[0]) unlink(sock_path);
  exit(1);
}

#define FAILF(step, err, ...)                                   \
  do {                                                          \
    char _line[2800];                                           \
    format_error(_line, sizeof(_line), step, err, __VA_ARGS__); \
    fail(_line);                                                \
  } while (0)

static void write_exit_json(int code, int sig) {
  char path[4096], tmp[4200], when[64], body[256];
  iso_now(when, sizeof(when));
  if (sig) snprintf(body, sizeof(body), "{\"code\":%d,\"signal\":\"%s\",\"finishedAt\":\"%s\"}\n", code, signal_name(sig), when);
  else snprintf(body, sizeof(body), "{\"code\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n", code, when);
  path_join(path, sizeof(path), S->state_dir, "exit.json");
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ssize_t w = write(fd, body, strlen(body));
  (void)w;
  fsync(fd);
  close(fd);
  rename(tmp, path);
}

/* ---- the log: Docker json-file lines, one per line of output ----
 * With `log_rotate SIZE FILES` the monitor rotates like Docker's json-file driver: before a line
 * that would take the file past SIZE, log.(FILES-2) -> log.(FILES-1) ... log -> log.1, and a new
 * log is opened (FILES 1: the file is truncated instead). So the log takes at most SIZE x FILES
 * bytes on the host (a single line longer than SIZE still gets a file of its own). */

static int log_fd = -1;
static long long log_size;
static char pending[2][16384];
static size_t pending_len[2];

static void log_open(void) {
  log_fd = open(S->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st;
  log_size = log_fd >= 0 && fstat(log_fd, &st) == 0 ? (long long)st.st_size : 0;
}

static void log_rotate(void) {
  char from[4200], to[4200];
  if (S->log_max_files <= 1) {
    if (ftruncate(log_fd, 0) == 0) log_size = 0;
    return;
  }
  close(log_fd);
  for (int i = S->log_max_files - 1; i >= 1; i--) {
    if (i == 1) snprintf(from, sizeof(from), "%s", S->log);
    else snprintf(from, sizeof(from), "%s.%d", S->log, i - 1);
    snprintf(to, sizeof(to), "%s.%d", S->log, i);
    rename(from, to); /* a missing older file is fine */
  }
  log_open();
}

static void log_entry(int stream, const char *data, size_t len) {
  if (log_fd < 0 || len == 0) return;
  static char esc[16384 * 6 + 64];
  static char line[sizeof(esc) + 160];
  char when[64];
  iso_now(when, sizeof(when));
  json_escape(esc, sizeof(esc), data, len);
  int n = snprintf(line, sizeof(line), "{\"stream\":\"%s\",\"time\":\"%s\",\"log\":\"%s\"}\n", stream ? "stderr" : "stdout", when, esc);
  if (S->log_max_size > 0 && log_size > 0 && log_size + n > S->log_max_size) {
    log_rotate();
    if (log_fd < 0) return;
  }
  ssize_t w = write(log_fd, line, (size_t)n);
  if (w > 0) log_size += w;
}

static void log_output(int stream, const char *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    pending[stream][pending_len[stream]++] = data[i];
    if (data[i] == '\n' || pending_len[stream] == sizeof(pending[0])) {
      log_entry(stream, pending[stream], pending_len[stream]);
      pending_len[stream] = 0;
    }
  }
}

static void log_flush(void) {
  for (int i = 0; i < 2; i++) {
    log_entry(i, pending[i], pending_len[i]);
    pending_len[i] = 0;
  }
}

/* ---- attach clients: frames of 1 byte type + 4 bytes big-endian length + payload ---- */

struct client {
  int fd;
  unsigned char hdr[5];
  size_t hdr_len;
  unsigned char *body;
  size_t body_len, body_want;
};
static struct client clients[MAX_CLIENTS];
static int nclients;

static void client_close(int i) {
  close(clients[i].fd);
  free(clients[i].body);
  clients[i] = clients[--nclients];
}

static void send_frame_to(int i, char type, const void *data, size_t len) {
  unsigned char hdr[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
  struct iovec iov[2] = {{hdr, 5}, {(void *)data, len}};
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
  size_t total = 5 + len;
  while (total > 0) {
    ssize_t w = sendmsg(clients[i].fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      clients[i].fd = -clients[i].fd - 1; /* marked: closed after the broadcast */
      return;
    }
    total -= (size_t)w;
    while (w > 0 && msg.msg_iovlen > 0) {
      if ((size_t)w >= msg.msg_iov[0].iov_len) {
        w -= (ssize_t)msg.msg_iov[0].iov_len;
        msg.msg_iov++;
        msg.msg_iovlen--;
      } else {
        msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + w;
        msg.msg_iov[0].iov_len -= (size_t)w;
        w = 0;
      }
    }
  }
}

static void broadcast(char type, const void *data, size_t len) {
  for (int i = 0; i < nclients; i++) send_frame_to(i, type, data, len);
  for (int i = nclients - 1; i >= 0; i--)
    if (clients[i].fd < 0) {
      clients[i].fd = -clients[i].fd - 1;
      client_close(i);
    }
}

static int pty_master = -1, in_w = -1;

static void handle_frame(char type, unsigned char *body, size_t len) {
  if (type == 'i') {
    int fd = pty_master >= 0 ? pty_master : in_w;
    size_t off = 0;
    while (fd >= 0 && off < len) {
      ssize_t w = write(fd, body + off, len - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        break;
      }
      off += (size_t)w;
    }
  } else if (type == 'c') {
    if (in_w >= 0) {
      close(in_w);
      in_w = -1;
    } else if (pty_master >= 0) {
      char eot = 4; /* ^D: end of input for a program reading the terminal */
      ssize_t w = write(pty_master, &eot, 1);
      (void)w;
    }
  } else if (type == 'r' && pty_master >= 0) {
    char buf[32] = {0};
    memcpy(buf, body, len < 31 ? len : 31);
    struct winsize ws = {0};
    unsigned rows = 0, cols = 0;
    if (sscanf(buf, "%u %u", &rows, &cols) == 2 && rows && cols) {
      ws.ws_row = (unsigned short)rows;
      ws.ws_col = (unsigned short)cols;
      ioctl(pty_master, TIOCSWINSZ, &ws);
    }
  }
}

/* Read what a client sent; returns -1 when it has gone. */
static int client_read(struct client *c) {
  unsigned char buf[65536];
  ssize_t n = read(c->fd, buf, sizeof(buf));
  if (n <= 0) return (n < 0 && (errno == EINTR || errno == EAGAIN)) ? 0 : -1;
  for (ssize_t i = 0; i < n;) {
    if (c->hdr_len < 5) {
      c->hdr[c->hdr_len++] = buf[i++];
      if (c->hdr_len == 5) {
        c->body_want = ((size_t)c->hdr[1] << 24) | ((size_t)c->hdr[2] << 16) | ((size_t)c->hdr[3] << 8) | c->hdr[4];
        if (c->body_want > (1 << 24)) return -1; /* nonsense: drop the client */
        unsigned char *body = realloc(c->body, c->body_want + 1);
        if (!body) return -1; /* out of memory: drop this client, not the container */
        c->body = body;
        c->body_len = 0;
      }
    } else {
      size_t take = c->body_want - c->body_len;
      if (take > (size_t)(n - i)) take = (size_t)(n - i);
      memcpy(c->body + c->body_len, buf + i, take);
      c->body_len += take;
      i += (ssize_t)take;
    }
    if (c->hdr_len == 5 && c->body_len == c->body_want) {
      handle_frame((char)c->hdr[0], c->body, c->body_len);
      c->hdr_len = 0;
    }
  }
  return 0;
}

/* Take every connection waiting in the backlog (non-blocking). */
static void accept_clients(int lfd) {
  for (;;) {
    int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0) return;
    if (nclients >= MAX_CLIENTS) {
      close(cfd);
      continue;
    }
    /* blocking writes with a time limit: a slow client slows the container, a stuck one is dropped */
    int flags = fcntl(cfd, F_GETFL);
    struct timeval tv = {.tv_sec = 5};
    if (flags < 0 || fcntl(cfd, F_SETFL, flags & ~O_NONBLOCK) < 0 || setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
      close(cfd); /* a client we could not set up would stall the loop: refuse it */
      continue;
    }
    clients[nclients++] = (struct client){.fd = cfd};
  }
}

static int listen_socket(void) {
  path_join(sock_path, sizeof(sock_path), S->state_dir, "monitor.sock");
  unlink(sock_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0)
    FAILF("monitor-socket", errno, "listen on %s", sock_path);
  chmod(sock_path, 0600);
  return fd;
}

static void clone_flags_str(int flags, bool time, char *buf, size_t len) {
  static const struct { int f; const char *n; } names[] = {
    {CLONE_NEWPID, "CLONE_NEWPID"}, {CLONE_NEWNS, "CLONE_NEWNS"}, {CLONE_NEWNET, "CLONE_NEWNET"},
    {CLONE_NEWUTS, "CLONE_NEWUTS"}, {CLONE_NEWIPC, "CLONE_NEWIPC"}, {CLONE_NEWUSER, "CLONE_NEWUSER"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
  };
  snprintf(buf, len, "clone(");
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (flags & names[i].f) {
      strncat(buf, names[i].n, len - strlen(buf) - 1);
      strncat(buf, "|", len - strlen(buf) - 1);
    }
  strncat(buf, time ? "SIGCHLD) in a time namespace made by unshare(CLONE_NEWTIME)" : "SIGCHLD)", len - strlen(buf) - 1);
}

/* The name a learner looks up in getrlimit(2), for the timeline. */
static const char *rlimit_name(int resource) {
  static const struct { int r; const char *n; } names[] = {
    {RLIMIT_CPU, "CPU"}, {RLIMIT_FSIZE, "FSIZE"}, {RLIMIT_DATA, "DATA"}, {RLIMIT_STACK, "STACK"},
    {RLIMIT_CORE, "CORE"}, {RLIMIT_RSS, "RSS"}, {RLIMIT_NPROC, "NPROC"}, {RLIMIT_NOFILE, "NOFILE"},
    {RLIMIT_MEMLOCK, "MEMLOCK"}, {RLIMIT_AS, "AS"}, {RLIMIT_LOCKS, "LOCKS"}, {RLIMIT_SIGPENDING, "SIGPENDING"},
    {RLIMIT_MSGQUEUE, "MSGQUEUE"}, {RLIMIT_NICE, "NICE"}, {RLIMIT_RTPRIO, "RTPRIO"}, {RLIMIT_RTTIME, "RTTIME"},
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (names[i].r == resource) return names[i].n;
  return "?";
}

static void write_map(pid_t pid, const char *name, struct mapping *m, int n) {
  char path[64], data[32 * 64] = "";
  snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
  for (int i = 0; i < n; i++) {
    char line[64];
    snprintf(line, sizeof(line), "%lu %lu %lu\n", m[i].inside, m[i].outside, m[i].count);
    strncat(data, line, sizeof(data) - strlen(data) - 1);
  }
  double t = now_ms();
  if (write_file(path, data) < 0) FAILF(name, errno, "write %s", path);
  data[strlen(data) - 1] = 0;
  status_step("monitor", name, now_ms() - t, NULL, path, data);
}

/* Everything the monitor holds while it starts init: the channels to the child and its stdio. */
struct launch {
  int lfd, sfd, status_dup;
  int sync[2], errp[2], out[2], errs[2], in[2];
  sigset_t chld;
  struct child_fds fds;
  pid_t pid;
};

/* Step 1: the monitor itself: its cgroup, its pid file, monitor.sock, the log, joined namespaces,
 * the time namespace. Nothing of the container exists yet. */
static void monitor_prepare(struct spec *s, struct launch *L) {
  signal(SIGPIPE, SIG_IGN);
  setsid(); /* fails harmlessly when the engine already made us a session leader */
  if ((!s->rootfs && !s->shim) || !s->state_dir) FAILF("spec", 0, "the spec needs rootfs (or shim) and state_dir");

  /* The monitor's own work (copying a log flood, serving attach clients) is charged to the
   * container: it joins a cgroup under the container's before it does anything else. */
  for (int i = 0; i < s->nmonitor_cgroups; i++) {
    char used[4096];
    double t0 = now_ms();
    int fd = cgroup_join_open(s->monitor_cgroups[i], used, sizeof(used));
    if (fd < 0 || cgroup_join(fd) < 0) FAILF("monitor-cgroup", errno, "join %s", used);
    close(fd);
    status_step("monitor", "monitor-cgroup", now_ms() - t0, NULL, used, "0");
  }
  /* Inside the container's memory cgroup, the OOM killer must pick the container's processes,
   * never the monitor that writes its exit status (Docker does the same for its shims). init is
   * cloned from here, so this is only done when the spec sets init's own value after the clone. */
  if (s->nmonitor_cgroups > 0 && s->has_oom_score_adj && write_file("/proc/self/oom_score_adj", "-999") == 0)
    status_step("monitor", "oom_score_adj", 0, NULL, "/proc/self/oom_score_adj", "-999");

  char path[4096], buf[64];
  path_join(path, sizeof(path), s->state_dir, "monitor.pid");
  snprintf(buf, sizeof(buf), "%d\n", getpid());
  int pf = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (pf >= 0) {
    ssize_t w = write(pf, buf, strlen(buf));
    (void)w;
    close(pf);
  }
  L->lfd = listen_socket();
  if (s->log) {
    log_open();
    if (log_fd < 0) FAILF("log", errno, "open %s", s->log);
  }

  /* namespaces joined rather than made (docker --network container:x): the child inherits them */
  for (int i = 0; i < s->njoins; i++) {
    double t = now_ms();
    int fd = open(s->joins[i].path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, s->joins[i].nstype) < 0) FAILF("join", errno, "setns(%s)", s->joins[i].path);
    close(fd);
    char call[600];
    snprintf(call, sizeof(call), "setns(open(\"%s\"), 0)", s->joins[i].path);
    status_step("monitor", "setns", now_ms() - t, call, NULL, NULL);
  }
  /* a time namespace's offsets can be set only before a process lives in it: the monitor makes
   * it (unshare puts only future children in it), writes the offsets, then clones init into it */
  if (s->ns_time) {
    double t = now_ms();
    if (unshare(CLONE_NEWTIME) < 0) FAILF("timens", errno, "unshare(CLONE_NEWTIME)");
    char offsets[128];
    snprintf(offsets, sizeof(offsets), "monotonic %lld 0\nboottime %lld 0\n", s->mono_offset, s->boot_offset);
    if (write_file("/proc/self/timens_offsets", offsets) < 0) FAILF("timens", errno, "write /proc/self/timens_offsets");
    offsets[strlen(offsets) - 1] = 0;
    status_step("monitor", "timens_offsets", now_ms() - t, "unshare(CLONE_NEWTIME)", "/proc/self/timens_offsets", offsets);
  }
}

/* Step 2: the channels, then clone(2) with the namespace flags. The child runs child_main. */
static void clone_child(struct spec *s, struct launch *L) {
  L->out[0] = L->out[1] = L->errs[0] = L->errs[1] = L->in[0] = L->in[1] = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, L->sync) < 0 || pipe2(L->errp, O_CLOEXEC) < 0) FAILF("pipes", errno, "socketpair");
  if (!s->terminal && s->stdio_from) {
    /* `stdio_from` (the OCI CLI): init's stdio is the caller's own, as runc passes it through: the
     * very open files (same offset, flags; pipes, ttys, sockets alike), copied out of the caller
     * with pidfd_getfd while it waits for "created". The monitor copies and logs nothing. */
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)s->stdio_from, 0);
    if (pidfd < 0) FAILF("stdio", errno, "pidfd_open(%ld)", s->stdio_from);
    int *ends[3] = {&L->in[0], &L->out[1], &L->errs[1]};
    for (int i = 0; i < 3; i++) {
      *ends[i] = (int)syscall(SYS_pidfd_getfd, pidfd, i, 0);
      if (*ends[i] < 0) FAILF("stdio", errno, "pidfd_getfd(%ld, %d)", s->stdio_from, i);
      if (fcntl(*ends[i], F_SETFD, FD_CLOEXEC) < 0) FAILF("stdio", errno, "fcntl(FD_CLOEXEC)");
    }
    close(pidfd);
  } else {
    if (!s->terminal && (pipe2(L->out, O_CLOEXEC) < 0 || pipe2(L->errs, O_CLOEXEC) < 0)) FAILF("pipes", errno, "pipe2");
    if (!s->terminal && s->stdin_open && pipe2(L->in, O_CLOEXEC) < 0) FAILF("pipes", errno, "pipe2");
  }
  L->status_dup = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (L->status_dup < 0) FAILF("pipes", errno, "dup the status channel");

  sigemptyset(&L->chld);
  sigaddset(&L->chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &L->chld, NULL);
  /* made now, not after the start: a monitor that cannot hear SIGCHLD would wait for ever */
  L->sfd = signalfd(-1, &L->chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (L->sfd < 0) FAILF("signalfd", errno, "signalfd(SIGCHLD)");

  /* The child moves itself into its cgroups (see cgroup_join_open): the files are opened here,
   * where the host's privileges are, and the descriptors are inherited. */
  struct child_fds *fds = &L->fds;
  fds->ncgroup = 0;
  for (int i = 0; i < s->ncgroups; i++) {
    fds->cgroup[i] = cgroup_join_open(s->cgroups[i], fds->cgroup_file[i], sizeof(fds->cgroup_file[i]));
    if (fds->cgroup[i] < 0) FAILF("cgroup", errno, "open %s", fds->cgroup_file[i]);
    fds->ncgroup++;
  }
  /* A cgroup namespace takes the cgroups its maker is in at that moment as its root: the child
   * makes it (unshare) once it is inside its own cgroups, not the clone before. */
  int clone_flags = s->ns_flags & ~CLONE_NEWCGROUP;

  double t = now_ms();
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) FAILF("clone", errno, "clone with namespaces");
  if (pid == 0) {
    sigprocmask(SIG_UNBLOCK, &L->chld, NULL);
    close(L->sync[0]);
    close(L->errp[0]);
    close(L->lfd);
    close(L->sfd);
    if (L->out[0] >= 0) close(L->out[0]);
    if (L->errs[0] >= 0) close(L->errs[0]);
    if (L->in[1] >= 0) close(L->in[1]);
    fds->sync = L->sync[1];
    fds->errpipe = L->errp[1];
    fds->status = L->status_dup;
    fds->out_w = L->out[1];
    fds->err_w = L->errs[1];
    fds->in_r = L->in[0];
    child_main(s, fds);
  }
  char call[512];
  clone_flags_str(clone_flags, s->ns_time, call, sizeof(call));
  status_step("monitor", "clone", now_ms() - t, call, NULL, NULL);
  close(L->sync[1]);
  close(L->errp[1]);
  close(L->status_dup);
  if (L->out[1] >= 0) close(L->out[1]);
  if (L->errs[1] >= 0) close(L->errs[1]);
  if (L->in[0] >= 0) close(L->in[0]);
  in_w = L->in[1];
  L->pid = pid;
}

/* Step 3: what only the parent may do for the child while it waits on the sync socket: the user
 * namespace's maps, oom_score_adj, rlimits. Then the child is released. */
static void setup_from_outside(struct spec *s, struct launch *L) {
  char path[4096], buf[64];
  pid_t pid = L->pid;
  double t;
  if (s->ns_flags & CLONE_NEWUSER) {
    if (s->setgroups) {
      snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
      t = now_ms();
      if (write_file(path, s->setgroups) < 0) FAILF("setgroups", errno, "write %s", path);
      status_step("monitor", "setgroups", now_ms() - t, NULL, path, s->setgroups);
    }
    write_map(pid, "uid_map", s->uidmap, s->nuid);
    write_map(pid, "gid_map", s->gidmap, s->ngid);
  }
  for (int i = 0; i < L->fds.ncgroup; i++) close(L->fds.cgroup[i]);
  if (s->has_oom_score_adj) {
    snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
    snprintf(buf, sizeof(buf), "%d", s->oom_score_adj);
    t = now_ms();
    if (write_file(path, buf) < 0) FAILF("oom_score_adj", errno, "write %s", path);
    status_step("monitor", "oom_score_adj", now_ms() - t, NULL, path, buf);
  }
  /* rlimits from outside: raising a hard limit needs CAP_SYS_RESOURCE in the host's namespace */
  for (int i = 0; i < s->nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
    t = now_ms();
    const char *name = rlimit_name(s->rlimits[i].resource);
    if (prlimit(pid, (__rlimit_resource_t)s->rlimits[i].resource, &rl, NULL) < 0) FAILF("rlimit", errno, "prlimit(%d, RLIMIT_%s)", pid, name);
    char call[160], soft[24], hard[24];
    snprintf(soft, sizeof(soft), rl.rlim_cur == RLIM_INFINITY ? "RLIM_INFINITY" : "%llu", (unsigned long long)rl.rlim_cur);
    snprintf(hard, sizeof(hard), rl.rlim_max == RLIM_INFINITY ? "RLIM_INFINITY" : "%llu", (unsigned long long)rl.rlim_max);
    snprintf(call, sizeof(call), "prlimit(%d, RLIMIT_%s, {soft=%s, hard=%s})", pid, name, soft, hard);
    status_step("monitor", "rlimit", now_ms() - t, call, NULL, NULL);
  }
  char go = 'R';
  if (write(L->sync[0], &go, 1) != 1) FAILF("sync", errno, "release the child");

}

/* Step 4: wait for "created" (and the pty master), or an error line, or the child's death; then
 * the create barrier (the engine wires the network meanwhile) and the start. Returns false when
 * the engine gave up before start: the container never ran. */
static bool created_and_started(struct spec *s, struct launch *L) {
  pid_t pid = L->pid;
  struct pollfd pf2[2] = {{.fd = L->sync[0], .events = POLLIN}, {.fd = L->errp[0], .events = POLLIN}};
  char errline[4096];
  ssize_t errlen = 0;
  for (;;) {
    if (poll(pf2, 2, -1) < 0 && errno != EINTR) FAILF("sync", errno, "poll");
    if (pf2[1].revents) {
      errlen = read(L->errp[0], errline, sizeof(errline) - 1);
      if (errlen > 0) {
        errline[errlen] = 0;
        waitpid(pid, NULL, 0);
        fail(errline);
      }
    }
    if (pf2[0].revents) break;
  }
  char c = 0;
  struct iovec iov = {.iov_base = &c, .iov_len = 1};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
  ssize_t got = recvmsg(L->sync[0], &msg, MSG_CMSG_CLOEXEC);
  if (got != 1 || c != 'C') {
    errlen = read(L->errp[0], errline, sizeof(errline) - 1);
    waitpid(pid, NULL, 0);
    if (errlen > 0) {
      errline[errlen] = 0;
      fail(errline);
    }
    FAILF("setup", 0, "the container process ended during its setup");
  }
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (cm && cm->cmsg_type == SCM_RIGHTS) memcpy(&pty_master, CMSG_DATA(cm), sizeof(int));

  if (s->create_barrier) {
    status_line("{\"created\":true,\"pid\":%d,\"monitor\":%d}", pid, getpid());
    char line[64] = {0};
    ssize_t n = 0, r;
    while (n < (ssize_t)sizeof(line) - 1 && (r = read(0, line + n, 1)) == 1 && line[n] != '\n') n++;
    line[n] = 0;
    if (strcmp(line, "start") != 0) {
      /* the engine gave up (or died) before start: the container never runs */
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      write_exit_json(137, SIGKILL);
      unlink(sock_path);
      return false;
    }
  }
  /* whoever attached before start (docker run -it) is registered before the first byte of output */
  int lflags = fcntl(L->lfd, F_GETFL);
  if (lflags < 0 || fcntl(L->lfd, F_SETFL, lflags | O_NONBLOCK) < 0) FAILF("monitor-socket", errno, "fcntl(O_NONBLOCK) on %s", sock_path);
  accept_clients(L->lfd);
  char go = 'S';
  if (write(L->sync[0], &go, 1) != 1) FAILF("sync", errno, "start the child");
  close(L->sync[0]);
  return true;
}

/* Step 5: execve closes the exec-fail pipe: EOF means the command runs. An error line instead
 * is relayed, with exit.json, and the monitor ends. */
static bool command_runs(struct launch *L) {
  char errline[4096];
  ssize_t errlen = 0;
  for (;;) {
    ssize_t r = read(L->errp[0], errline + errlen, sizeof(errline) - 1 - (size_t)errlen);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    errlen += r;
  }
  close(L->errp[0]);
  if (errlen > 0) {
    errline[errlen] = 0;
    int st = 0;
    waitpid(L->pid, &st, 0);
    status_line("%s", errline);
    write_exit_json(WIFEXITED(st) ? WEXITSTATUS(st) : 127, 0);
    unlink(sock_path);
    return false;
  }
  status_line("{\"ready\":true,\"pid\":%d,\"monitor\":%d}", L->pid, getpid());
  return true;
}

/* Step 6, until init ends: output → log and clients; clients → stdin; SIGCHLD → exit.json. */
static void serve(struct spec *s, struct launch *L) {
  char buf[64];
  int lfd = L->lfd, sfd = L->sfd;
  pid_t pid = L->pid;
  int outs[2] = {s->terminal ? pty_master : L->out[0], s->terminal ? -1 : L->errs[0]};
  int exit_status = -1;
  double drain_until = 0;
  for (;;) {
    struct pollfd p[4 + MAX_CLIENTS];
    int np = 0;
    p[np++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    p[np++] = (struct pollfd){.fd = lfd, .events = POLLIN};
    p[np++] = (struct pollfd){.fd = outs[0], .events = POLLIN};
    p[np++] = (struct pollfd){.fd = outs[1], .events = POLLIN};
    int polled = nclients;
    for (int i = 0; i < nclients; i++) p[np++] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
    int timeout = exit_status >= 0 ? 50 : -1;
    int ready = poll(p, (nfds_t)np, timeout);
    if (ready < 0 && errno != EINTR) break;
    bool got_output = false;
    /* new clients first, so they see the output read in this same turn */
    if (p[1].revents & POLLIN) accept_clients(lfd);
    for (int k = 0; k < 2; k++) {
      if (outs[k] < 0 || !(p[2 + k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char data[65536];
      ssize_t n = read(outs[k], data, sizeof(data));
      if (n > 0) {
        got_output = true;
        log_output(k, data, (size_t)n);
        broadcast(k ? 'e' : 'o', data, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        /* EOF on a pipe, EIO on a pty whose last slave closed */
        if (outs[k] != pty_master) close(outs[k]);
        outs[k] = -1;
      }
    }
    for (int i = (polled < nclients ? polled : nclients) - 1; i >= 0; i--) {
      if (!(p[4 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (client_read(&clients[i]) < 0) client_close(i);
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
      }
      int st;
      if (exit_status < 0 && waitpid(pid, &st, WNOHANG) == pid) {
        exit_status = st;
        drain_until = now_ms() + 500;
      }
    }
    /* init has ended: read what is left of its output, but do not wait for grandchildren that
     * kept the pipes open (possible with the host's pid namespace) longer than a moment */
    if (exit_status >= 0 && ((outs[0] < 0 && outs[1] < 0) || (!got_output && ready == 0) || now_ms() > drain_until)) break;
  }
  log_flush();
  int code = WIFEXITED(exit_status) ? WEXITSTATUS(exit_status) : 128 + WTERMSIG(exit_status);
  int sig = WIFSIGNALED(exit_status) ? WTERMSIG(exit_status) : 0;
  write_exit_json(code, sig);
  snprintf(buf, sizeof(buf), "%d", code);
  broadcast('x', buf, strlen(buf));
  status_line("{\"exited\":true,\"code\":%d,\"signal\":%s%s%s}", code, sig ? "\"" : "", sig ? signal_name(sig) : "null", sig ? "\"" : "");
  unlink(sock_path);
}

int run_main(struct spec *s) {
  S = s;
  struct launch L = {.lfd = -1, .sfd = -1};
  monitor_prepare(s, &L);
  clone_child(s, &L);
  setup_from_outside(s, &L);
  if (!created_and_started(s, &L)) return 0;
  if (!command_runs(&L)) return 1;
  serve(s, &L);
  return 0;
}
