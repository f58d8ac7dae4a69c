/* gb-helper run SPEC | exec SPEC | version — see native/PROTOCOL.md */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "helper.h"

/* run mode reports errors as a JSON status line on stdout; exec mode writes the same line to its
 * STATUS file (plain text on stderr when it was started without one) */
static int spec_error(bool run, const char *json_line, const char *plain) {
  if (run) {
    if (json_line) {
      puts(json_line);
    } else {
      char line[4096], esc[3000];
      json_escape(esc, sizeof(esc), plain, strlen(plain));
      snprintf(line, sizeof(line), "{\"error\":\"%s\",\"step\":\"spec\"}", esc);
      puts(line);
    }
    return 1;
  }
  if (json_line) exec_status_json(json_line);
  else exec_error("spec", 0, "%s", plain);
  return 127;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "version")) {
    puts(GB_VERSION);
    return 0;
  }
  bool exec_mode = argc >= 2 && !strcmp(argv[1], "exec");
  if (!((argc == 3 && !strcmp(argv[1], "run")) || (exec_mode && (argc == 3 || argc == 4)))) {
    fprintf(stderr, "usage: gb-helper run SPEC | gb-helper exec SPEC [STATUS] | gb-helper version\n");
    return 2;
  }
  bool run = !strcmp(argv[1], "run");
  static struct spec s;
  char err[3000];
  /* Nothing the caller left open reaches the container, or stays in the monitor: stdio only.
   * (The engine passes everything by path; a pty master of another terminal must not get here.) */
  fds_close_from(3);
  if (exec_mode && argc == 4 && exec_status_open(argv[3]) < 0) {
    fprintf(stderr, "gb-helper exec: status: open %s: %s (%s)\n", argv[3], strerror(errno), errno_name(errno));
    return 127;
  }
  /* From here on this process runs a sealed in-memory copy of the helper (see selfexe.c) */
  if (selfexe_ensure_sealed(argv, err, sizeof(err)) < 0) return spec_error(run, err, NULL);
  prctl(PR_SET_NAME, "gb-helper", 0, 0, 0); /* not the memfd's descriptor number */
  if (spec_load(argv[2], &s, err, sizeof(err)) < 0) return spec_error(run, NULL, err);
  if (read_seccomp(&s, err, sizeof(err)) < 0) return spec_error(run, err, NULL);
  return run ? run_main(&s) : exec_main(&s);
}
