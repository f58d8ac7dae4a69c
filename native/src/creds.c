/*
 * The last steps before execve, shared by run and exec: who the process is (uid, gid, groups),
 * what it may do (capabilities: bounding, effective, permitted, inheritable, ambient), whether it
 * may ever gain more (no_new_privs), and which syscalls it may make (seccomp).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

static int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 40;
  char buf[16] = {0};
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  return n > 0 ? atoi(buf) : 40;
}

/* capset(2) with version 3: two 32-bit words for each of the three sets. */
static int set_caps(uint64_t eff, uint64_t prm, uint64_t inh) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t)eff;
  data[1].effective = (uint32_t)(eff >> 32);
  data[0].permitted = (uint32_t)prm;
  data[1].permitted = (uint32_t)(prm >> 32);
  data[0].inheritable = (uint32_t)inh;
  data[1].inheritable = (uint32_t)(inh >> 32);
  return (int)syscall(SYS_capset, &hdr, data);
}

/* Read the filter while the host's filesystem is still in view (before pivot_root or setns). */
int read_seccomp(struct spec *s, char *err, size_t errlen) {
  if (!s->seccomp) return 0;
  int fd = open(s->seccomp, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    format_error(err, errlen, "seccomp", errno, "open %s", s->seccomp);
    return -1;
  }
  struct stat st;
  fstat(fd, &st);
  if (st.st_size <= 0 || st.st_size % 8 || st.st_size > 8 * 4096) {
    close(fd);
    format_error(err, errlen, "seccomp", 0, "seccomp filter %s has a bad size (%lld bytes)", s->seccomp, (long long)st.st_size);
    return -1;
  }
  s->seccomp_filter = malloc((size_t)st.st_size);
  ssize_t n = read(fd, s->seccomp_filter, (size_t)st.st_size);
  close(fd);
  if (n != st.st_size) {
    format_error(err, errlen, "seccomp", errno, "read %s", s->seccomp);
    return -1;
  }
  s->seccomp_len = (size_t)st.st_size;
  return 0;
}

int load_seccomp(struct spec *s, char *err, size_t errlen) {
  struct sock_fprog prog = {.len = (unsigned short)(s->seccomp_len / 8), .filter = s->seccomp_filter};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
    format_error(err, errlen, "seccomp", errno, "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) with %u instructions", prog.len);
    return -1;
  }
  return 0;
}

/* Does our user namespace refuse setgroups(2)? (/proc/self/setgroups says "deny") */
static bool setgroups_denied(void) {
  char buf[16] = {0};
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  return n > 0 && !strncmp(buf, "deny", 4);
}

/*
 * Order matters:
 *  - the seccomp filter is loaded before the capabilities go when no_new_privs is off, since
 *    loading it then needs CAP_SYS_ADMIN (runc does the same); with no_new_privs it comes last;
 *  - the bounding set is dropped while we still hold CAP_SETPCAP;
 *  - PR_SET_KEEPCAPS keeps the permitted set across setresuid to a non-root uid;
 *  - capset, then ambient capabilities (which need the bits in permitted and inheritable).
 */
int apply_credentials(struct spec *s, char *err, size_t errlen, const char *by) {
  double t = now_ms();
  if (s->seccomp && !s->no_new_privs) {
    if (load_seccomp(s, err, errlen) < 0) return -1;
    status_step(by, "seccomp", now_ms() - t, "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)", s->seccomp, NULL);
    t = now_ms();
  }
  if (s->has_caps) {
    int last = last_cap();
    /* No process can hold a capability outside its own bounding set: a privileged container gets
     * every capability the helper itself has (this machine's root may lack some, as here). */
    uint64_t have = 0;
    for (int c = 0; c <= last; c++)
      if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) have |= 1ULL << c;
    s->cap_bounding &= have;
    s->cap_effective &= have;
    s->cap_permitted &= have;
    s->cap_inheritable &= have;
    s->cap_ambient &= have;
    for (int c = 0; c <= last; c++) {
      if (s->cap_bounding & (1ULL << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
        format_error(err, errlen, "capabilities", errno, "prctl(PR_CAPBSET_DROP, %d)", c);
        return -1;
      }
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
      format_error(err, errlen, "capabilities", errno, "prctl(PR_SET_KEEPCAPS)");
      return -1;
    }
  }
  /* A failed setgroups would leave the process in the helper's own supplementary groups (the
   * host root's): an error, unless this user namespace forbids setgroups ("deny") and no group
   * was asked for, where there is nothing to change. */
  if (setgroups((size_t)s->ngroups, s->groups) < 0 && !(errno == EPERM && s->ngroups == 0 && setgroups_denied())) {
    format_error(err, errlen, "user", errno, "setgroups(%d groups)", s->ngroups);
    return -1;
  }
  if (setresgid(s->gid, s->gid, s->gid) < 0) {
    format_error(err, errlen, "user", errno, "setresgid(%u)", s->gid);
    return -1;
  }
  if (setresuid(s->uid, s->uid, s->uid) < 0) {
    format_error(err, errlen, "user", errno, "setresuid(%u)", s->uid);
    return -1;
  }
  char call[160];
  snprintf(call, sizeof(call), "setgroups(%d), setresgid(%u), setresuid(%u)", s->ngroups, s->gid, s->uid);
  status_step(by, "user", now_ms() - t, call, NULL, NULL);
  t = now_ms();
  if (s->has_caps) {
    if (set_caps(s->cap_effective, s->cap_permitted, s->cap_inheritable) < 0) {
      format_error(err, errlen, "capabilities", errno, "capset(effective=%016llx permitted=%016llx)",
                   (unsigned long long)s->cap_effective, (unsigned long long)s->cap_permitted);
      return -1;
    }
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    for (int c = 0; c <= 63; c++) {
      if (!(s->cap_ambient & (1ULL << c))) continue;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
        format_error(err, errlen, "capabilities", errno, "prctl(PR_CAP_AMBIENT_RAISE, %d)", c);
        return -1;
      }
    }
    snprintf(call, sizeof(call), "capset(effective=%016llx), PR_CAPBSET_DROP of every capability outside %016llx",
             (unsigned long long)s->cap_effective, (unsigned long long)s->cap_bounding);
    status_step(by, "capabilities", now_ms() - t, call, NULL, NULL);
    t = now_ms();
  }
  if (s->no_new_privs) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
      format_error(err, errlen, "no_new_privs", errno, "prctl(PR_SET_NO_NEW_PRIVS)");
      return -1;
    }
    status_step(by, "no_new_privs", now_ms() - t, "prctl(PR_SET_NO_NEW_PRIVS, 1)", NULL, NULL);
    t = now_ms();
    if (s->seccomp) {
      if (load_seccomp(s, err, errlen) < 0) return -1;
      status_step(by, "seccomp", now_ms() - t, "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)", s->seccomp, NULL);
    }
  }
  return 0;
}

/* execvp's lookup, but in the container's PATH (from the spec's env), not the helper's. */
char *find_in_path(const char *file, char **env, int nenv, char *buf, size_t buflen) {
  if (strchr(file, '/')) {
    snprintf(buf, buflen, "%s", file);
    return buf;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (int i = 0; i < nenv; i++)
    if (!strncmp(env[i], "PATH=", 5)) path = env[i] + 5;
  char *copy = strdup(path);
  char *found = NULL;
  for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    snprintf(buf, buflen, "%s/%s", *dir ? dir : ".", file);
    if (access(buf, X_OK) == 0) {
      found = buf;
      break;
    }
  }
  free(copy);
  if (!found) snprintf(buf, buflen, "%s", file);
  return found;
}
