/*
 * gb-init, the tiny PID 1 (--init). A process that is PID 1 of a pid namespace gets no signal
 * it has no handler for (so `docker stop` would wait for SIGKILL), and it inherits every orphan,
 * which become zombies unless someone waits for them. gb-init does both jobs: it forwards
 * signals to the command and reaps every child, then exits with the command's status.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

void init_loop(pid_t child) {
  prctl(PR_SET_NAME, "gb-init", 0, 0, 0);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL); /* already blocked before the fork; kept for clarity */
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (sig != SIGCHLD) {
      /* SIGSTOP/SIGKILL never get here; the rest goes to the command */
      kill(child, sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t p = waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p != child) continue; /* a reaped orphan: that is the point */
      if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
      /* killed by a signal: exit as a shell would report it */
      _exit(128 + WTERMSIG(status));
    }
  }
}
