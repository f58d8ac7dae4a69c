// The OCI runtime CLI (bin/glassbox-runtime) driven as other tools drive runc: a bundle made from
// the built-in base image, create/start/state/kill/delete, run with an exit code, exec, ps, spec
// (checked by runc itself), and bad input that names the problem and changes nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseImageLayer } from '../../server/engine/images/base.js';

const CLI = resolve(__dirname, '..', '..', 'bin', 'glassbox-runtime');
let work: string;
let root: string;
let rootfs: string;
const made: string[] = [];

function cli(args: string[], opts: { out?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  // A container's stdio is the caller's own (runc's pass-through): give the CLI files, never
  // pipes, or spawnSync would wait until the container closes them.
  const n = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const outFile = opts.out ?? join(work, `cli-${n}.out`);
  const errFile = join(work, `cli-${n}.err`);
  const out = openSync(outFile, 'a');
  const err = openSync(errFile, 'a');
  try {
    const r = spawnSync(CLI, ['--root', root, ...args], { stdio: ['ignore', out, err], timeout: 60_000 });
    return { status: r.status, stdout: opts.out ? '' : readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

function cliOk(args: string[], opts: { out?: string } = {}): string {
  const r = cli(args, opts);
  if (r.status !== 0) throw new Error(`glassbox-runtime ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout ?? '';
}

function state(id: string): { status: string; pid: number; id: string; bundle: string; ociVersion: string; rootfs: string; created: string; owner: string; annotations: Record<string, string> } {
  return JSON.parse(cliOk(['state', id]));
}

/** A bundle: config.json from our own `spec`, made non-interactive, with the base image's rootfs (shared, read-only). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config.json as the test edits it
function bundle(args: string[], change: (c: Record<string, any>) => void = () => {}): string {
  const dir = mkdtempSync(join(work, 'bundle-'));
  cliOk(['spec', '--bundle', dir]);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  c.process.terminal = false;
  c.process.args = args;
  c.root.path = rootfs;
  c.hostname = 'oci-cli-test';
  c.annotations = { 'org.example.test': 'yes' };
  change(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

/** cgroups of ours under /glassbox-runtime in the memory hierarchy whose name starts with prefix */
function cgroupsLeft(prefix: string): string[] {
  const dir = '/sys/fs/cgroup/memory/glassbox-runtime';
  return existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(prefix)) : [];
}

function id(name: string): string {
  const i = `gbo-${name}-${process.pid}`;
  made.push(i);
  return i;
}

beforeAll(async () => {
  work = mkdtempSync('/tmp/gbo-oci-');
  root = join(work, 'state');
  rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  execFileSync('tar', ['-x', '-C', rootfs], { input: await baseImageLayer() });
});

afterEach(() => {
  for (const i of made.splice(0)) cli(['delete', '--force', i]);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('glassbox-runtime (OCI runtime CLI)', () => {
  it('create, start, state, kill, delete: the states runc reports, and nothing left behind', async () => {
    const b = bundle(['sleep', '1000']);
    const c = id('life');
    cliOk(['create', '--bundle', b, '--pid-file', join(work, 'life.pid'), c], { out: join(work, 'life.out') });
    const created = state(c);
    expect(created).toMatchObject({ id: c, status: 'created', bundle: b, rootfs, owner: 'root', annotations: { 'org.example.test': 'yes' } });
    expect(created.ociVersion).toBe('1.0.2-dev');
    expect(Number.isNaN(Date.parse(created.created))).toBe(false);
    expect(readFileSync(join(work, 'life.pid'), 'utf8')).toBe(String(created.pid));
    // at the barrier: its own namespaces exist already, its command has not run
    expect(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8')).not.toContain('sleep');
    expect(execFileSync('readlink', [`/proc/${created.pid}/ns/uts`]).toString()).not.toBe(execFileSync('readlink', ['/proc/self/ns/uts']).toString());
    const cgroup = readFileSync(`/proc/${created.pid}/cgroup`, 'utf8');
    expect(cgroup).toContain(`/glassbox-runtime/${c}`);

    cliOk(['start', c]);
    const running = state(c);
    expect(running).toMatchObject({ status: 'running', pid: created.pid });
    for (let i = 0; i < 100 && !readFileSync(`/proc/${created.pid}/cmdline`, 'utf8').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
    // a second start is refused by name
    const again = cli(['start', c]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`cannot start a container that is running: ${c}`);
    // delete without --force refuses a running container and changes nothing
    const del = cli(['delete', c]);
    expect(del.status).toBe(1);
    expect(del.stderr).toContain('that is not stopped: running');
    expect(state(c).status).toBe('running');

    cliOk(['kill', c, 'KILL']);
    for (let i = 0; i < 200 && state(c).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(state(c)).toMatchObject({ status: 'stopped', pid: 0 });
    const killStopped = cli(['kill', c]);
    expect(killStopped.status).toBe(1);
    expect(killStopped.stderr).toContain('is not running');
    cliOk(['delete', c]);
    const gone = cli(['state', c]);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain(`container does not exist: ${c}`);
    expect(existsSync(join(root, c))).toBe(false);
    expect(cgroupsLeft(c)).toEqual([]);
  });

  it('run: the command sees its own root and hostname, and its exit code is run\'s', () => {
    const b = bundle(['sh', '-c', 'echo "hello from $(hostname) as $(id -u)"; ls /etc/os-release; exit 3']);
    const out = join(work, 'run.out');
    const r = cli(['run', '--bundle', b, id('run')], { out });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
    expect(readFileSync(out, 'utf8')).toBe('hello from oci-cli-test as 0\n/etc/os-release\n');
    // run deletes the container after it ends (no --keep)
    expect(existsSync(join(root, `gbo-run-${process.pid}`))).toBe(false);
  });

  it('exec joins the running container; ps lists its processes', async () => {
    const b = bundle(['sleep', '1000']);
    const c = id('exec');
    cliOk(['run', '--detach', '--bundle', b, c], { out: join(work, 'exec-init.out') });
    const out = join(work, 'exec.out');
    const r = cli(['exec', '--env', 'EXTRA=seen', c, 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; echo $EXTRA; exit 7'], { out });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(7);
    expect(readFileSync(out, 'utf8')).toBe('oci-cli-test\nsleep 1000 \nseen\n');

    const missing = cli(['exec', c, '/no/such/command'], { out });
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/exec failed: .*\/no\/such\/command/);

    const { pid } = state(c);
    expect(JSON.parse(cliOk(['ps', '--format', 'json', c]))).toEqual([pid]);
    const table = cliOk(['ps', c]).split('\n');
    expect(table[0]).toMatch(/^UID\s+PID\s+PPID/);
    expect(table.filter((l) => l.includes('sleep 1000'))).toHaveLength(1);
    const badFormat = cli(['ps', '--format', 'yaml', c]);
    expect(badFormat.status).toBe(1);
    expect(badFormat.stderr).toContain('ps: --format "yaml": must be table or json');
  });

  it('spec writes a config.json that runc accepts, and will not overwrite one', () => {
    const dir = mkdtempSync(join(work, 'spec-'));
    cliOk(['spec', '--bundle', dir]);
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(c).toMatchObject({ ociVersion: '1.0.2-dev', process: { args: ['sh'], terminal: true }, root: { path: 'rootfs', readonly: true } });
    const second = cli(['spec', '--bundle', dir]);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('config.json exists: remove it first');
    // runc runs it (without a terminal: none here)
    c.process.terminal = false;
    c.process.args = ['sh', '-c', 'test "$(hostname)" = runc && exit 5'];
    c.root.path = rootfs;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
    const runcRoot = join(work, 'runc-state');
    const r = spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'run', '--bundle', dir, `gbo-runc-${process.pid}`], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(5);
  });

  it('bad input: an unknown flag, a missing bundle, a duplicate id, a bad config: a clear message and nothing changed', () => {
    const before = existsSync(root) ? readdirSync(root) : [];
    const unknown = cli(['create', '--bogus', 'x', id('bad')]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('create: flag provided but not defined: --bogus');
    const missing = cli(['create', '--bundle', join(work, 'nope'), id('bad2')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`bundle ${join(work, 'nope')}: no such directory (--bundle)`);
    const noConfig = mkdtempSync(join(work, 'empty-'));
    const missingConfig = cli(['create', '--bundle', noConfig, id('bad3')]);
    expect(missingConfig.stderr).toContain('config.json not found');
    const badId = cli(['create', '--bundle', noConfig, '../escape']);
    expect(badId.stderr).toContain('invalid container id "../escape"');
    const badConfig = bundle(['true'], (c) => (c.process.capabilities.bounding = ['CAP_NOT_A_THING']));
    const refused = cli(['create', '--bundle', badConfig, id('bad4')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('process.capabilities.bounding: unknown capability: "CAP_NOT_A_THING"');
    expect(existsSync(root) ? readdirSync(root) : []).toEqual(before);
    expect(cgroupsLeft('gbo-bad')).toEqual([]);

    const b = bundle(['sleep', '1000']);
    const c = id('dup');
    cliOk(['create', '--bundle', b, c], { out: join(work, 'dup.out') });
    const first = state(c);
    const dup = cli(['create', '--bundle', b, c], { out: join(work, 'dup.out') });
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain(`container with id exists: ${c}`);
    expect(state(c)).toEqual(first);
    const delCreated = cli(['delete', c]);
    expect(delCreated.stderr).toContain(`cannot delete container ${c} that is not stopped: created`);
    expect(state(c)).toEqual(first);
    const badSignal = cli(['kill', c, 'SIGNOPE']);
    expect(badSignal.stderr).toContain('kill: invalid signal "SIGNOPE"');
    expect(state(c)).toEqual(first);
  });

  it('paths in config.json stay inside the rootfs: a "../" destination and a symlink to the host mount nothing on the host', () => {
    const host = mkdtempSync(join(work, 'host-'));
    writeFileSync(join(host, 'canary'), 'untouched');
    // a rootfs of its own with a symlink that points at the host directory
    const evilRoot = mkdtempSync(join(work, 'evilroot-'));
    execFileSync('cp', ['-a', `${rootfs}/.`, evilRoot]);
    symlinkSync(host, join(evilRoot, 'escape'));
    const b = bundle(['sh', '-c', `echo inside > /escape/canary && echo inside > ${host}/up/canary && ls /escape ${host}/up`], (c) => {
      c.root = { path: evilRoot, readonly: false };
      c.mounts.push({ destination: '/escape', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.mounts.push({ destination: `../../../../../../..${host}/up`, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    });
    const r = cli(['run', '--bundle', b, id('paths')], { out: join(work, 'paths.out') });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(host, 'canary'), 'utf8')).toBe('untouched');
    expect(existsSync(join(host, 'up'))).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(host);
  });
});
