// util/spawner.ts against the real kernel: posix_spawn's children get pipes for stdio and nothing
// else, default signal dispositions, their own session when detached; their exit statuses are
// reaped (and Node's own children's are left to Node); a posix_spawn that fails for a reason of
// its own falls back to child_process; and mount-root.ts says what mountinfo says.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import koffi from 'koffi';
import { afterAll, describe, expect, it } from 'vitest';
import { execProcess, ExecError, failNextPosixSpawnForTest, lastSpawnFellBack, spawnProcess, unreapedChildren, type SpawnedProcess } from '../../server/engine/util/spawner.js';
import { isMountRoot } from '../../server/engine/util/mount-root.js';
import { isMounted } from '../../server/engine/rootfs/overlay.js';

/** a pipe whose ends are inheritable (no O_CLOEXEC): what a careless library leaves open */
function pipeWithoutCloexec(): [number, number] {
  const lib = koffi.load('libc.so.6');
  const b = Buffer.alloc(8);
  expect(lib.func('int pipe2(void *fds, int flags)')(b, 0)).toBe(0);
  return [b.readInt32LE(0), b.readInt32LE(4)];
}

const exitOf = (c: SpawnedProcess) => new Promise<[number | null, string | null]>((r) => c.once('exit', (code, sig) => r([code, sig])));
const readAll = (s: NodeJS.ReadableStream) =>
  new Promise<string>((r) => {
    let t = '';
    s.on('data', (d: Buffer) => (t += d.toString()));
    s.on('end', () => r(t));
  });

describe('spawner (posix_spawn)', () => {
  it('runs a command to the end: stdout, stderr, stdin, exit code', async () => {
    const r = await execProcess('/bin/sh', ['-c', 'cat; echo out; echo err >&2'], { input: 'in\n' });
    expect(r).toEqual({ stdout: 'in\nout\n', stderr: 'err\n' });
    const e = await execProcess('/bin/sh', ['-c', 'echo why >&2; exit 3']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExecError);
    expect((e as ExecError).code).toBe(3);
    expect((e as ExecError).stderr).toBe('why\n');
    // a bare name is looked up in PATH, as child_process does
    expect((await execProcess('true', [])).stdout).toBe('');
    expect(lastSpawnFellBack).toBe(false);
  });

  it('reports a program that cannot run as an error event, like child_process', async () => {
    const c = spawnProcess('/nonexistent/gbfk', []);
    const err = await new Promise<NodeJS.ErrnoException>((r) => c.once('error', r));
    expect(err.code).toBe('ENOENT');
    expect(c.pid).toBeUndefined();
    await expect(execProcess('/nonexistent/gbfk', [])).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives the child stdio and nothing else, every signal at its default', async () => {
    // a descriptor the server left inheritable (as some libraries do) stays out of the child
    const [leak] = pipeWithoutCloexec();
    const c = spawnProcess('/bin/sh', ['-c', 'ls /proc/self/fd; grep -E "^Sig(Ign|Blk)" /proc/self/status'], { eager: true });
    const [out, exit] = await Promise.all([readAll(c.stdout!), exitOf(c)]);
    // ls's own directory descriptor is the 3
    expect(out.split('\n').filter((l) => /^\d+$/.test(l))).toEqual(['0', '1', '2', '3']);
    // Node ignores SIGPIPE; its children must not
    expect(out).toMatch(/SigBlk:\s+0+\n/);
    const ign = BigInt(`0x${/SigIgn:\s+([0-9a-f]+)/.exec(out)![1]}`);
    expect((ign >> 12n) & 1n).toBe(0n); // SIGPIPE (13): bit 12
    expect(exit).toEqual([0, null]);
    expect(leak).toBeGreaterThan(2);
  });

  it('detached: the child leads a session of its own', async () => {
    const c = spawnProcess('/bin/sh', ['-c', 'cut -d" " -f6 /proc/self/stat; ps -o sid= -p $$'], { detached: true, eager: true });
    const [out] = await Promise.all([readAll(c.stdout!), exitOf(c)]);
    const sid = Number(readFileSync(`/proc/self/stat`, 'utf8').split(' ')[5]);
    expect(Number(out.trim().split(/\s+/)[0])).not.toBe(sid);
    expect(Number(out.trim().split(/\s+/).pop())).toBe(c.pid);
  });

  it('reaps a child that closed its stdio and lives on (a monitor), with its status', async () => {
    const before = unreapedChildren();
    const c = spawnProcess('/bin/sh', ['-c', 'exec >&- 2>&- <&-; sleep 0.3; exit 7']);
    c.stdout!.resume();
    c.stderr!.resume();
    expect(await exitOf(c)).toEqual([7, null]);
    expect(unreapedChildren()).toBe(before);
    // the pid is gone, not a zombie of ours
    expect(() => readFileSync(`/proc/${c.pid}/stat`)).toThrow();
  });

  it('kill: the exit says the signal, and a reaped child is not signalled again', async () => {
    const c = spawnProcess('/bin/sleep', ['30'], { eager: true });
    const exited = exitOf(c);
    expect(c.kill('SIGKILL')).toBe(true);
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(c.signalCode).toBe('SIGKILL');
    expect(c.kill('SIGKILL')).toBe(false);
  });

  it("leaves Node's own children to Node", async () => {
    const flat = spawnProcess('/bin/sleep', ['0.2'], { eager: true });
    const node = promisify(execFile)('/bin/sh', ['-c', 'sleep 0.1; echo node; exit 0']);
    const [r, e] = await Promise.all([node, exitOf(flat)]);
    expect(r.stdout).toBe('node\n');
    expect(e).toEqual([0, null]);
    expect(spawnSync('/bin/sh', ['-c', 'exit 5']).status).toBe(5);
  });

  it('falls back to child_process when posix_spawn fails for a reason of its own', async () => {
    failNextPosixSpawnForTest();
    const r = await execProcess('/bin/echo', ['still runs']);
    expect(lastSpawnFellBack).toBe(true);
    expect(r.stdout).toBe('still runs\n');
    await execProcess('/bin/true', []);
    expect(lastSpawnFellBack).toBe(false);
  });
});

describe('mount-root (statx)', () => {
  const dir = mkdtempSync('/tmp/gbfk-mr-');
  afterAll(() => {
    spawnSync('umount', [join(dir, 'm')]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what mountinfo says, for a mount point, a plain directory and a missing path', () => {
    mkdirSync(join(dir, 'm'));
    expect(isMountRoot(join(dir, 'm'))).toBe(false);
    expect(isMounted(join(dir, 'm'))).toBe(false);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'gbfk', join(dir, 'm')]).status).toBe(0);
    expect(isMountRoot(join(dir, 'm'))).toBe(true);
    expect(isMounted(join(dir, 'm'))).toBe(true);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${join(dir, 'm')} `);
    expect(isMountRoot('/')).toBe(true);
    expect(isMountRoot(join(dir, 'missing'))).toBe(false);
    expect(isMountRoot('/etc/hostname/x')).toBe(false); // ENOTDIR
    expect(isMounted(join(dir, 'missing'))).toBe(false);
  });
});
