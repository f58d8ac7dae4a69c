// The content store, the base image (both ways of building it), overlay mounts with their
// container-layer changes, uid-shifted layers, and unpacking that refuses to escape its directory.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../server/engine/images/store.js';
import { ensureBaseImage } from '../../server/engine/images/base.js';
import { unpackLayer } from '../../server/engine/images/unpack.js';
import { isMounted, mountOverlay, unmountOverlay } from '../../server/engine/rootfs/overlay.js';
import { listChanges } from '../../server/engine/rootfs/changes.js';
import { shiftedLayerDir } from '../../server/engine/rootfs/shift.js';
import { lgetxattr } from '../../native/libc.js';

type TarEntry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device'; data?: string; linkname?: string; mode?: number; uid?: number; gid?: number; devmajor?: number; devminor?: number };

async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    const { data, ...h } = e;
    const header = { type: 'file' as const, mode: 0o644, mtime: new Date(0), ...h };
    if (!h.type || h.type === 'file') pack.entry(header, data ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

let base: string;
const mounts: string[] = [];

beforeAll(() => {
  base = mkdtempSync('/tmp/gbi-');
  chmodSync(base, 0o711);
});
afterEach(() => {
  for (const m of mounts.splice(0)) unmountOverlay(m);
});
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('content store', () => {
  it('adds, resolves, tags, lists and removes images; layers are shared and collected', async () => {
    const store = new ImageStore(join(base, 'store1'));
    const shared = await makeTar([{ name: 'etc/', type: 'directory', mode: 0o755 }, { name: 'etc/motd', data: 'hello\n' }]);
    const top = await makeTar([{ name: 'app', data: 'v1\n', mode: 0o755 }]);
    const a = await store.addImage({ ref: 'demo/a:1', layers: [shared, top], config: { config: { Cmd: ['/app'] } }, history: [{ created_by: 'layer one' }, { created_by: 'layer two' }] });
    const b = await store.addImage({ ref: 'demo/b', layers: [shared], config: {} });
    expect(a.layers).toHaveLength(2);
    expect(a.layers[0].dir).toBe(b.layers[0].dir); // unpacked once, used by both
    expect(readFileSync(join(a.layers[0].dir, 'etc/motd'), 'utf8')).toBe('hello\n');
    expect(store.resolve('demo/a:1').id).toBe(a.id);
    expect(store.resolve(a.id.slice(7, 19)).id).toBe(a.id); // by a short id, as docker accepts
    expect(store.resolve('demo/b').ref).toBe('demo/b:latest');
    store.tag('demo/a:1', 'demo/a:stable');
    expect(store.list().find((i) => i.id === a.id)?.repoTags.sort()).toEqual(['demo/a:1', 'demo/a:stable']);
    expect(store.inspect('demo/a:1').history.map((h) => h.createdBy)).toEqual(['layer one', 'layer two']);
    expect(() => store.resolve('nope')).toThrow(/No such image: nope/);
    expect(() => store.tag('demo/a:1', 'Bad Name')).toThrow(/invalid reference format/);
    // in use → refused; untag one of two tags → nothing deleted
    expect(() => store.remove('demo/b', { isInUse: () => true })).toThrow(/container is using/);
    expect(store.remove('demo/a:stable', { isInUse: () => false })).toEqual({ untagged: ['demo/a:stable'], deleted: [] });
    // the last tag → the image and its own layer go, the shared layer stays for demo/b
    const r = store.remove('demo/a:1', { isInUse: () => false });
    expect(r.deleted).toEqual([a.id]);
    expect(existsSync(a.layers[1].dir)).toBe(false);
    expect(existsSync(b.layers[0].dir)).toBe(true);
  });

  it('notices a corrupted blob', async () => {
    const store = new ImageStore(join(base, 'store2'));
    const img = await store.addImage({ ref: 'x', layers: [await makeTar([{ name: 'f', data: '1' }])], config: {} });
    writeFileSync(store.blobPath(img.manifest.config.digest), '{"tampered":true}');
    expect(() => store.resolve('x')).toThrow(/corrupted/);
  });
});

describe('the base image', () => {
  for (const source of ['busybox', 'host'] as const) {
    it(`is a usable shell when built from ${source}`, async () => {
      const store = new ImageStore(join(base, `base-${source}`));
      await ensureBaseImage(store, { source });
      const img = store.resolve('base');
      expect(img.layers[0].createdBy).toContain(source === 'busybox' ? 'busybox' : 'host binaries');
      const dir = join(base, `m-${source}`);
      for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
      mountOverlay({ lowers: img.layers.map((l) => l.dir), upper: join(dir, 'upper'), work: join(dir, 'work'), target: join(dir, 'merged') });
      mounts.push(join(dir, 'merged'));
      const out = execFileSync('chroot', [join(dir, 'merged'), '/bin/sh', '-c', 'ls / && id && hostname -h >/dev/null 2>&1; echo ok; cat /etc/os-release | head -1'], { encoding: 'utf8' });
      expect(out).toMatch(/bin\n/);
      expect(out).toMatch(/uid=0/);
      expect(out).toContain('ok');
      expect(out).toContain('Glassbox base');
      for (const tool of ['ps', 'hostname', 'mount', 'free', 'uptime', 'dd', 'ipcs', 'sleep', 'kill', 'top']) {
        expect(execFileSync('chroot', [join(dir, 'merged'), '/bin/sh', '-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), tool).not.toBe('');
      }
    }, 60_000);
  }

  it('is built once', async () => {
    const store = new ImageStore(join(base, 'base-busybox'));
    const before = store.resolve('base').id;
    await ensureBaseImage(store);
    expect(store.resolve('base').id).toBe(before);
  });
});

describe('overlay and the container layer', () => {
  it('shows added, copied-up (with size), deleted and opaque entries', async () => {
    const lower = join(base, 'ov-lower');
    await unpackLayer(
      await makeTar([
        { name: 'etc/', type: 'directory', mode: 0o755 },
        { name: 'etc/big.log', data: 'x'.repeat(100_000) },
        { name: 'etc/gone', data: 'bye' },
        { name: 'cache/', type: 'directory', mode: 0o755 },
        { name: 'cache/old', data: 'old' },
      ]),
      lower,
      join(base, 'tmp'),
    );
    const dir = join(base, 'ov');
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    const merged = join(dir, 'merged');
    mountOverlay({ lowers: [lower], upper: join(dir, 'upper'), work: join(dir, 'work'), target: merged });
    mounts.push(merged);
    expect(isMounted(merged)).toBe(true);
    execFileSync('sh', ['-c', `cd ${merged} && echo more >> etc/big.log && echo new > etc/new && rm etc/gone && rm -rf cache && mkdir cache && echo fresh > cache/new`]);
    const changes = listChanges(join(dir, 'upper'), [lower]);
    const by = (p: string) => changes.find((c) => c.path === p);
    expect(by('/etc/big.log')).toMatchObject({ kind: 'modified', size: 100_005, lowerSize: 100_000 }); // the whole file was copied up
    expect(by('/etc/new')).toMatchObject({ kind: 'added' });
    expect(by('/etc/gone')).toMatchObject({ kind: 'deleted' });
    expect(by('/cache')).toMatchObject({ kind: 'opaque' });
    expect(lstatSync(join(dir, 'upper', 'etc', 'gone')).isCharacterDevice()).toBe(true);
    unmountOverlay(merged);
    mounts.pop();
    expect(isMounted(merged)).toBe(false);
  });

  it('copies a layer shifted by a uid base, keeping whiteouts, modes and xattrs', async () => {
    const store = new ImageStore(join(base, 'store-shift'));
    const img = await store.addImage({
      ref: 'shift',
      config: {},
      layers: [
        await makeTar([
          { name: 'bin/', type: 'directory', mode: 0o755 },
          { name: 'bin/su', data: 'x', mode: 0o4755 },
          { name: 'home/', type: 'directory' },
          { name: 'home/u', data: 'mine', uid: 1000, gid: 1000 },
          { name: 'home/.wh.old' },
          { name: 'opt/.wh..wh..opq' },
        ]),
      ],
    });
    const dir = await shiftedLayerDir(store, img.layers[0].diffId, 100000, 100000);
    expect(lstatSync(join(dir, 'bin/su')).uid).toBe(100000);
    expect(lstatSync(join(dir, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(dir, 'home/u')).uid).toBe(101000);
    expect(lstatSync(join(dir, 'home/old')).isCharacterDevice()).toBe(true);
    expect(lgetxattr(join(dir, 'opt'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(await shiftedLayerDir(store, img.layers[0].diffId, 100000, 100000)).toBe(dir); // made once
  });
});

describe('unpacking refuses to leave its directory', () => {
  const cases: [string, TarEntry[], RegExp][] = [
    ['a path climbing out with ..', [{ name: '../escaped', data: 'x' }], /climbs out/],
    ['an absolute path', [{ name: '/tmp/escaped', data: 'x' }], /absolute path/],
    ['a write through a symlink', [{ name: 'a', type: 'symlink', linkname: '/tmp' }, { name: 'a/escaped', data: 'x' }], /through the symlink/],
    ['a symlinked parent directory', [{ name: 'd', type: 'symlink', linkname: '../..' }, { name: 'd/x/escaped', data: 'x' }], /through the symlink/],
    ['a hardlink to a file outside', [{ name: 'h', type: 'link', linkname: '/etc/passwd' }], /absolute path|not in this layer/],
    ['a device node', [{ name: 'sda', type: 'character-device', devmajor: 8, devminor: 0 }], /device node/],
  ];
  it.each(cases)('%s', async (_what, entries, message) => {
    const dest = join(base, `bad-${Math.random().toString(16).slice(2)}`);
    const tmp = join(base, 'tmp-bad');
    await expect(unpackLayer(await makeTar(entries), dest, tmp)).rejects.toThrow(message);
    expect(existsSync(dest)).toBe(false); // nothing half-made
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    expect(existsSync('/tmp/escaped')).toBe(false);
  });

  it('caps the number of entries', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: '' }));
    await expect(unpackLayer(await makeTar(entries), join(base, 'many'), join(base, 'tmp-many'), { maxEntries: 10, maxBytes: 1e9 })).rejects.toThrow(/more than 10 entries/);
    expect(existsSync(join(base, 'many'))).toBe(false);
  });

  it('keeps setuid with its owner, and turns whiteout markers into what overlayfs reads', async () => {
    const dest = join(base, 'good');
    await unpackLayer(
      await makeTar([
        { name: 'usr/bin/passwd', data: 'x', mode: 0o4755, uid: 0 },
        { name: 'var/', type: 'directory' },
        { name: 'var/.wh.cache' },
        { name: 'srv/.wh..wh..opq' },
        { name: 'usr/bin/passwd2', type: 'link', linkname: 'usr/bin/passwd' },
      ]),
      dest,
      join(base, 'tmp-good'),
    );
    expect(lstatSync(join(dest, 'usr/bin/passwd')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(dest, 'usr/bin/passwd2')).ino).toBe(lstatSync(join(dest, 'usr/bin/passwd')).ino);
    const wh = lstatSync(join(dest, 'var/cache'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(existsSync(join(dest, 'var/.wh.cache'))).toBe(false);
    expect(lgetxattr(join(dest, 'srv'), 'trusted.overlay.opaque')?.toString()).toBe('y');
  });
});
