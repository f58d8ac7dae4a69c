/*
 * The status channel: one JSON object a line on the monitor's stdout, read by the engine to
 * build the creation timeline. Lines are short (< PIPE_BUF) so writes from the monitor and the
 * child never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

static int status_fd = 1;

void status_fd_set(int fd) { status_fd = fd; }

double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void json_escape(char *out, size_t outlen, const char *in, size_t inlen) {
  size_t o = 0;
  for (size_t i = 0; i < inlen && o + 7 < outlen; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c == '\n') {
      out[o++] = '\\'; out[o++] = 'n';
    } else if (c == '\r') {
      out[o++] = '\\'; out[o++] = 'r';
    } else if (c == '\t') {
      out[o++] = '\\'; out[o++] = 't';
    } else if (c < 0x20 || c == 0x7f) {
      o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = 0;
}

static void put(const char *buf, size_t len) {
  /* EPIPE when the engine went away: the container goes on without its audience. */
  ssize_t w = write(status_fd, buf, len);
  (void)w;
}

void status_line(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof(buf) - 2) n = (int)sizeof(buf) - 2;
  buf[n++] = '\n';
  put(buf, (size_t)n);
}

void status_step(const char *by, const char *step, double ms, const char *call, const char *file, const char *wrote) {
  char c[1200] = "", f[600] = "", w[600] = "";
  if (call) json_escape(c, sizeof(c), call, strlen(call));
  if (file) json_escape(f, sizeof(f), file, strlen(file));
  if (wrote) json_escape(w, sizeof(w), wrote, strlen(wrote));
  status_line("{\"step\":\"%s\",\"by\":\"%s\",\"ms\":%.3f%s%s%s%s%s%s%s%s%s}", step, by, ms,
              call ? ",\"call\":\"" : "", call ? c : "", call ? "\"" : "",
              file ? ",\"file\":\"" : "", file ? f : "", file ? "\"" : "",
              wrote ? ",\"wrote\":\"" : "", wrote ? w : "", wrote ? "\"" : "");
}

const char *errno_name(int err) {
  const char *n = strerrorname_np(err);
  return n ? n : "EUNKNOWN";
}

void format_error(char *out, size_t outlen, const char *step, int err, const char *fmt, ...) {
  char what[1024], msg[1300], esc[2700];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  if (err) snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
  else snprintf(msg, sizeof(msg), "%s", what);
  json_escape(esc, sizeof(esc), msg, strlen(msg));
  if (err) snprintf(out, outlen, "{\"error\":\"%s\",\"step\":\"%s\",\"errno\":\"%s\"}", esc, step, errno_name(err));
  else snprintf(out, outlen, "{\"error\":\"%s\",\"step\":\"%s\"}", esc, step);
}

static int exec_status = -1;

int exec_status_open(const char *path) {
  /* O_NOFOLLOW: the engine made the directory; a link there is not ours to follow */
  exec_status = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  return exec_status < 0 ? -1 : 0;
}

void exec_status_json(const char *json_line) {
  if (exec_status < 0) {
    fprintf(stderr, "gb-helper exec: %s\n", json_line);
    return;
  }
  size_t n = strlen(json_line);
  char buf[4096];
  if (n > sizeof(buf) - 2) n = sizeof(buf) - 2;
  memcpy(buf, json_line, n);
  buf[n++] = '\n';
  ssize_t w = write(exec_status, buf, n);
  (void)w;
}

void exec_error(const char *step, int err, const char *fmt, ...) {
  char what[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  if (exec_status < 0) {
    if (err) fprintf(stderr, "gb-helper exec: %s: %s: %s (%s)\n", step, what, strerror(err), errno_name(err));
    else fprintf(stderr, "gb-helper exec: %s: %s\n", step, what);
    return;
  }
  char line[4096];
  format_error(line, sizeof(line), step, err, "%s", what);
  exec_status_json(line);
}
