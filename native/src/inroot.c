/*
 * Paths inside the container's root, resolved *inside* that root.
 *
 * Before pivot_root the helper still sees the host's tree. Joining "/etc/hosts" onto the rootfs
 * path as a string and calling open()/mount() would follow the image's symlinks on the host: an
 * image whose /etc/hosts is a symlink to /etc/shadow would get the host's file mounted over. So
 * every path is looked up with openat2(rootfd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
 * the kernel treats rootfd as "/" for the whole walk, so "/x" and ".." in a symlink stop at the
 * container's root, and /proc/self/... style magic links are refused. Every lookup returns an
 * O_PATH descriptor (it never opens the file itself, so a FIFO cannot block us), and the mount is
 * made onto "/proc/self/fd/N": the kernel mounts onto exactly the inode we checked, whatever
 * happens to the names meanwhile. This is what runc and crun do.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define MAX_HOPS 40 /* the kernel's own limit on symlinks in one lookup */

int inroot_lookup(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_PATH | O_CLOEXEC), .resolve = RESOLVE_FLAGS};
  /* "" would name rootfd itself only with AT_EMPTY_PATH: "/" says the same inside the root */
  const char *p = path[0] ? path : "/";
  /* EAGAIN: a rename elsewhere raced a ".." of this walk; the kernel would rather we look again */
  for (int tries = 0;; tries++) {
    int fd = (int)syscall(SYS_openat2, rootfd, p, &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN || tries == 16) return fd;
  }
}

const char *fd_path(int fd, char *buf, size_t len) {
  snprintf(buf, len, "/proc/self/fd/%d", fd);
  return buf;
}

static const char *kind_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISREG(m)) return "a regular file";
  if (S_ISLNK(m)) return "a symlink";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  return "an unknown kind of file";
}

/* The descriptor is what we want, or it is closed and we say what it is instead. */
static int check_kind(int fd, const char *path, int want, char *why, size_t whylen) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    snprintf(why, whylen, "stat %s", path);
    errno = e;
    return -1;
  }
  bool ok = want == INROOT_DIR ? S_ISDIR(st.st_mode) : want == INROOT_FILE ? S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode);
  if (ok) return fd;
  close(fd);
  if (S_ISLNK(st.st_mode)) { /* INROOT_NOFOLLOW_LAST: O_PATH|O_NOFOLLOW gave us the symlink itself */
    snprintf(why, whylen, "%s in the container is a symlink: it must be an ordinary directory", path);
    errno = ELOOP;
    return -1;
  }
  snprintf(why, whylen, "%s in the container is %s, not %s", path, kind_name(st.st_mode),
           want == INROOT_DIR ? "a directory" : want == INROOT_FILE ? "a regular file" : "a file");
  errno = want == INROOT_DIR ? ENOTDIR : EINVAL;
  return -1;
}

/*
 * Resolve `path` inside rootfd, creating what is missing: parent directories one component at a
 * time (mkdirat on the resolved parent), and the last component as a directory or an empty
 * regular file (O_EXCL|O_NOFOLLOW: we create a new file or nothing). A dangling symlink on the way
 * is followed by hand (its target is put in its place and the lookup starts again, still inside
 * the root), so "/etc/hosts -> ../../../tmp/x/hosts" creates /tmp/x/hosts inside the container.
 * With INROOT_NOFOLLOW_LAST the last component must not be a symlink at all (for /proc, /sys: a
 * kernel filesystem is mounted on an ordinary directory, as runc insists).
 * Returns an O_PATH descriptor of what is there now, or -1 with errno set and `why` saying what.
 */
int inroot_prepare(int rootfd, const char *path, int want, int opts, char *why, size_t whylen) {
  char cur[4096];
  snprintf(cur, sizeof(cur), "%s", path);
  snprintf(why, whylen, "resolve %s in the container", path);
  for (int hop = 0; hop < MAX_HOPS; hop++) {
    /* the common case: everything is there */
    int fd = inroot_lookup(rootfd, cur, (opts & INROOT_NOFOLLOW_LAST) ? O_NOFOLLOW : 0);
    if (fd >= 0) return check_kind(fd, path, want, why, whylen);
    if (errno == ELOOP && (opts & INROOT_NOFOLLOW_LAST)) {
      snprintf(why, whylen, "%s in the container is a symlink: it must be an ordinary directory", path);
      return -1;
    }
    if (errno != ENOENT) return -1;

    /* walk the components: the first one that is missing is created (or, if it is a dangling
     * symlink, replaced by its target in the path and the walk starts again) */
    int parent = inroot_lookup(rootfd, "/", O_DIRECTORY);
    if (parent < 0) return -1;
    char prefix[4096] = "";
    size_t plen = 0;
    const char *p = cur;
    bool restarted = false;
    while (*p) {
      while (*p == '/') p++;
      if (!*p) break;
      const char *end = strchr(p, '/');
      size_t n = end ? (size_t)(end - p) : strlen(p);
      while (end && *end == '/') end++;
      bool last = !end || !*end;
      char comp[256];
      if (n >= sizeof(comp) || plen + n + 2 >= sizeof(prefix)) {
        close(parent);
        errno = ENAMETOOLONG;
        return -1;
      }
      memcpy(comp, p, n);
      comp[n] = 0;
      prefix[plen++] = '/';
      memcpy(prefix + plen, comp, n + 1);
      plen += n;

      int flags = last ? ((opts & INROOT_NOFOLLOW_LAST) ? O_NOFOLLOW : 0) : O_DIRECTORY;
      fd = inroot_lookup(rootfd, prefix, flags);
      if (fd < 0 && errno == ENOENT) {
        struct stat st;
        if (fstatat(parent, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
          /* dangling: follow it by hand. The new path is only a string: the next lookup still
           * resolves it inside the root, so a target of "/../../etc" is the container's /etc. */
          char target[4096], next[4096];
          ssize_t tl = readlinkat(parent, comp, target, sizeof(target) - 1);
          if (tl < 0) break;
          target[tl] = 0;
          prefix[plen - n - 1] = 0; /* the directory that holds the symlink */
          const char *rest = last ? "" : end, *sep = last ? "" : "/";
          int w = target[0] == '/' ? snprintf(next, sizeof(next), "%s%s%s", target, sep, rest)
                                   : snprintf(next, sizeof(next), "%s/%s%s%s", prefix, target, sep, rest);
          if (w < 0 || (size_t)w >= sizeof(next)) {
            close(parent);
            errno = ENAMETOOLONG;
            return -1;
          }
          snprintf(cur, sizeof(cur), "%s", next);
          restarted = true;
          break;
        }
        /* missing: make it, in the directory we hold (never through a name) */
        if (!last || want == INROOT_DIR) {
          if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST) {
            snprintf(why, whylen, "mkdir %s in the container", prefix);
            close(parent);
            return -1;
          }
        } else {
          int f = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
          if (f < 0) {
            snprintf(why, whylen, "create %s in the container", prefix);
            close(parent);
            return -1;
          }
          close(f);
        }
        fd = openat(parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
      }
      if (fd < 0) {
        int e = errno;
        if (e == ENOTDIR) snprintf(why, whylen, "%s in the container is not a directory", prefix);
        else if (e == ELOOP && last && (opts & INROOT_NOFOLLOW_LAST))
          snprintf(why, whylen, "%s in the container is a symlink: it must be an ordinary directory", path);
        close(parent);
        errno = e;
        return -1;
      }
      close(parent);
      parent = fd;
      if (last) return check_kind(parent, path, want, why, whylen);
      p = end;
    }
    if (!restarted) {
      /* only "/" was asked for, or readlinkat failed */
      if (!*p) return check_kind(parent, path, want, why, whylen);
      close(parent);
      return -1;
    }
    close(parent);
  }
  snprintf(why, whylen, "resolve %s in the container: too many symlinks", path);
  errno = ELOOP;
  return -1;
}

/* The directory that will hold `path`'s last component (created if missing), and that name. */
int inroot_parent(int rootfd, const char *path, char *name, size_t namelen, char *why, size_t whylen) {
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s", path);
  size_t l = strlen(dir);
  while (l > 1 && dir[l - 1] == '/') dir[--l] = 0;
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : dir;
  if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
    snprintf(why, whylen, "%s: not a name in a directory", path);
    errno = EINVAL;
    return -1;
  }
  snprintf(name, namelen, "%s", base);
  if (slash) *slash = 0;
  else dir[0] = 0;
  return inroot_prepare(rootfd, dir[0] ? dir : "/", INROOT_DIR, 0, why, whylen);
}
