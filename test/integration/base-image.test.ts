// The built-in base image, both ways: from busybox, and from the host's own binaries with their
// shared libraries. Each is mounted as an overlay and used as a root: a shell, ls, id and ps.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureBaseImage } from '../../server/engine/images/base.js';
import { readElf, sharedLibraryClosure } from '../../server/engine/images/elf.js';
import { ImageStore } from '../../server/engine/images/store.js';
import { mountOverlay, unmountOverlay } from '../../server/engine/rootfs/overlay.js';

let dir: string;
let merged: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/gbb-');
  merged = join(dir, 'merged');
});
afterEach(() => {
  unmountOverlay(merged);
  rmSync(dir, { recursive: true, force: true });
});

/** Mount the image and run a script in it, with its own pid namespace and /proc (for ps) and its own IPC namespace (the ipcmk queue goes with it). */
function runIn(store: ImageStore, script: string, mountIt = true): string {
  const img = store.resolve('base');
  if (mountIt) {
    for (const d of ['upper', 'work']) mkdirSync(join(dir, d));
    mountOverlay({ lowers: img.layers.map((l) => l.dir), upper: join(dir, 'upper'), work: join(dir, 'work'), target: merged });
  }
  return execFileSync('unshare', ['--mount', '--pid', '--ipc', '--fork', `--mount-proc=${join(merged, 'proc')}`, 'chroot', merged, '/bin/sh', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm' },
  });
}

function expectCommonRootfs(layer: string): void {
  expect(readFileSync(join(layer, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh$/m);
  expect(readFileSync(join(layer, 'etc/passwd'), 'utf8')).toMatch(/^learner:x:1000:1000:/m);
  expect(readFileSync(join(layer, 'etc/passwd'), 'utf8')).toMatch(/^nobody:x:65534:65534:/m);
  expect(readFileSync(join(layer, 'etc/os-release'), 'utf8')).toContain('NAME="Glassbox base"');
  expect(readFileSync(join(layer, 'etc/profile'), 'utf8')).toContain('\\u@\\h');
  for (const f of ['etc/group', 'etc/hostname', 'etc/hosts']) expect(lstatSync(join(layer, f)).isFile(), f).toBe(true);
  expect(lstatSync(join(layer, 'tmp')).mode & 0o7777).toBe(0o1777);
  for (const d of ['proc', 'sys', 'dev', 'root', 'home/learner', 'var', 'run', 'mnt']) expect(lstatSync(join(layer, d)).isDirectory(), d).toBe(true);
}

/** What the lessons type: each must be there and run. */
const LESSONS = 'for t in ps hostname id mount ip free top uptime dd ipcs ipcmk sleep kill cat; do command -v $t >/dev/null || echo "missing $t"; done; ' +
  'hostname && ip addr | grep -c "lo" && free | head -1 && uptime && dd if=/etc/passwd of=/tmp/z 2>&1 | grep -c records && ipcs -m | head -2 && ipcmk -Q | grep -c "Message queue id" && ' +
  'sleep 0.1 & kill $! && echo killed; cat /proc/self/status | grep -m1 ^Name; mount -t tmpfs none /mnt; echo mount-ok';

describe('base image', () => {
  it('from busybox: busybox plus a symlink per applet, and a working shell with ps', async () => {
    const store = new ImageStore(join(dir, 'state'));
    await ensureBaseImage(store, { source: 'busybox' });
    const img = store.resolve('base');
    expect(img.ref).toBe('base:latest');
    expect(img.config.config).toMatchObject({ Cmd: ['/bin/sh'], WorkingDir: '/' });
    expect(img.config.config?.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(img.config.history?.[0].created_by).toMatch(/^glassbox base: busybox/);
    const layer = img.layers[0].dir;
    expect(lstatSync(join(layer, 'bin/busybox')).mode & 0o111).not.toBe(0);
    expect(readlinkSync(join(layer, 'usr/bin/wc'))).toBe('/bin/busybox');
    expect(readlinkSync(join(layer, 'bin/sh'))).toBe('/bin/busybox');
    expectCommonRootfs(layer);
    const out = runIn(store, 'ls / && id && ps');
    expect(out).toMatch(/^bin$/m);
    expect(out).toContain('uid=0(root) gid=0(root)');
    expect(out).toMatch(/PID\s+USER/);
    const lessons = runIn(store, LESSONS, false);
    expect(lessons).not.toContain('missing');
    expect(lessons).toContain('killed');
    expect(lessons).toMatch(/^Name:\s+cat$/m);
    expect(lessons).toContain('mount-ok');
  });

  it('from host binaries: the programs with their libraries and loader; ps and top work', async () => {
    const store = new ImageStore(join(dir, 'state'));
    await ensureBaseImage(store, { source: 'host' });
    const img = store.resolve('base');
    expect(img.config.history?.[0].created_by).toMatch(/^glassbox base: host binaries/);
    expectCommonRootfs(img.layers[0].dir);
    const out = runIn(store, 'ls / && id && ps && top -b -n 1 | head -1 && bash -c "echo bash-ok"');
    expect(out).toMatch(/^etc$/m);
    expect(out).toContain('uid=0(root) gid=0(root)');
    expect(out).toMatch(/PID\s+TTY/);
    expect(out).toMatch(/^top - /m);
    expect(out).toContain('bash-ok');
    const lessons = runIn(store, LESSONS, false);
    expect(lessons).not.toContain('missing');
    expect(lessons).toContain('killed');
  });

  it("finds a program's loader and libraries from its ELF headers, as ldd does", () => {
    const ps = realpathSync('/usr/bin/ps');
    const libs = sharedLibraryClosure(ps)!;
    const elf = readElf(ps)!;
    expect(libs[0]).toBe(elf.interp);
    expect(libs.some((l) => /libproc/.test(l))).toBe(true);
    const ldd = [...execFileSync('ldd', [ps], { encoding: 'utf8' }).matchAll(/(\/\S+)\s+\(/g)].map((m) => realpathSync(m[1]));
    expect(new Set(libs.map((l) => realpathSync(l)))).toEqual(new Set(ldd));
    expect(sharedLibraryClosure('/etc/passwd')).toBeNull();
    if (existsSync('/bin/busybox')) expect(sharedLibraryClosure('/bin/busybox')).toEqual([]); // static
  });

  it('is built once and is deterministic', async () => {
    const one = new ImageStore(join(dir, 'a'));
    const two = new ImageStore(join(dir, 'b'));
    await ensureBaseImage(one);
    await ensureBaseImage(two);
    const id = one.resolve('base').id;
    expect(two.resolve('base').id).toBe(id);
    await ensureBaseImage(one, { source: 'host' }); // base:latest exists: nothing happens
    expect(one.resolve('base').id).toBe(id);
  });
});
