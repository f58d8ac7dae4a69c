// The built-in base image, both ways: from busybox, and from the host's own binaries with their
// shared libraries. Each is mounted as an overlay and used as a root: a shell, ls, id and ps.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureBaseImage } from '../../server/engine/images/base.js';
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

/** Mount the image and run a script in it, with its own pid namespace and /proc (for ps). */
function runIn(store: ImageStore, script: string): string {
  const img = store.resolve('base');
  for (const d of ['upper', 'work']) mkdirSync(join(dir, d));
  mountOverlay({ lowers: img.layers.map((l) => l.dir), upper: join(dir, 'upper'), work: join(dir, 'work'), target: merged });
  return execFileSync('unshare', ['--mount', '--pid', '--fork', `--mount-proc=${join(merged, 'proc')}`, 'chroot', merged, '/bin/sh', '-c', script], {
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
