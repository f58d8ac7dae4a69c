// Attack: reaching the host's gb-helper through /proc/PID/exe (issue #11, part 3; the pattern of
// runc's CVE-2019-5736).
//
// A hostile container plants a command whose first line is `#!/proc/self/exe ...` and waits for
// someone to exec it: the kernel then runs, as that command's interpreter, whatever the exec'ing
// process runs at that moment, i.e. the helper. Here the planted file is also a valid exec spec
// (`#` lines are comments), so the helper it starts stays alive inside the container as the
// parent of a `sleep`. The attacker opens /proc/<that pid>/exe (and gb-init's, PID 1 with --init),
// compares it with the host's file, and tries to write through it. The host file must be neither
// the file opened nor changed.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELPER_PATH } from '../../server/engine/runtime/builtin.js';
import { childOf, until } from '../helpers.js';
import { execToExit, openTestEngine, type TestEnv } from '../integration/support.js';

let env: TestEnv;
let id: string;
let hostSha: string;
let host: { dev: number; ino: number };

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function execOut(cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  return execToExit(env.engine, id, cmd);
}

/** what the attacker learns about /proc/PID/exe from inside: "dev ino sha256", or the error */
async function probe(pid: string): Promise<{ dev: number; ino: number; sha: string; write: string }> {
  const r = await execOut([
    '/bin/sh',
    '-c',
    // a write in place (no O_TRUNC) and an append; each prints its shell error, if any
    `stat -L -c '%d %i' /proc/${pid}/exe; sha256sum /proc/${pid}/exe | cut -d' ' -f1;` +
      `{ printf pwned 1<>/proc/${pid}/exe && echo wrote; } 2>&1; { echo pwned >>/proc/${pid}/exe && echo appended; } 2>&1; true`,
  ]);
  expect(r.code, r.err).toBe(0);
  const [devIno, sha, ...write] = r.out.trim().split('\n');
  const [dev, ino] = devIno.split(' ').map(Number);
  return { dev, ino, sha, write: write.join('\n') };
}

beforeAll(async () => {
  hostSha = sha256(HELPER_PATH);
  const st = statSync(HELPER_PATH);
  host = { dev: st.dev, ino: st.ino };
  env = await openTestEngine();
  id = (await env.engine.run({ image: 'base', cmd: ['/bin/sh', '-c', 'sleep 1000'], init: true })).id;
}, 120_000);

afterAll(async () => {
  await env?.cleanup();
  // the host's helper is what it was
  if (hostSha) expect(sha256(HELPER_PATH)).toBe(hostSha);
}, 60_000);

describe('the host helper binary is out of reach from inside', () => {
  it('gb-init (PID 1) runs a sealed copy, not the host file', async () => {
    const p = await probe('1');
    expect(p.sha).toBe(hostSha); // the same program...
    expect({ dev: p.dev, ino: p.ino }).not.toEqual(host); // ...but not the host's file
    expect(p.write).not.toMatch(/wrote|appended/);
    expect(sha256(HELPER_PATH)).toBe(hostSha);
  });

  it('#!/proc/self/exe in an exec\'d command gets a sealed copy, not the host file', async () => {
    // plant the trap: an exec spec that is also a script run by /proc/self/exe
    const spec = ['#!/proc/self/exe exec', 'target_pid 1', 'cwd /', 'env PATH=/bin:/usr/bin', 'arg /bin/sleep', 'arg 1000', ''].join('\n');
    const plant = await execOut(['/bin/sh', '-c', `printf '%s' '${spec}' > /bin/trap && chmod 755 /bin/trap`]);
    expect(plant.code, plant.err).toBe(0);
    // the victim (an admin's `docker exec c trap`) runs it; it stays, as the parent of sleep
    const victim = await env.engine.exec(id, { cmd: ['/bin/trap'] });
    let victimErr = '';
    victim.onStderr((d) => (victimErr += d.toString()));
    const found = await until(async () => {
      const r = await execOut(['/bin/sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null | grep -q "^/proc/self/exe exec" && echo ${p#/proc/}; done; true']);
      const pid = r.out.trim().split('\n').filter(Boolean)[0];
      if (!pid) throw new Error(`the trap has not run: ${victimErr}`);
      return pid;
    }, 10_000);
    const p = await probe(found);
    expect(p.sha).toBe(hostSha);
    expect({ dev: p.dev, ino: p.ino }).not.toEqual(host);
    expect(p.write).not.toMatch(/wrote|appended/);
    victim.kill('SIGKILL');
    await new Promise<void>((r) => victim.onExit(() => r()));
    expect(sha256(HELPER_PATH)).toBe(hostSha);
  });

  it('no process the container can see runs the host file', async () => {
    const r = await execOut(['/bin/sh', '-c', "for p in /proc/[0-9]*; do stat -L -c \"${p#/proc/} %d %i\" $p/exe 2>/dev/null; done; true"]);
    const seen = r.out.trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
    expect(seen.length).toBeGreaterThanOrEqual(3); // gb-init, sleep, this shell
    for (const [pid, dev, ino] of seen) expect({ pid, dev, ino }).not.toEqual({ pid, ...host });
  });

  it('a helper started from its file re-executes itself from a sealed memfd', async () => {
    // an exec session on the host itself (target: this process, so no namespace to join)
    const dir = mkdtempSync('/tmp/gbx-');
    const spec = join(dir, 'spec');
    writeFileSync(spec, [`target_pid ${process.pid}`, 'cwd /', 'env PATH=/bin:/usr/bin', 'arg /bin/sleep', 'arg 1000', ''].join('\n'));
    const child = spawn(HELPER_PATH, ['exec', spec], { stdio: 'ignore' });
    try {
      await childOf(child.pid!); // the sleep: the helper got past its start
      expect(readlinkSync(`/proc/${child.pid}/exe`)).toMatch(/^\/memfd:gb-helper/);
      expect(readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim()).toBe('gb-helper');
      expect(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')[0]).toBe(HELPER_PATH);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an exec session\'s helper stays outside the pid namespace; what it forks is inside', async () => {
    const proc = await env.engine.exec(id, { cmd: ['/bin/sleep', '1000'] });
    try {
      const nspid = (pid: number) => /NSpid:\s+(.*)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1].trim().split(/\s+/);
      const command = await childOf(proc.pid);
      expect(nspid(proc.pid)).toHaveLength(1); // setns(CLONE_NEWPID) moves only its children
      expect(nspid(command)).toHaveLength(2);
      // not visible from inside, and a sealed copy anyway
      expect(readlinkSync(`/proc/${proc.pid}/exe`)).toMatch(/^\/memfd:gb-helper/);
    } finally {
      proc.kill('SIGKILL');
      await new Promise<void>((r) => proc.onExit(() => r()));
    }
  });

  it('the engine starts the helper from its sealed copy', () => {
    const monitor = env.engine.get(id).state.monitorPid;
    expect(readlinkSync(`/proc/${monitor}/exe`)).toMatch(/^\/memfd:gb-helper/);
    expect(readFileSync(`/proc/${monitor}/comm`, 'utf8').trim()).toBe('gb-helper');
  });
});
