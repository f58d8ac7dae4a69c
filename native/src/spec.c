/*
 * Reading the helper spec: one directive a line, fields split on single spaces, each field
 * percent-decoded (so an argument may hold spaces and newlines). See native/PROTOCOL.md.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "helper.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode in place; returns the field. */
static char *decode(char *f) {
  char *o = f;
  for (char *i = f; *i; i++) {
    if (*i == '%' && hexval(i[1]) >= 0 && hexval(i[2]) >= 0) {
      *o++ = (char)(hexval(i[1]) * 16 + hexval(i[2]));
      i += 2;
    } else {
      *o++ = *i;
    }
  }
  *o = 0;
  return f;
}

/* Append v to a NULL-terminated array; -1 (errno ENOMEM) when memory runs out. */
static int push(char ***arr, int *n, char *v) {
  char **grown = realloc(*arr, sizeof(char *) * (size_t)(*n + 2));
  if (!grown) return -1;
  *arr = grown;
  (*arr)[(*n)++] = v;
  (*arr)[*n] = NULL;
  return 0;
}

/* One more element for an array of structs: the new element, or NULL when memory runs out. */
static void *grow(void *arrp, int *n, size_t size) {
  void **arr = arrp;
  void *grown = realloc(*arr, size * (size_t)(*n + 1));
  if (!grown) return NULL;
  *arr = grown;
  memset((char *)grown + size * (size_t)*n, 0, size);
  return (char *)grown + size * (size_t)(*n)++;
}

#define MAX_FIELDS 80  /* a line with more is refused, not cut short */
#define MAX_GROUPS 64  /* = sizeof(spec.groups): more additional gids are refused */

static int ns_flag(const char *name) {
  if (!strcmp(name, "pid")) return CLONE_NEWPID;
  if (!strcmp(name, "mnt")) return CLONE_NEWNS;
  if (!strcmp(name, "net")) return CLONE_NEWNET;
  if (!strcmp(name, "uts")) return CLONE_NEWUTS;
  if (!strcmp(name, "ipc")) return CLONE_NEWIPC;
  if (!strcmp(name, "user")) return CLONE_NEWUSER;
  if (!strcmp(name, "cgroup")) return CLONE_NEWCGROUP;
  if (!strcmp(name, "time")) return CLONE_NEWTIME;
  return 0;
}

static int rlimit_resource(const char *name) {
  static const struct { const char *n; int r; } table[] = {
    {"CPU", RLIMIT_CPU}, {"FSIZE", RLIMIT_FSIZE}, {"DATA", RLIMIT_DATA}, {"STACK", RLIMIT_STACK},
    {"CORE", RLIMIT_CORE}, {"RSS", RLIMIT_RSS}, {"NPROC", RLIMIT_NPROC}, {"NOFILE", RLIMIT_NOFILE},
    {"MEMLOCK", RLIMIT_MEMLOCK}, {"AS", RLIMIT_AS}, {"LOCKS", RLIMIT_LOCKS}, {"SIGPENDING", RLIMIT_SIGPENDING},
    {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE}, {"RTPRIO", RLIMIT_RTPRIO}, {"RTTIME", RLIMIT_RTTIME},
  };
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (!strcmp(name, table[i].n)) return table[i].r;
  return -1;
}

static unsigned long long rlim_value(const char *v) {
  return strcmp(v, "unlimited") == 0 ? RLIM_INFINITY : strtoull(v, NULL, 10);
}

int spec_load(const char *path, struct spec *s, char *err, size_t errlen) {
  memset(s, 0, sizeof(*s));
  s->uid = 0;
  s->gid = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "open spec %s: %s", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int lineno = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
    if (len == 0 || line[0] == '#') continue;
    /* split on spaces; keep the fields (strdup'ed line lives for the whole run) */
    char *copy = strdup(line);
    if (!copy) { snprintf(err, errlen, "spec line %d: out of memory", lineno); goto bad; }
    char *fields[MAX_FIELDS];
    int nf = 0;
    bool too_many = false;
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      if (nf == MAX_FIELDS) { too_many = true; break; }
      fields[nf++] = decode(tok);
    }
    if (nf == 0) continue;
    if (too_many) {
      snprintf(err, errlen, "spec line %d: %s has more than %d fields", lineno, fields[0], MAX_FIELDS - 1);
      goto bad;
    }
    const char *k = fields[0];
    int n = nf - 1;
    char **v = fields + 1;
#define NEED(c)                                                                     \
  if (n < (c)) {                                                                    \
    snprintf(err, errlen, "spec line %d: %s needs %d field(s)", lineno, k, (c));    \
    goto bad;                                                                       \
  }
    if (!strcmp(k, "namespaces")) {
      for (int i = 0; i < n; i++) {
        int fl = ns_flag(v[i]);
        if (!fl) { snprintf(err, errlen, "spec line %d: unknown namespace %s", lineno, v[i]); goto bad; }
        if (fl == CLONE_NEWTIME) s->ns_time = true; else s->ns_flags |= fl;
      }
    } else if (!strcmp(k, "join")) {
      NEED(2);
      int fl = ns_flag(v[0]);
      if (!fl || fl == CLONE_NEWUSER || fl == CLONE_NEWNS || s->njoins >= 8) { snprintf(err, errlen, "spec line %d: cannot join a %s namespace", lineno, v[0]); goto bad; }
      s->joins[s->njoins].nstype = fl;
      s->joins[s->njoins++].path = v[1];
    } else if (!strcmp(k, "uidmap") || !strcmp(k, "gidmap")) {
      NEED(3);
      bool uid = k[0] == 'u';
      int *cnt = uid ? &s->nuid : &s->ngid;
      struct mapping *m = uid ? s->uidmap : s->gidmap;
      if (*cnt >= 32) { snprintf(err, errlen, "spec line %d: too many mappings", lineno); goto bad; }
      m[*cnt].inside = strtoul(v[0], NULL, 10);
      m[*cnt].outside = strtoul(v[1], NULL, 10);
      m[*cnt].count = strtoul(v[2], NULL, 10);
      (*cnt)++;
    } else if (!strcmp(k, "setgroups")) {
      NEED(1); s->setgroups = v[0];
    } else if (!strcmp(k, "timens")) {
      NEED(2); s->mono_offset = strtoll(v[0], NULL, 10); s->boot_offset = strtoll(v[1], NULL, 10);
    } else if (!strcmp(k, "cgroup")) {
      NEED(1);
      if (s->ncgroups >= MAX_CGROUPS) { snprintf(err, errlen, "spec line %d: more than %d cgroups", lineno, MAX_CGROUPS); goto bad; }
      if (push(&s->cgroups, &s->ncgroups, v[0]) < 0) goto oom;
    } else if (!strcmp(k, "oom_score_adj")) {
      NEED(1); s->oom_score_adj = atoi(v[0]); s->has_oom_score_adj = true;
    } else if (!strcmp(k, "rootfs")) {
      NEED(1); s->rootfs = v[0];
    } else if (!strcmp(k, "root_mode")) {
      NEED(1); s->chroot_mode = strcmp(v[0], "chroot") == 0;
    } else if (!strcmp(k, "readonly_root")) {
      NEED(1); s->readonly_root = atoi(v[0]);
    } else if (!strcmp(k, "mount")) {
      NEED(5);
      struct mountspec *m = grow(&s->mounts, &s->nmounts, sizeof(*s->mounts));
      if (!m) goto oom;
      m->type = v[0]; m->source = v[1]; m->dest = v[2];
      m->flags = strtoul(v[3], NULL, 10);
      m->data = n >= 5 && strcmp(v[4], "-") ? v[4] : NULL;
    } else if (!strcmp(k, "device")) {
      NEED(5);
      struct devspec *d = grow(&s->devices, &s->ndevices, sizeof(*s->devices));
      if (!d) goto oom;
      d->path = v[0]; d->type = v[1][0];
      d->major = (unsigned)strtoul(v[2], NULL, 10); d->minor = (unsigned)strtoul(v[3], NULL, 10);
      d->mode = (unsigned)strtoul(v[4], NULL, 8);
      d->uid = n >= 7 ? strtol(v[5], NULL, 10) : -1; d->gid = n >= 7 ? strtol(v[6], NULL, 10) : -1;
    } else if (!strcmp(k, "symlink")) {
      NEED(2);
      int m = s->nsymlinks;
      if (push(&s->symlink_targets, &m, v[0]) < 0 || push(&s->symlink_paths, &s->nsymlinks, v[1]) < 0) goto oom;
    } else if (!strcmp(k, "masked")) {
      NEED(1); if (push(&s->masked, &s->nmasked, v[0]) < 0) goto oom;
    } else if (!strcmp(k, "readonly")) {
      NEED(1); if (push(&s->readonly, &s->nreadonly, v[0]) < 0) goto oom;
    } else if (!strcmp(k, "hostname")) {
      NEED(1); s->hostname = v[0];
    } else if (!strcmp(k, "rlimit")) {
      NEED(3);
      int r = rlimit_resource(v[0]);
      if (r < 0) { snprintf(err, errlen, "spec line %d: unknown rlimit %s", lineno, v[0]); goto bad; }
      if (s->nrlimits >= 16) { snprintf(err, errlen, "spec line %d: more than 16 rlimits", lineno); goto bad; }
      s->rlimits[s->nrlimits].resource = r;
      s->rlimits[s->nrlimits].soft = rlim_value(v[1]);
      s->rlimits[s->nrlimits++].hard = rlim_value(v[2]);
    } else if (!strcmp(k, "caps")) {
      NEED(5);
      s->has_caps = true;
      s->cap_bounding = strtoull(v[0], NULL, 16);
      s->cap_effective = strtoull(v[1], NULL, 16);
      s->cap_permitted = strtoull(v[2], NULL, 16);
      s->cap_inheritable = strtoull(v[3], NULL, 16);
      s->cap_ambient = strtoull(v[4], NULL, 16);
    } else if (!strcmp(k, "no_new_privs")) {
      NEED(1); s->no_new_privs = atoi(v[0]);
    } else if (!strcmp(k, "seccomp")) {
      NEED(1); s->seccomp = v[0];
    } else if (!strcmp(k, "user")) {
      NEED(2);
      s->uid = (uid_t)strtoul(v[0], NULL, 10);
      s->gid = (gid_t)strtoul(v[1], NULL, 10);
      if (n - 2 > MAX_GROUPS) {
        snprintf(err, errlen, "spec line %d: user has %d additional groups, at most %d are allowed", lineno, n - 2, MAX_GROUPS);
        goto bad;
      }
      for (int i = 2; i < n; i++) s->groups[s->ngroups++] = (gid_t)strtoul(v[i], NULL, 10);
    } else if (!strcmp(k, "cwd")) {
      NEED(1); s->cwd = v[0];
    } else if (!strcmp(k, "env")) {
      NEED(1); if (push(&s->env, &s->nenv, v[0]) < 0) goto oom;
    } else if (!strcmp(k, "arg")) {
      if (push(&s->args, &s->nargs, n >= 1 ? v[0] : copy + strlen(copy)) < 0) goto oom; /* "arg" alone: "" */
    } else if (!strcmp(k, "terminal")) {
      NEED(1); s->terminal = atoi(v[0]);
    } else if (!strcmp(k, "stdin")) {
      NEED(1); s->stdin_open = atoi(v[0]);
    } else if (!strcmp(k, "init")) {
      NEED(1); s->init = atoi(v[0]);
    } else if (!strcmp(k, "shim")) {
      NEED(1); s->shim = atoi(v[0]);
    } else if (!strcmp(k, "create_barrier")) {
      NEED(1); s->create_barrier = atoi(v[0]);
    } else if (!strcmp(k, "root_propagation")) {
      NEED(1);
      if (!strcmp(v[0], "shared")) s->root_propagation = MS_SHARED;
      else if (!strcmp(v[0], "slave")) s->root_propagation = MS_SLAVE;
      else if (!strcmp(v[0], "private")) s->root_propagation = MS_PRIVATE;
      else if (!strcmp(v[0], "unbindable")) s->root_propagation = MS_UNBINDABLE;
      else { snprintf(err, errlen, "spec line %d: root_propagation must be shared, slave, private or unbindable", lineno); goto bad; }
    } else if (!strcmp(k, "stdio_from")) {
      NEED(1); s->stdio_from = strtol(v[0], NULL, 10);
      if (s->stdio_from <= 0) { snprintf(err, errlen, "spec line %d: stdio_from needs a pid", lineno); goto bad; }
    } else if (!strcmp(k, "state_dir")) {
      NEED(1); s->state_dir = v[0];
    } else if (!strcmp(k, "log")) {
      NEED(1); s->log = v[0];
    } else if (!strcmp(k, "log_rotate")) {
      NEED(2); s->log_max_size = strtoll(v[0], NULL, 10); s->log_max_files = atoi(v[1]);
      if (s->log_max_size < 0 || s->log_max_files < 1 || s->log_max_files > 100) { snprintf(err, errlen, "spec line %d: log_rotate needs a size >= 0 and 1..100 files", lineno); goto bad; }
    } else if (!strcmp(k, "monitor_cgroup")) {
      NEED(1);
      if (s->nmonitor_cgroups >= MAX_CGROUPS) { snprintf(err, errlen, "spec line %d: more than %d monitor cgroups", lineno, MAX_CGROUPS); goto bad; }
      push(&s->monitor_cgroups, &s->nmonitor_cgroups, v[0]);
    } else if (!strcmp(k, "target_pid")) {
      NEED(1); s->target_pid = (pid_t)atoi(v[0]);
    } else if (!strcmp(k, "target_start")) {
      NEED(1); s->target_start = v[0];
    } else {
      snprintf(err, errlen, "spec line %d: unknown directive %s", lineno, k);
      goto bad;
    }
#undef NEED
  }
  free(line);
  fclose(f);
  if (s->nargs == 0) {
    snprintf(err, errlen, "spec %s: no command (arg lines)", path);
    return -1;
  }
  if (!s->cwd) s->cwd = "/";
  /* a shim runs another runtime on the host: it makes no namespace but the network one (which the
   * engine wires before start), mounts nothing and is no init; anything else is a mistake */
  if (s->shim && ((s->ns_flags & ~CLONE_NEWNET) || s->ns_time || s->njoins || s->rootfs || s->nmounts || s->ndevices || s->nsymlinks ||
                  s->nmasked || s->nreadonly || s->nuid || s->ngid || s->init || s->stdio_from)) {
    snprintf(err, errlen, "spec %s: a shim makes only a network namespace: no rootfs, mounts, maps, joins, init or stdio_from", path);
    return -1;
  }
  return 0;
oom:
  snprintf(err, errlen, "spec line %d: out of memory", lineno);
bad:
  free(line);
  fclose(f);
  return -1;
}
