/*
 * gb-helper: the container side of the OCI runtime spec, driven by the Glassbox engine.
 * See native/PROTOCOL.md for the spec format, the status channel and the monitor socket.
 */
#ifndef GB_HELPER_H
#define GB_HELPER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define GB_VERSION "gb-helper 0.1.0"

#define MAX_CGROUPS 16 /* v1: one cgroup.procs per hierarchy */

struct mapping { unsigned long inside, outside, count; };
struct mountspec { char *type, *source, *dest, *data; unsigned long flags; };
struct devspec { char *path; char type; unsigned major, minor; unsigned mode; long uid, gid; /* -1: leave as made */ };
struct rlimspec { int resource; unsigned long long soft, hard; };
struct joinspec { int nstype; char *path; };

/* Everything the engine decided, read from the spec file. */
struct spec {
  int ns_flags;               /* CLONE_NEW* to create (time is separate: see timens) */
  bool ns_time;
  struct joinspec joins[8]; int njoins;
  struct mapping uidmap[32], gidmap[32]; int nuid, ngid;
  char *setgroups;            /* "allow" | "deny" | NULL */
  long long mono_offset, boot_offset;
  char **cgroups; int ncgroups;
  int oom_score_adj; bool has_oom_score_adj;
  char *rootfs;
  bool chroot_mode, readonly_root;
  struct mountspec *mounts; int nmounts;
  struct devspec *devices; int ndevices;
  char **symlink_targets, **symlink_paths; int nsymlinks;
  char **masked; int nmasked;
  char **readonly; int nreadonly;
  char *hostname;
  struct rlimspec rlimits[16]; int nrlimits;
  bool has_caps;
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  bool no_new_privs;
  char *seccomp;
  void *seccomp_filter; size_t seccomp_len;  /* read at start: after pivot_root the path is gone */
  uid_t uid; gid_t gid; gid_t groups[64]; int ngroups;
  char *cwd;
  char **env; int nenv;
  char **args; int nargs;
  bool terminal, stdin_open, init, create_barrier;
  bool shim;                  /* `shim 1`: the child execs a runtime (runc run ...) on the host: no rootfs, no mounts, no namespaces but net */
  char *state_dir, *log;
  unsigned long root_propagation; /* `root_propagation`: MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE for / after pivot_root (0: leave it) */
  long stdio_from;            /* `stdio_from PID`: init's 0, 1, 2 are that process's (pidfd_getfd), not pipes (0: pipes) */
  long long log_max_size;     /* bytes; 0 = never rotate */
  int log_max_files;          /* files kept, the current one included */
  char **monitor_cgroups; int nmonitor_cgroups; /* where the monitor itself is charged */
  pid_t target_pid; char *target_start;
};

/* spec.c */
int spec_load(const char *path, struct spec *s, char *err, size_t errlen);

/* status.c: the JSON status channel (stdout) and error reporting */
double now_ms(void);
void json_escape(char *out, size_t outlen, const char *in, size_t inlen);
void status_fd_set(int fd);
void status_step(const char *by, const char *step, double ms, const char *call, const char *file, const char *wrote);
void status_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Format one error line: {"error":"<what>: <strerror>","step":"<step>","errno":"<NAME>"} */
void format_error(char *out, size_t outlen, const char *step, int err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
const char *errno_name(int err);
/* exec mode's error channel: the STATUS file of `gb-helper exec SPEC STATUS`, opened before setns
 * (its path means nothing inside the container). Without it, errors are plain lines on stderr. */
int exec_status_open(const char *path);
void exec_status_json(const char *json_line);
void exec_error(const char *step, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* child.c: the container side, run in the cloned child; never returns */
struct child_fds {
  int sync;        /* socketpair end: 'R' release, 'C' created (+pty fd), 'S' start */
  int errpipe;     /* write end, O_CLOEXEC: an error line, or EOF at a successful execve */
  int status;      /* a dup of the status channel, O_CLOEXEC */
  int out_w, err_w, in_r;  /* stdio pipes when there is no terminal (-1 when unused) */
  /* opened by the monitor before the clone: the child moves itself in (cgroup_join) */
  int cgroup[MAX_CGROUPS]; char cgroup_file[MAX_CGROUPS][4096]; int ncgroup;
};
void child_main(struct spec *s, struct child_fds *fds) __attribute__((noreturn));

/* creds.c: credentials, capabilities, no_new_privs, seccomp (shared by run and exec) */
int apply_credentials(struct spec *s, char *err, size_t errlen, const char *by);
int read_seccomp(struct spec *s, char *err, size_t errlen);
int load_seccomp(struct spec *s, char *err, size_t errlen);
char *find_in_path(const char *file, char **env, int nenv, char *buf, size_t buflen);

/* monitor.c and exec.c */
int run_main(struct spec *s);
int exec_main(struct spec *s);

/* init.c: the tiny PID 1 */
void init_loop(pid_t child) __attribute__((noreturn));

/* inroot.c: paths inside the container's root, resolved inside it (openat2 RESOLVE_IN_ROOT) */
/* what the last component must be: INROOT_FILE a regular file, INROOT_NONDIR anything but a
 * directory (a device bind); missing ones are created as a directory or an empty regular file */
enum { INROOT_DIR = 1, INROOT_FILE = 2, INROOT_NONDIR = 3 };
#define INROOT_NOFOLLOW_LAST 1
int inroot_lookup(int rootfd, const char *path, int flags);
int inroot_prepare(int rootfd, const char *path, int want, int opts, char *why, size_t whylen);
int inroot_parent(int rootfd, const char *path, char *name, size_t namelen, char *why, size_t whylen);
const char *fd_path(int fd, char *buf, size_t len);

/* fds.c: descriptor hygiene (close what was inherited; nothing above 2 crosses an execve) */
int fds_close_from(int low);
int fds_cloexec_from(int low);

/* selfexe.c: run from a sealed memfd copy of the helper, never from the host's file */
bool selfexe_is_sealed(int fd);
int selfexe_ensure_sealed(char **argv, char *err, size_t errlen);

/* small helpers (util.c) */
int write_file(const char *path, const char *data);
int cgroup_join_open(const char *procs, char *used, size_t usedlen);
int cgroup_join(int fd);
int mkdir_p(const char *path, mode_t mode);
char *path_join(char *buf, size_t len, const char *a, const char *b);
const char *signal_name(int sig);

#endif
