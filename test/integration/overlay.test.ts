// OverlayFS on the real kernel: two image layers under a container layer, what a write, a delete
// and a rm -rf + mkdir leave in the upper dir, how listChanges reads it, and uid-shifted copies.
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lgetxattr } from '../../native/libc.js';
import { ImageStore, type ResolvedImage } from '../../server/engine/images/store.js';
import { listChanges } from '../../server/engine/rootfs/changes.js';
import { isMounted, mountOverlay, overlayOptions, prepareContainerLayer, unmountOverlay, unmountOverlayAsync } from '../../server/engine/rootfs/overlay.js';
import { shiftedLayerDir } from '../../server/engine/rootfs/shift.js';
import { makeTar } from './layer-tar.js';

let dir: string;
let store: ImageStore;
let img: ResolvedImage;
const mounts: string[] = [];

beforeEach(async () => {
  dir = mkdtempSync('/tmp/gbo-');
  store = new ImageStore(join(dir, 'state'));
  const bottom = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/big.log', data: 'x'.repeat(100_000) },
    { name: 'etc/gone', data: 'bye' },
    { name: 'etc/keep', data: 'bottom' },
    { name: 'cache/', type: 'directory' },
    { name: 'cache/old', data: 'old' },
    { name: 'home/', type: 'directory' },
    { name: 'home/learner/', type: 'directory', uid: 1000, gid: 1000 },
    { name: 'home/learner/notes', data: 'n', uid: 1000, gid: 1000 },
    { name: 'bin/', type: 'directory' },
    { name: 'bin/su', data: 'su', mode: 0o4755 },
    { name: 'bin/su-link', type: 'link', linkname: 'bin/su' },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
  ]);
  const top = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/keep', data: 'top layer' },
    { name: 'etc/.wh.gone-too' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/.wh..wh..opq' },
    { name: 'opt/tool', data: 't' },
  ]);
  img = await store.addImage({ ref: 'two', layers: [bottom, top], config: {} });
});

afterEach(() => {
  const errors: unknown[] = [];
  for (const m of mounts.splice(0)) {
    try {
      unmountOverlay(m);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 0) rmSync(dir, { recursive: true, force: true }); // never rm -rf through a live mount
  if (errors.length) throw errors[0];
});

function mountContainer(lowers: string[], name = 'c1'): { merged: string; upper: string } {
  const cdir = join(dir, name);
  mkdirSync(cdir);
  const { upper, work } = prepareContainerLayer(cdir);
  const merged = join(cdir, 'merged rootfs'); // a space: mountinfo escapes it as \040
  mountOverlay({ lowers, upper, work, target: merged });
  mounts.push(merged);
  return { merged, upper };
}

describe('overlay', () => {
  it('stacks two layers, top over bottom; unmounts cleanly, also when not mounted', () => {
    const { merged } = mountContainer(img.layers.map((l) => l.dir));
    expect(isMounted(merged)).toBe(true);
    expect(readFileSync(join(merged, 'etc/keep'), 'utf8')).toBe('top layer');
    expect(readFileSync(join(merged, 'etc/big.log'), 'utf8')).toHaveLength(100_000);
    expect(readFileSync(join(merged, 'opt/tool'), 'utf8')).toBe('t');
    symlinkSync(join(dir, 'c1'), join(dir, 'via-link'));
    expect(isMounted(join(dir, 'via-link', 'merged rootfs'))).toBe(true); // the same mount through a symlink
    unmountOverlay(merged);
    expect(isMounted(merged)).toBe(false);
    expect(() => unmountOverlay(merged)).not.toThrow();
  });

  it('unmounts off the event loop: mounted, busy, not mounted and missing all end unmounted', async () => {
    const { merged } = mountContainer(img.layers.map((l) => l.dir), 'c-async');
    await unmountOverlayAsync(merged);
    expect(isMounted(merged)).toBe(false);
    await expect(unmountOverlayAsync(merged)).resolves.toBeUndefined(); // EINVAL: not a mount point
    await expect(unmountOverlayAsync(join(dir, 'no-such-dir'))).resolves.toBeUndefined(); // ENOENT
    const busy = mountContainer(img.layers.map((l) => l.dir), 'c-async-busy').merged;
    const holder = spawn('sleep', ['30'], { cwd: busy, stdio: 'ignore' });
    await new Promise((r) => holder.once('spawn', r));
    try {
      await unmountOverlayAsync(busy); // EBUSY on the worker, then detached here
      expect(isMounted(busy)).toBe(false);
    } finally {
      holder.kill();
    }
  });

  it('detaches a busy mount', async () => {
    const { merged } = mountContainer(img.layers.map((l) => l.dir));
    const holder = spawn('sleep', ['30'], { cwd: merged, stdio: 'ignore' });
    await new Promise((r) => holder.once('spawn', r));
    try {
      unmountOverlay(merged);
      expect(isMounted(merged)).toBe(false);
    } finally {
      holder.kill();
    }
  });

  it('records copy-up, new files, deletes and opaque dirs in the upper dir; listChanges reads them', () => {
    const lowers = img.layers.map((l) => l.dir);
    const { merged, upper } = mountContainer(lowers);
    execFileSync('sh', ['-c', 'echo more >> etc/big.log && echo new > etc/new && rm etc/gone && rm -rf cache && mkdir cache && echo fresh > cache/new && mkdir newdir && touch newdir/f'], { cwd: merged });
    // a one-line append copied the whole file up
    expect(lstatSync(join(upper, 'etc/big.log')).size).toBe(100_005);
    const wh = lstatSync(join(upper, 'etc/gone'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(lgetxattr(join(upper, 'cache'), 'trusted.overlay.opaque')?.toString()).toBe('y');

    expect(listChanges(upper, lowers)).toEqual([
      { path: '/cache', kind: 'opaque', isDir: true },
      { path: '/cache/new', kind: 'added', size: 6 },
      { path: '/etc', kind: 'modified', isDir: true },
      { path: '/etc/big.log', kind: 'modified', size: 100_005, lowerSize: 100_000 },
      { path: '/etc/gone', kind: 'deleted', lowerSize: 3 },
      { path: '/etc/new', kind: 'added', size: 4 },
      { path: '/newdir', kind: 'added', isDir: true },
      { path: '/newdir/f', kind: 'added', size: 0 },
    ]);
  });

  it('sizes a modified file against the topmost lower copy, and sees through lower whiteouts and opaque dirs', () => {
    const lowers = img.layers.map((l) => l.dir);
    const { merged, upper } = mountContainer(lowers);
    execFileSync('sh', ['-c', 'echo changed > etc/keep && echo again > etc/gone-too && mkdir -p opt && echo 1 > opt/x'], { cwd: merged });
    const changes = listChanges(upper, lowers);
    expect(changes.find((c) => c.path === '/etc/keep')).toEqual({ path: '/etc/keep', kind: 'modified', size: 8, lowerSize: 9 });
    expect(changes.find((c) => c.path === '/etc/gone-too')?.kind).toBe('added'); // the top layer deleted it
    expect(changes.find((c) => c.path === '/opt/x')?.kind).toBe('added');
  });

  it('mounts more layers than one page of options holds (named by descriptor), and paths with , and :', () => {
    const many: string[] = [];
    for (let i = 0; i < 60; i++) {
      const l = join(dir, 'layers-many', `layer-${String(i).padStart(2, '0')}-${'x'.repeat(80)}`);
      mkdirSync(l, { recursive: true });
      writeFileSync(join(l, `f${i}`), String(i));
      writeFileSync(join(l, 'top'), String(i));
      many.push(l);
    }
    expect(overlayOptions({ lowers: many, upper: 'u', work: 'w' }).length).toBeGreaterThan(4096);
    const { merged } = mountContainer(many, 'many');
    expect(readFileSync(join(merged, 'f0'), 'utf8')).toBe('0');
    expect(readFileSync(join(merged, 'f59'), 'utf8')).toBe('59');
    expect(readFileSync(join(merged, 'top'), 'utf8')).toBe('59'); // the last listed is the top

    const odd = join(dir, 'odd,name:with colon');
    mkdirSync(join(odd, 'low'), { recursive: true });
    writeFileSync(join(odd, 'low', 'hello'), 'hi');
    const { merged: m2 } = mountContainer([join(odd, 'low')], 'odd,c:2');
    expect(readFileSync(join(m2, 'hello'), 'utf8')).toBe('hi');
  });

  it('prepares the container layer, owned by the shifted root when asked', () => {
    const cdir = join(dir, 'c2');
    mkdirSync(cdir);
    const { upper, work, merged } = prepareContainerLayer(cdir, { uidShift: 100000 });
    expect(merged).toBe(join(cdir, 'merged'));
    expect(lstatSync(merged)).toMatchObject({ uid: 100000, gid: 100000 });
    expect(lstatSync(upper)).toMatchObject({ uid: 100000, gid: 100000 });
    expect(lstatSync(upper).mode & 0o777).toBe(0o755);
    expect(lstatSync(work).mode & 0o777).toBe(0o700);
  });
});

describe('uid-shifted layers', () => {
  it('copies each layer once with owners moved up, keeping modes, links, whiteouts and opaque dirs', async () => {
    const [bottom, top] = await Promise.all(img.layers.map((l) => shiftedLayerDir(store, l.diffId, 100000, 100000)));
    expect(bottom).toBe(join(store.root, 'images/layers-shifted/100000-100000/sha256', img.layers[0].diffId.slice(7)));
    expect(lstatSync(join(bottom, 'etc/keep'))).toMatchObject({ uid: 100000, gid: 100000 });
    expect(lstatSync(join(bottom, 'home/learner/notes'))).toMatchObject({ uid: 101000, gid: 101000 });
    expect(lstatSync(join(bottom, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(bottom, 'bin/su-link')).ino).toBe(lstatSync(join(bottom, 'bin/su')).ino);
    expect(lstatSync(join(bottom, 'bin/sh')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(bottom, 'bin/sh')).uid).toBe(100000);
    expect(lstatSync(join(bottom, 'etc/big.log')).mtimeMs).toBe(lstatSync(join(img.layers[0].dir, 'etc/big.log')).mtimeMs);
    const wh = lstatSync(join(top, 'etc/gone-too'));
    expect(wh.isCharacterDevice() && wh.rdev === 0 && wh.uid === 100000).toBe(true);
    expect(lgetxattr(join(top, 'opt'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(lstatSync(img.layers[0].dir + '/etc/keep').uid).toBe(0); // the original is untouched
    expect(await shiftedLayerDir(store, img.layers[0].diffId, 100000, 100000)).toBe(bottom); // made once

    // and it mounts like the original
    const { merged } = mountContainer([bottom, top], 'shifted');
    expect(readFileSync(join(merged, 'etc/keep'), 'utf8')).toBe('top layer');
    expect(lstatSync(join(merged, 'home/learner')).uid).toBe(101000);
  });
});
