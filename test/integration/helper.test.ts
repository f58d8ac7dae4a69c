// gb-helper on its own, driven with hand-written specs (native/PROTOCOL.md) on a busybox rootfs:
// the protocol as the engine sees it — status lines, exit.json, the log, the attach socket, the
// create barrier, exec — and clear error lines for bad input.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeField } from '../../server/engine/runtime/helper-spec.js';
import { frame, FrameReader } from '../../server/engine/containers/attach.js';
import { HELPER_PATH } from '../../server/engine/runtime/builtin.js';
import { compileSeccomp } from '../../server/engine/runtime/seccomp-bpf.js';
import { dockerDefaultProfile } from '../../server/engine/runtime/seccomp-profile.js';

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
if (!BUSYBOX) throw new Error('these tests need busybox (apt-get install busybox-static)');

let base: string;
let rootfs: string;

beforeAll(() => {
  base = mkdtempSync('/tmp/gbh-');
  // root in a user namespace is uid 100000 on the host: it must be able to walk to the rootfs
  execFileSync('chmod', ['711', base]);
  rootfs = join(base, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin', 'busybox')]);
  for (const a of ['sh', 'cat', 'echo', 'hostname', 'id', 'ls', 'mount', 'ps', 'readlink', 'sleep', 'tty', 'stty', 'wc', 'grep', 'reboot']) {
    symlinkSync('busybox', join(rootfs, 'bin', a));
  }
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

let n = 0;
function spec(lines: string[], args: string[], opts: { barrier?: boolean; terminal?: boolean } = {}): { path: string; state: string } {
  const state = join(base, `s${n++}`);
  mkdirSync(state);
  const body = [
    'namespaces pid mnt net uts ipc',
    `rootfs ${encodeField(rootfs)}`,
    'mount proc proc /proc 14 -',
    'mount tmpfs tmpfs /dev 16777218 mode=755,size=65536k',
    'mount devpts devpts /dev/pts 10 newinstance,ptmxmode=0666,mode=0620',
    'device /dev/null c 1 3 666',
    'symlink pts/ptmx /dev/ptmx',
    'caps 00000000a80425fb 00000000a80425fb 00000000a80425fb 0000000000000000 0000000000000000',
    'user 0 0',
    'env PATH=/bin',
    ...lines,
    ...args.map((a) => `arg ${encodeField(a)}`),
    `terminal ${opts.terminal ? 1 : 0}`,
    `state_dir ${encodeField(state)}`,
    `log ${encodeField(join(state, 'log.json'))}`,
    `create_barrier ${opts.barrier ? 1 : 0}`,
  ].join('\n');
  const path = join(state, 'spec');
  writeFileSync(path, body + '\n');
  return { path, state };
}

function runSync(path: string): { status: Record<string, unknown>[]; code: number | null } {
  const r = spawnSync(HELPER_PATH, ['run', path], { encoding: 'utf8', input: '' });
  return { status: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)), code: r.status };
}

function logText(state: string): string {
  return readFileSync(join(state, 'log.json'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { log: string }).log)
    .join('');
}

describe('gb-helper run', () => {
  it("applies the seccomp filter: with every capability, Docker's profile still refuses mount", () => {
    const bpf = join(base, 'default.bpf');
    writeFileSync(bpf, compileSeccomp(dockerDefaultProfile(), []));
    const allCaps = 'caps 000001ffffffffff 000001ffffffffff 000001ffffffffff 0000000000000000 0000000000000000';
    const script = ['/bin/sh', '-c', 'mount -t tmpfs none /tmp && echo mounted || echo refused'];
    const confined = spec([allCaps, `seccomp ${encodeField(bpf)}`], script);
    const r1 = runSync(confined.path);
    expect(r1.status.find((l) => l.error)).toBeUndefined();
    expect(logText(confined.state)).toContain('refused');
    const free = spec([allCaps], script);
    runSync(free.path);
    expect(logText(free.state)).toContain('mounted');
  });

  it('reports each step, writes the log and exit.json with the code', () => {
    const s = spec(['hostname glassbox-h'], ['/bin/sh', '-c', 'echo pid=$$; hostname; exit 3']);
    const r = runSync(s.path);
    expect(r.code).toBe(0);
    const steps = r.status.filter((l) => l.step).map((l) => l.step);
    expect(steps).toEqual(expect.arrayContaining(['clone', 'hostname', 'mount-proc', 'pivot_root', 'capabilities']));
    expect(r.status.find((l) => l.ready)).toBeTruthy();
    expect(r.status.at(-1)).toMatchObject({ exited: true, code: 3 });
    expect(JSON.parse(readFileSync(join(s.state, 'exit.json'), 'utf8'))).toMatchObject({ code: 3, signal: null });
    expect(logText(s.state)).toBe('pid=1\nglassbox-h\n');
  });

  it('maps root to 100000 in a user namespace', () => {
    const s = spec(['namespaces user', 'uidmap 0 100000 65536', 'gidmap 0 100000 65536'], ['/bin/sh', '-c', 'cat /proc/self/uid_map; id -u']);
    const r = runSync(s.path);
    expect(r.status.find((l) => l.error)).toBeUndefined();
    expect(logText(s.state).trim().split(/\s+/)).toEqual(['0', '100000', '65536', '0']);
  });

  it('names the step and errno when something fails', () => {
    const s = spec([], ['/bin/sh', '-c', 'true']);
    writeFileSync(s.path, readFileSync(s.path, 'utf8').replace(/^rootfs .*$/m, 'rootfs /nonexistent/rootfs'));
    const r = runSync(s.path);
    expect(r.code).toBe(1);
    const err = r.status.find((l) => l.error) as { error: string; step: string; errno: string };
    expect(err.step).toMatch(/mount/);
    expect(err.errno).toBe('ENOENT');
    expect(err.error).toContain('/nonexistent/rootfs');
  });

  it('reports a missing command', () => {
    const r = runSync(spec([], ['no-such-command']).path);
    const err = r.status.find((l) => l.error) as { error: string };
    expect(err.error).toMatch(/executable file not found/);
  });

  it('refuses an unknown directive with the line number', () => {
    const s = spec(['frobnicate 1'], ['/bin/true']);
    const r = runSync(s.path);
    expect(r.code).toBe(1);
    expect(JSON.stringify(r.status)).toMatch(/unknown directive frobnicate/);
  });

  it('waits at the create barrier and aborts on EOF', async () => {
    const s = spec([], ['/bin/sh', '-c', 'echo ran'], { barrier: true });
    const child = spawn(HELPER_PATH, ['run', s.path], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"created"')) resolve();
      });
    });
    child.stdin!.end(); // no "start"
    await new Promise((r) => child.once('exit', r));
    expect(JSON.parse(readFileSync(join(s.state, 'exit.json'), 'utf8')).code).toBe(137);
    expect(existsSync(join(s.state, 'log.json')) ? logText(s.state) : '').not.toContain('ran');
  });

  it('serves a terminal over monitor.sock with resize and stdin', async () => {
    const s = spec([], ['/bin/sh', '-c', 'read l; echo got:$l; tty; stty size'], { barrier: true, terminal: true });
    const child = spawn(HELPER_PATH, ['run', s.path], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('"created"') && resolve()));
    const sock = connect(join(s.state, 'monitor.sock'));
    await new Promise((r) => sock.once('connect', r));
    child.stdin!.end('start\n');
    let out = '';
    let code = -1;
    const reader = new FrameReader((type, payload) => {
      if (type === 'o') out += payload.toString();
      if (type === 'x') code = Number(payload.toString());
    });
    sock.on('data', (d: Buffer) => reader.push(d));
    sock.write(frame('r', '33 101'));
    setTimeout(() => sock.write(frame('i', 'hello\r')), 100);
    await new Promise((r) => sock.once('close', r));
    expect(code).toBe(0);
    expect(out).toContain('got:hello');
    expect(out).toContain('/dev/pts/0');
    expect(out).toContain('33 101');
  });
});

// What the container sees from inside: isolation, the masks, the tiny init, and exec joining it.
describe('gb-helper run: the view from inside', () => {
  function readyPid(out: string): number {
    return (JSON.parse(out.split('\n').find((l) => l.includes('"ready"'))!) as { pid: number }).pid;
  }
  async function startDetached(path: string) {
    const child = spawn(HELPER_PATH, ['run', path], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"ready"')) resolve();
      }),
    );
    return { child, pid: readyPid(out), exited: new Promise((r) => child.once('exit', r)) };
  }

  it('is PID 1 in namespaces of its own', () => {
    const names = ['pid', 'mnt', 'net', 'uts', 'ipc'];
    const s = spec([], ['/bin/sh', '-c', `echo $$; for n in ${names.join(' ')}; do readlink /proc/self/ns/$n; done`]);
    runSync(s.path);
    const [pid, ...inside] = logText(s.state).trim().split('\n');
    expect(pid).toBe('1');
    const host = names.map((n) => readlinkSync(`/proc/self/ns/${n}`));
    inside.forEach((link, i) => expect(link).not.toBe(host[i]));
  });

  it('masks, makes read-only, and refuses mount without CAP_SYS_ADMIN', () => {
    const s = spec(['masked /proc/keys', 'masked /proc/acpi', 'readonly /proc/sys'], [
      '/bin/sh',
      '-c',
      'wc -c < /proc/keys; { echo x > /proc/sys/kernel/domainname; } 2>/dev/null || echo ro; mount -t tmpfs t /tmp 2>/dev/null || echo nomount',
    ]);
    runSync(s.path);
    expect(logText(s.state).split('\n').map((l) => l.trim())).toEqual(['0', 'ro', 'nomount', '']);
  });

  it('gives the command default signal dispositions (SIGPIPE is not left ignored)', () => {
    // grep itself is the command (a shell would set its own dispositions)
    const s = spec([], ['/bin/grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']);
    runSync(s.path);
    expect(logText(s.state)).toMatch(/SigBlk:\s+0+\nSigIgn:\s+0+\n/);
  });

  it('reports a kill from outside as 128+9 and SIGKILL', async () => {
    const s = spec([], ['/bin/sh', '-c', 'sleep 30']);
    const c = await startDetached(s.path);
    process.kill(c.pid, 'SIGKILL');
    await c.exited;
    expect(JSON.parse(readFileSync(join(s.state, 'exit.json'), 'utf8'))).toMatchObject({ code: 137, signal: 'SIGKILL' });
  });

  it('init 1: gb-init is PID 1, reaps orphans, forwards SIGTERM and exits with the command status', async () => {
    const reap = spec(['init 1'], ['/bin/sh', '-c', '(sleep 0.1 &); sleep 0.4; cat /proc/1/comm; ps -o stat | grep -c Z; exit 5']);
    runSync(reap.path);
    expect(logText(reap.state)).toBe('gb-init\n0\n');
    expect(JSON.parse(readFileSync(join(reap.state, 'exit.json'), 'utf8')).code).toBe(5);

    const term = spec(['init 1'], ['/bin/sh', '-c', 'trap "echo term; exit 7" TERM; echo up; while true; do sleep 0.05; done']);
    const c = await startDetached(term.path);
    await new Promise((r) => setTimeout(r, 200));
    process.kill(c.pid, 'SIGTERM');
    await c.exited;
    expect(logText(term.state)).toBe('up\nterm\n');
    expect(JSON.parse(readFileSync(join(term.state, 'exit.json'), 'utf8')).code).toBe(7);
  });

  it('exec joins the namespaces of a running init and refuses a reused pid', async () => {
    const s = spec(['hostname exec-host'], ['/bin/sh', '-c', 'sleep 30']);
    const c = await startDetached(s.path);
    try {
      const stat = readFileSync(`/proc/${c.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      // exec mode's errors: the run mode's JSON line, in the STATUS file given as the third argument
      const exec = (lines: string[]) => {
        const p = join(s.state, `exec${n++}.spec`);
        writeFileSync(p, [`target_pid ${c.pid}`, 'user 0 0', 'env PATH=/bin', 'cwd /', ...lines].join('\n') + '\n');
        const r = spawnSync(HELPER_PATH, ['exec', p, `${p}.status`], { encoding: 'utf8' });
        const lines2 = readFileSync(`${p}.status`, 'utf8').split('\n').filter(Boolean);
        return { ...r, errors: lines2.map((l) => JSON.parse(l) as { error: string; step: string; errno?: string }) };
      };
      const ok = exec([`target_start ${start}`, 'arg sh', 'arg -c', `arg ${encodeField('hostname; echo $$; cat /proc/1/cmdline; exit 4')}`]);
      expect(ok.stdout).toBe('exec-host\n2\nsleep\u000030\u0000');
      expect(ok.status).toBe(4);
      expect(ok.errors).toEqual([]);
      const reused = exec(['target_start 1', 'arg true']);
      expect(reused.status).toBe(127);
      expect(reused.stderr).toBe('');
      expect(reused.errors).toEqual([expect.objectContaining({ step: 'target', errno: 'ESRCH' })]);
      const missing = exec([`target_start ${start}`, 'arg no-such-command']);
      expect(missing.status).toBe(127);
      expect(missing.errors).toEqual([{ step: 'exec', error: '"no-such-command": executable file not found in $PATH' }]);
      // without a STATUS file (run by hand), the same error is a plain line on stderr
      const p = join(s.state, 'by-hand.spec');
      writeFileSync(p, [`target_pid ${c.pid}`, 'target_start 1', 'user 0 0', 'env PATH=/bin', 'cwd /', 'arg true'].join('\n') + '\n');
      expect(spawnSync(HELPER_PATH, ['exec', p], { encoding: 'utf8' }).stderr).toMatch(/^gb-helper exec: target: .*\(ESRCH\)/);
    } finally {
      process.kill(c.pid, 'SIGKILL');
      await c.exited;
    }
  });
});

describe('gb-helper: over-long input and failed calls are errors, never truncation', () => {
  const onlyTheSpec = (state: string) => expect(readdirSync(state)).toEqual(['spec']);

  it('refuses more than 64 additional groups, naming the line, and starts nothing', () => {
    const groups = Array.from({ length: 65 }, (_, i) => String(i + 1));
    const s = spec([`user 0 0 ${groups.join(' ')}`], ['/bin/sh', '-c', 'true']);
    const r = runSync(s.path);
    expect(r.code).toBe(1);
    expect(r.status).toHaveLength(1);
    expect(String(r.status[0].error)).toMatch(/spec line \d+: user has 65 additional groups, at most 64/);
    onlyTheSpec(s.state);
    // 64 is the limit, not an error
    const ok = runSync(spec([`user 0 0 ${groups.slice(0, 64).join(' ')}`], ['/bin/sh', '-c', 'id -G | wc -w']).path);
    expect(ok.status.find((l) => l.error)).toBeUndefined();
    expect(ok.status.at(-1)).toMatchObject({ exited: true, code: 0 });
  });

  it('refuses a line of more than 80 fields instead of cutting it short', () => {
    const s = spec([`arg ${Array.from({ length: 80 }, () => 'x').join(' ')}`], ['/bin/sh', '-c', 'true']);
    const r = runSync(s.path);
    expect(r.code).toBe(1);
    expect(String(r.status[0].error)).toMatch(/spec line \d+: arg has more than 79 fields/);
    onlyTheSpec(s.state);
    // exec mode writes the same JSON line to its STATUS file
    const e = spawnSync(HELPER_PATH, ['exec', s.path, `${s.path}.status`], { encoding: 'utf8' });
    expect(e.status).toBe(127);
    const line = JSON.parse(readFileSync(`${s.path}.status`, 'utf8').trim()) as { error: string; step: string };
    expect(line.step).toBe('spec');
    expect(line.error).toMatch(/^spec line \d+: arg has more than 79 fields/);
    rmSync(`${s.path}.status`);
  });

  it('fails on a setgroups error instead of running with the helper\'s groups', () => {
    // a user namespace with setgroups "deny": the kernel refuses setgroups(2) with EPERM
    const userns = ['namespaces user', 'uidmap 0 100000 65536', 'gidmap 0 100000 65536', 'setgroups deny'];
    const r = runSync(spec([...userns, 'user 0 0 10'], ['/bin/sh', '-c', 'true']).path);
    expect(r.code).toBe(1);
    expect(r.status.find((l) => l.error)).toMatchObject({ step: 'user', errno: 'EPERM' });
    expect(String(r.status.find((l) => l.error)!.error)).toMatch(/setgroups\(1 groups\)/);
    // with no group asked for there is nothing to set: that runs
    const ok = runSync(spec([...userns], ['/bin/sh', '-c', 'true']).path);
    expect(ok.status.find((l) => l.error)).toBeUndefined();
    expect(ok.status.at(-1)).toMatchObject({ exited: true, code: 0 });
  });

  it('with too few descriptors, every failing call is one error line: no hang, nothing left', () => {
    // each limit makes a different open/pipe/socket/signalfd call fail (EMFILE) in the monitor
    // or the child (an unchecked signalfd would leave the monitor deaf to SIGCHLD for ever)
    const outcomes = new Set<string>();
    for (let nofile = 4; nofile <= 24; nofile++) {
      const s = spec([], ['/bin/sh', '-c', 'true']);
      const r = spawnSync('prlimit', [`--nofile=${nofile}:${nofile}`, HELPER_PATH, 'run', s.path], { encoding: 'utf8', input: '', timeout: 20_000 });
      expect(r.error, `nofile=${nofile}: the helper hung`).toBeUndefined();
      const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const errors = lines.filter((l) => l.error);
      if (r.status === 0) {
        expect(lines.at(-1), `nofile=${nofile}`).toMatchObject({ exited: true, code: 0 });
        outcomes.add('ran');
      } else {
        expect(r.status, `nofile=${nofile}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(errors, `nofile=${nofile}: ${r.stdout}`).toHaveLength(1);
        outcomes.add(String(errors[0].step));
      }
    }
    expect([...outcomes], 'the steps that failed').toContain('ran');
    expect(outcomes).toContain('signalfd');
  });
});
