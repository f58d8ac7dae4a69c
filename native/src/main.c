/* gb-helper run SPEC | exec SPEC | version — see native/PROTOCOL.md */
#include <stdio.h>
#include <string.h>

#include "helper.h"

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "version")) {
    puts(GB_VERSION);
    return 0;
  }
  if (argc != 3 || (strcmp(argv[1], "run") && strcmp(argv[1], "exec"))) {
    fprintf(stderr, "usage: gb-helper run SPEC | gb-helper exec SPEC | gb-helper version\n");
    return 2;
  }
  static struct spec s;
  char err[1024];
  if (spec_load(argv[2], &s, err, sizeof(err)) < 0) {
    if (!strcmp(argv[1], "run")) {
      char line[2048], esc[1100];
      json_escape(esc, sizeof(esc), err, strlen(err));
      snprintf(line, sizeof(line), "{\"error\":\"%s\",\"step\":\"spec\"}", esc);
      puts(line);
    } else {
      fprintf(stderr, "gb-helper exec: spec: %s\n", err);
    }
    return !strcmp(argv[1], "run") ? 1 : 127;
  }
  return !strcmp(argv[1], "run") ? run_main(&s) : exec_main(&s);
}
