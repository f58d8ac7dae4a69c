// The compiled seccomp filter against the real kernel, without the container helper: a tiny C
// program (compiled with `cc` at test time) loads the filter file exactly as gb-helper does
// (no_new_privs, then prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)), then tries syscalls and prints
// what happened. Every probe is harmless: a call that gets past the filter either does nothing
// lasting (unshare in a throwaway process, a clone whose child exits at once) or fails on its
// arguments (mount of a path that does not exist, reboot without the magic numbers).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCapabilities } from '../../server/engine/runtime/capabilities';
import { compileSeccomp, writeSeccompFile } from '../../server/engine/runtime/seccomp-bpf';
import { dockerDefaultProfile } from '../../server/engine/runtime/seccomp-profile';
import { requireHost } from '../helpers.js';

const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void report(const char *name, long r) {
  if (r < 0) printf("%s errno %d\n", name, errno);
  else printf("%s ok\n", name);
}

/* getpid through the i386 entry (int 0x80): a different audit arch */
static long ia32_getpid(void) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

/* run fn in a child; "ok" if it exited 0, else how it died */
static void in_child(const char *name, int (*fn)(void)) {
  pid_t pid = fork();
  if (pid == 0) _exit(fn());
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) printf("%s signal %d\n", name, WTERMSIG(st));
  else printf("%s exit %d\n", name, WEXITSTATUS(st));
}

static int ia32_probe(void) { return ia32_getpid() > 0 ? 0 : 1; }

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  in_child("ia32-before", ia32_probe);

  if (argv[1][0] != '-') {
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror("open filter"); return 3; }
    static struct sock_filter insns[4096];
    ssize_t n = read(fd, insns, sizeof insns);
    close(fd);
    if (n <= 0 || n % 8) { fprintf(stderr, "bad filter size %zd\n", n); return 3; }
    struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = insns };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) { perror("no_new_privs"); return 4; }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) { perror("seccomp"); return 5; }
    printf("loaded %u\n", prog.len);
  }

  report("getpid", getpid());
  report("unshare-uts", unshare(CLONE_NEWUTS));
  report("clone3", syscall(SYS_clone3, NULL, 0));
  report("mount", mount(NULL, "/nonexistent-glassbox-probe", NULL, MS_REMOUNT, NULL));
  report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
  report("bpf", syscall(SYS_bpf, 0xffff, NULL, 0));
  report("x32-getpid", syscall(0x40000000 | SYS_getpid));

  long s = socket(AF_INET, SOCK_DGRAM, 0);
  report("socket-inet", s);
  if (s >= 0) close((int)s);
  s = socket(AF_VSOCK, SOCK_STREAM, 0);
  report("socket-vsock", s);
  if (s >= 0) close((int)s);

  report("personality-query", personality(0xffffffff));
  report("personality-norandom", personality(ADDR_NO_RANDOMIZE));

  pid_t p = fork();
  if (p == 0) _exit(0);
  report("fork", p);
  if (p > 0) waitpid(p, NULL, 0);

  long c = syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L);
  if (c == 0) _exit(0);
  report("clone-newuser", c);
  if (c > 0) waitpid((pid_t)c, NULL, 0);

  in_child("ia32-after", ia32_probe);
  return 0;
}
`;

requireHost('seccomp-kernel test', { root: true, arch: 'x64', commands: ['cc'] });
describe('seccomp filter in the real kernel', () => {
  let dir = '';
  let probe = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'glassbox-seccomp-'));
    writeFileSync(join(dir, 'probe.c'), PROBE_C);
    probe = join(dir, 'probe');
    execFileSync('cc', ['-O1', '-o', probe, join(dir, 'probe.c')], { stdio: 'pipe' });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function run(filter: Buffer | null): Record<string, string> {
    let arg = '-';
    if (filter) {
      arg = join(dir, `filter-${Math.random().toString(36).slice(2)}.bpf`);
      writeSeccompFile(arg, filter);
    }
    const r = spawnSync(probe, [arg], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`probe exited ${r.status} (${r.signal}): ${r.stderr}\n${r.stdout}`);
    const out: Record<string, string> = {};
    for (const line of r.stdout.trim().split('\n')) {
      const i = line.indexOf(' ');
      out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  it('Docker\'s default filter: allows the everyday calls, refuses the rest with EPERM, clone3 with ENOSYS', () => {
    const filter = compileSeccomp(dockerDefaultProfile(), resolveCapabilities({}).names);
    const r = run(filter);
    expect(r.loaded).toBe(String(filter.length / 8));
    expect(r.getpid).toBe('ok');
    expect(r.fork).toBe('ok');
    expect(r['socket-inet']).toBe('ok');
    expect(r['personality-query']).toBe('ok');
    expect(r['unshare-uts']).toBe('errno 1');
    expect(r.clone3).toBe('errno 38');
    expect(r.mount).toBe('errno 1');
    expect(r.reboot).toBe('errno 1');
    expect(r.bpf).toBe('errno 1');
    expect(r['x32-getpid']).toBe('errno 1');
    expect(r['socket-vsock']).toBe('errno 1');
    expect(r['personality-norandom']).toBe('errno 1');
    expect(r['clone-newuser']).toBe('errno 1');
    // the i386 entry point: killed by the arch check (SIGSYS = 31), if this kernel has it at all
    if (r['ia32-before'] === 'exit 0') expect(r['ia32-after']).toBe('signal 31');
  });

  it('the same calls without a filter behave differently (so the answers above are the filter\'s)', () => {
    const r = run(null);
    expect(r.loaded).toBeUndefined();
    expect(r['unshare-uts']).toBe('ok');
    expect(r.clone3).not.toBe('errno 38');
    expect(r.mount).toBe('errno 2'); // ENOENT: got past permission checks to the path
    expect(r.reboot).toBe('errno 22'); // EINVAL: no magic numbers
    expect(r['x32-getpid']).not.toBe('errno 1');
    expect(r['personality-norandom']).toBe('ok');
  });

  it('with CAP_SYS_ADMIN in the set, namespace calls get through the filter', () => {
    const filter = compileSeccomp(dockerDefaultProfile(), resolveCapabilities({ capAdd: ['SYS_ADMIN'] }).names);
    const r = run(filter);
    expect(r.getpid).toBe('ok');
    expect(r['unshare-uts']).toBe('ok');
    expect(r.mount).toBe('errno 2');
    expect(r['clone-newuser']).toBe('ok');
    expect(r.clone3).not.toBe('errno 38');
    expect(r.bpf).not.toBe('errno 1'); // allowed by the filter: bpf() itself says EINVAL to a bad command
    expect(r.reboot).toBe('errno 1'); // still needs CAP_SYS_BOOT
  });
});
