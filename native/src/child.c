/*
 * The container side: runs in the process clone() made with the new namespaces, turns it into
 * the container's init. Each step is one syscall (or a few) a learner can find in the timeline:
 * mounts, device nodes, pivot_root, masked paths, hostname, the terminal, credentials, exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <net/if.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "helper.h"

static struct child_fds *g_fds;
static bool g_shim;

/* Report an error on the exec-fail pipe and end the child: the monitor relays the line. */
static void __attribute__((noreturn)) fail_line(const char *line) {
  ssize_t w = write(g_fds->errpipe, line, strlen(line));
  (void)w;
  _exit(127);
}

#define FAIL(step, err, ...)                                    \
  do {                                                          \
    char _line[2800];                                           \
    format_error(_line, sizeof(_line), step, err, __VA_ARGS__); \
    fail_line(_line);                                           \
  } while (0)

static const char *ms_flags_str(unsigned long f, char *buf, size_t len) {
  buf[0] = 0;
  static const struct { unsigned long f; const char *n; } names[] = {
    {MS_RDONLY, "MS_RDONLY"}, {MS_NOSUID, "MS_NOSUID"}, {MS_NODEV, "MS_NODEV"}, {MS_NOEXEC, "MS_NOEXEC"},
    {MS_REMOUNT, "MS_REMOUNT"}, {MS_BIND, "MS_BIND"}, {MS_REC, "MS_REC"}, {MS_PRIVATE, "MS_PRIVATE"},
    {MS_SLAVE, "MS_SLAVE"}, {MS_STRICTATIME, "MS_STRICTATIME"},
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (!(f & names[i].f)) continue;
    if (buf[0]) strncat(buf, "|", len - strlen(buf) - 1);
    strncat(buf, names[i].n, len - strlen(buf) - 1);
  }
  if (!buf[0]) snprintf(buf, len, "0");
  return buf;
}

/*
 * A bind mount ignores MS_RDONLY/MS_NOSUID...: they need a second, remounting call. In a user
 * namespace, flags the mount already has (nosuid, nodev, noexec, ro from the host) are locked and
 * must be repeated, so they are read back with statvfs first.
 */
static int remount_bind(const char *target, unsigned long flags) {
  struct statvfs sv;
  unsigned long keep = 0;
  if (statvfs(target, &sv) == 0) {
    if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY) keep |= MS_RDONLY;
    if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
  }
  unsigned long want = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  return mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | want | keep, NULL);
}

/*
 * The root the mounts below go into, opened once it is bind-mounted on itself. Every destination
 * is resolved inside it (inroot.c): never a string joined onto the rootfs path.
 */
static int g_rootfd = -1;

/* A kernel filesystem goes on an ordinary directory, never through a symlink of the image: a
 * /proc that points elsewhere would put the masked paths somewhere else (runc refuses it too). */
static bool needs_real_dir(const struct mountspec *m) {
  static const char *const kernel_fs[] = {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"};
  for (size_t i = 0; i < sizeof(kernel_fs) / sizeof(kernel_fs[0]); i++)
    if (!strcmp(m->type, kernel_fs[i])) return true;
  return !strcmp(m->dest, "/proc") || !strcmp(m->dest, "/sys") || !strcmp(m->dest, "/dev");
}

static void do_mount(struct spec *s, struct mountspec *m) {
  char call[1400], fl[200], why[4400], target[64];
  double t = now_ms();
  bool bind = m->flags & MS_BIND;
  bool remount = m->flags & MS_REMOUNT;
  int fd;
  if (remount) {
    fd = inroot_lookup(g_rootfd, m->dest, 0);
    if (fd < 0) FAIL("mount", errno, "remount %s: resolve it in the container", m->dest);
  } else {
    /* the mount point: a regular file for a file bind (/etc/hosts), a directory otherwise. O_PATH
     * lookups never open what they find, so a FIFO in its place cannot block us: it is refused. */
    struct stat st;
    int want = INROOT_DIR;
    if (bind && stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode)) want = S_ISREG(st.st_mode) ? INROOT_FILE : INROOT_NONDIR;
    fd = inroot_prepare(g_rootfd, m->dest, want, needs_real_dir(m) ? INROOT_NOFOLLOW_LAST : 0, why, sizeof(why));
    if (fd < 0) FAIL("mount", errno, "%s", why);
  }
  const char *type = strcmp(m->type, "none") ? m->type : NULL;
  unsigned long flags = m->flags;
  if (bind) flags &= MS_BIND | MS_REC;
  /* onto the inode we resolved and checked, whatever its name leads to by now */
  if (mount(m->source, fd_path(fd, target, sizeof(target)), type, flags, m->data) < 0)
    FAIL("mount", errno, "mount %s on %s in the container (type %s, %s%s%s)", m->source, m->dest, type ? type : "none",
         ms_flags_str(m->flags, fl, sizeof(fl)), m->data ? ", " : "", m->data ? m->data : "");
  close(fd);
  if (bind && (m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))) {
    /* the descriptor above is the mount point underneath: look again to get the new mount */
    fd = inroot_lookup(g_rootfd, m->dest, 0);
    if (fd < 0 || remount_bind(fd_path(fd, target, sizeof(target)), m->flags) < 0)
      FAIL("mount", errno, "remount %s with %s", m->dest, ms_flags_str(m->flags, fl, sizeof(fl)));
    close(fd);
  }
  snprintf(call, sizeof(call), "mount(\"%s\", \"%s\", \"%s\", %s, %s%s%s)", m->source, m->dest, type ? type : "NULL",
           ms_flags_str(m->flags, fl, sizeof(fl)), m->data ? "\"" : "NULL", m->data ? m->data : "", m->data ? "\"" : "");
  char step[64];
  snprintf(step, sizeof(step), "mount-%s", !strcmp(m->dest, "/") ? "root" : m->dest + 1);
  for (char *p = step; *p; p++)
    if (*p == '/') *p = '-';
  status_step("child", step, now_ms() - t, call, NULL, NULL);
}

static void make_device(struct spec *s, struct devspec *d, bool userns) {
  char name[256], why[4400], call[600], target[64];
  double t = now_ms();
  int dir = inroot_parent(g_rootfd, d->path, name, sizeof(name), why, sizeof(why));
  if (dir < 0) FAIL("devices", errno, "%s", why);
  unlinkat(dir, name, 0);
  if (userns) {
    /* mknod is refused in a user namespace: bind the host's node onto an empty file instead */
    int fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) FAIL("devices", errno, "create %s in the container", d->path);
    close(fd);
    fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || mount(d->path, fd_path(fd, target, sizeof(target)), NULL, MS_BIND, NULL) < 0)
      FAIL("devices", errno, "bind %s on %s in the container", d->path, d->path);
    close(fd);
    snprintf(call, sizeof(call), "mount(\"%s\", \"%s\", NULL, MS_BIND, NULL)", d->path, d->path);
  } else {
    mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
    if (mknodat(dir, name, type | d->mode, makedev(d->major, d->minor)) < 0)
      FAIL("devices", errno, "mknod %s %c %u:%u in the container", d->path, d->type, d->major, d->minor);
    fchmodat(dir, name, d->mode, 0); /* mknod's mode is filtered by the umask */
    if ((d->uid >= 0 || d->gid >= 0) && fchownat(dir, name, (uid_t)d->uid, (gid_t)d->gid, AT_SYMLINK_NOFOLLOW) < 0)
      FAIL("devices", errno, "chown %s in the container", d->path);
    snprintf(call, sizeof(call), "mknod(\"%s\", S_IF%s|0%o, makedev(%u, %u))", d->path, d->type == 'b' ? "BLK" : "CHR", d->mode, d->major, d->minor);
  }
  close(dir);
  status_step("child", "device", now_ms() - t, call, NULL, NULL);
}

static void make_symlink(const char *target, const char *link) {
  char name[256], why[4400];
  int dir = inroot_parent(g_rootfd, link, name, sizeof(name), why, sizeof(why));
  if (dir < 0) FAIL("symlink", errno, "%s", why);
  unlinkat(dir, name, 0);
  if (symlinkat(target, dir, name) < 0 && errno != EEXIST) FAIL("symlink", errno, "symlink %s -> %s in the container", link, target);
  close(dir);
}

static void pivot_root_into(struct spec *s) {
  double t = now_ms();
  if (s->chroot_mode) {
    /* chroot only changes how paths resolve: the old root stays mounted and reachable with
     * enough privilege (that is the lesson); pivot_root below removes it from the namespace. */
    if (chdir(s->rootfs) < 0 || chroot(".") < 0 || chdir("/") < 0) FAIL("chroot", errno, "chroot %s", s->rootfs);
    status_step("child", "chroot", now_ms() - t, "chdir(rootfs); chroot(\".\"); chdir(\"/\")", NULL, NULL);
    return;
  }
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open(s->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0) FAIL("pivot_root", errno, "open %s", s->rootfs);
  if (fchdir(newroot) < 0) FAIL("pivot_root", errno, "fchdir %s", s->rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) FAIL("pivot_root", errno, "pivot_root(\".\", \".\") in %s", s->rootfs);
  /* the old root is now stacked under the new one at "/": detach it */
  if (fchdir(oldroot) < 0) FAIL("pivot_root", errno, "fchdir old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) FAIL("pivot_root", errno, "make the old root a slave");
  if (umount2(".", MNT_DETACH) < 0) FAIL("pivot_root", errno, "umount2(old root, MNT_DETACH)");
  if (chdir("/") < 0) FAIL("pivot_root", errno, "chdir /");
  close(oldroot);
  close(newroot);
  status_step("child", "pivot_root", now_ms() - t, "pivot_root(\".\", \".\"); umount2(old root, MNT_DETACH)", NULL, NULL);
  /* linux.rootfsPropagation: how mounts under the new / propagate (shared mounts need a shared
   * peer: the bind of the rootfs on itself is one, made in a namespace whose / is a slave) */
  if (s->root_propagation && mount(NULL, "/", NULL, MS_REC | s->root_propagation, NULL) < 0)
    FAIL("pivot_root", errno, "set the propagation of /");
}

static void mask_paths(struct spec *s) {
  double t = now_ms();
  for (int i = 0; i < s->nmasked; i++) {
    struct stat st;
    if (stat(s->masked[i], &st) < 0) continue; /* not on this kernel: nothing to hide */
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", s->masked[i], "tmpfs", MS_RDONLY, "size=0")
                                : mount("/dev/null", s->masked[i], NULL, MS_BIND, NULL);
    if (r < 0) FAIL("masked-paths", errno, "mask %s", s->masked[i]);
  }
  if (s->nmasked) status_step("child", "masked-paths", now_ms() - t, "mount(\"/dev/null\", path, NULL, MS_BIND) for files, read-only tmpfs for directories", NULL, NULL);
  t = now_ms();
  for (int i = 0; i < s->nreadonly; i++) {
    struct stat st;
    if (stat(s->readonly[i], &st) < 0) continue;
    if (mount(s->readonly[i], s->readonly[i], NULL, MS_BIND | MS_REC, NULL) < 0 || remount_bind(s->readonly[i], MS_RDONLY) < 0)
      FAIL("readonly-paths", errno, "make %s read-only", s->readonly[i]);
  }
  if (s->nreadonly) status_step("child", "readonly-paths", now_ms() - t, "mount(path, path, NULL, MS_BIND|MS_REC); mount(NULL, path, NULL, MS_BIND|MS_REMOUNT|MS_RDONLY)", NULL, NULL);
}

/* A pty from the container's own devpts instance, so that `tty` inside says /dev/pts/0. */
static int setup_terminal(void) {
  double t = now_ms();
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) FAIL("terminal", errno, "open /dev/ptmx");
  int unlock = 0, n = -1;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) FAIL("terminal", errno, "unlock the pty");
  char slave_path[64];
  snprintf(slave_path, sizeof(slave_path), "/dev/pts/%d", n);
  int slave = open(slave_path, O_RDWR | O_NOCTTY);
  if (slave < 0) FAIL("terminal", errno, "open %s", slave_path);
  /* /dev/console is the terminal too, as in runc (a shim is on the host's /dev: it leaves it) */
  int fd = g_shim ? -1 : open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) {
    close(fd);
    mount(slave_path, "/dev/console", NULL, MS_BIND, NULL);
  }
  if (setsid() < 0) FAIL("terminal", errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) FAIL("terminal", errno, "ioctl(TIOCSCTTY)");
  dup2(slave, 0);
  dup2(slave, 1);
  dup2(slave, 2);
  if (slave > 2) close(slave);
  char call[160];
  snprintf(call, sizeof(call), "open(\"/dev/ptmx\"); open(\"%s\"); setsid(); ioctl(TIOCSCTTY); dup2 to 0, 1, 2", slave_path);
  status_step("child", "terminal", now_ms() - t, call, NULL, NULL);
  return master;
}

/* Tell the monitor we are ready to start (with the pty master, if any) and wait for "S". */
static void barrier(int pty_master) {
  char c = 'C';
  struct iovec iov = {.iov_base = &c, .iov_len = 1};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (pty_master >= 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &pty_master, sizeof(int));
  }
  if (sendmsg(g_fds->sync, &msg, 0) < 0) FAIL("barrier", errno, "send created");
  if (pty_master >= 0) close(pty_master);
  char go = 0;
  if (read(g_fds->sync, &go, 1) != 1 || go != 'S') _exit(137); /* start was refused */
  close(g_fds->sync);
}

/* A new network namespace starts with lo down: bring it up here, where we already are inside the
 * namespace, with the same ioctl `ip link set lo up` makes (no nsenter + ip spawn from the engine).
 * Any socket is a handle on the namespace's interfaces; uid 0 of the container's user namespace
 * owns this network namespace, so it holds CAP_NET_ADMIN over it. */
static void loopback_up(void) {
  double t = now_ms();
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) FAIL("lo-up", errno, "socket(AF_INET, SOCK_DGRAM)");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) FAIL("lo-up", errno, "ioctl(SIOCGIFFLAGS, lo)");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) FAIL("lo-up", errno, "ioctl(SIOCSIFFLAGS, lo, IFF_UP)");
  close(fd);
  status_step("child", "lo-up", now_ms() - t, "ioctl(socket, SIOCSIFFLAGS, {\"lo\", IFF_UP}): the new network namespace's loopback", NULL, NULL);
}

/* The container's root: mounts, devices, symlinks, pivot_root, masked and read-only paths. */
static void setup_root(struct spec *s, bool userns) {
  double t;
  t = now_ms();
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) FAIL("mount-propagation", errno, "make / rslave");
  if (mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) FAIL("mount-rootfs", errno, "bind %s on itself", s->rootfs);
  status_step("child", "mount-rootfs", now_ms() - t, "mount(NULL, \"/\", NULL, MS_REC|MS_SLAVE); mount(rootfs, rootfs, NULL, MS_BIND|MS_REC)", NULL, NULL);
  g_rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_rootfd < 0) FAIL("mount-rootfs", errno, "open %s", s->rootfs);
  for (int i = 0; i < s->nmounts; i++) do_mount(s, &s->mounts[i]);
  for (int i = 0; i < s->ndevices; i++) make_device(s, &s->devices[i], userns);
  for (int i = 0; i < s->nsymlinks; i++) make_symlink(s->symlink_targets[i], s->symlink_paths[i]);
  close(g_rootfd);
  g_rootfd = -1;
  pivot_root_into(s);
  mask_paths(s);
  if (s->readonly_root) {
    t = now_ms();
    if (remount_bind("/", MS_RDONLY) < 0) FAIL("readonly-root", errno, "remount / read-only");
    status_step("child", "readonly-root", now_ms() - t, "mount(NULL, \"/\", NULL, MS_BIND|MS_REMOUNT|MS_RDONLY)", NULL, NULL);
  }

}

void child_main(struct spec *s, struct child_fds *fds) {
  g_fds = fds;
  g_shim = s->shim;
  /* An ignored signal stays ignored across execve. The monitor ignores SIGPIPE (the engine may go
   * away) and whoever started the engine may have ignored others (SIGQUIT, SIGHUP): the container's
   * process starts with every signal at its default, as on a fresh boot, or `yes | head` would
   * never end by SIGPIPE. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  status_fd_set(fds->status);
  char ready = 0;
  if (read(fds->sync, &ready, 1) != 1 || ready != 'R') _exit(1); /* the monitor gave up */

  /* into the container's cgroups: every process it makes from now on is born inside */
  for (int i = 0; i < fds->ncgroup; i++) {
    double t = now_ms();
    if (cgroup_join(fds->cgroup[i]) < 0) FAIL("cgroup-join", errno, "write 0 to %s", fds->cgroup_file[i]);
    close(fds->cgroup[i]);
    status_step("child", "cgroup-join", now_ms() - t, NULL, fds->cgroup_file[i], "0");
  }
  if (s->ns_flags & CLONE_NEWCGROUP) {
    double t = now_ms();
    if (unshare(CLONE_NEWCGROUP) < 0) FAIL("cgroupns", errno, "unshare(CLONE_NEWCGROUP)");
    status_step("child", "cgroupns", now_ms() - t, "unshare(CLONE_NEWCGROUP): the cgroups joined above are its root", NULL, NULL);
  }

  bool userns = s->ns_flags & CLONE_NEWUSER;
  if (userns) {
    /* uid 0 inside is mapped now: become it, so that we hold the capabilities of this namespace */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) FAIL("user", errno, "setresuid(0) in the new user namespace");
  }
  double t = now_ms();
  if (s->hostname && (s->ns_flags & CLONE_NEWUTS)) {
    if (sethostname(s->hostname, strlen(s->hostname)) < 0) FAIL("hostname", errno, "sethostname(%s)", s->hostname);
    char call[400];
    snprintf(call, sizeof(call), "sethostname(\"%s\")", s->hostname);
    status_step("child", "hostname", now_ms() - t, call, NULL, NULL);
  }

  if (s->ns_flags & CLONE_NEWNET) loopback_up();

  /* A shim stays in the host's mount namespace and root: the runtime it execs (runc, runsc,
   * linux) makes the container's mounts itself, from config.json */
  if (!s->shim) setup_root(s, userns);

  /* stdio */
  int pty_master = -1;
  if (s->terminal) {
    pty_master = setup_terminal();
  } else {
    setsid();
    int in = fds->in_r >= 0 ? fds->in_r : open("/dev/null", O_RDONLY);
    if (in < 0) FAIL("stdio", errno, "open /dev/null");
    dup2(in, 0);
    dup2(fds->out_w, 1);
    dup2(fds->err_w, 2);
    if (in > 2) close(in);
  }
  if (fds->out_w > 2) close(fds->out_w);
  if (fds->err_w > 2) close(fds->err_w);
  if (fds->in_r > 2) close(fds->in_r);
  if (chdir(s->cwd) < 0) FAIL("cwd", errno, "chdir %s", s->cwd);

  barrier(pty_master);

  /* Nothing above 2 crosses the execve: the exec-fail pipe and the status channel are already
   * close-on-exec, and so is anything opened by mistake. Done before the credentials, since the
   * container's seccomp filter may refuse close_range; nothing is opened after this. */
  double tf = now_ms();
  fds_cloexec_from(3);
  status_step("child", "close-fds", now_ms() - tf, "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)", NULL, NULL);

  char err[2800];
  if (apply_credentials(s, err, sizeof(err), "child") < 0) fail_line(err);

  char path[4096];
  if (!find_in_path(s->args[0], s->env, s->nenv, path, sizeof(path)))
    FAIL("exec", ENOENT, "exec: \"%s\": executable file not found in $PATH", s->args[0]);

  if (s->init) {
    /* block every signal before the fork, so none arrives between fork and the wait loop */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    pid_t child = fork();
    if (child < 0) FAIL("init", errno, "fork the command under gb-init");
    if (child == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, NULL);
      execve(path, s->args, s->env);
      FAIL("exec", errno, "exec %s", path);
    }
    /* PID 1 keeps no fds of the monitor (the container can open /proc/1/fd/N: the log file was
     * one of them): only stdio. The exec-fail pipe reaches EOF when the command execs. */
    fds_close_from(3);
    init_loop(child);
  }
  status_fd_set(-1);
  execve(path, s->args, s->env);
  FAIL("exec", errno, "exec %s", path);
}
