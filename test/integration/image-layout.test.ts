// Images as files and back: OCI layout (dir and tar) and docker-save export/import with the same
// digests; a legacy docker-save tarball; hostile archives refused; an exported image unpacked by
// umoci and run by runc; docker commit of an upper dir (whiteouts, opaque dirs, setuid, links).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, createReadStream, createWriteStream, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lgetxattr, lsetxattr, mknod, S_IFCHR } from '../../native/libc.js';
import { tarUpperDir } from '../../server/engine/images/commit.js';
import { ImageService } from '../../server/engine/images/service.js';
import { ImageStore } from '../../server/engine/images/store.js';
import type { ContainerRecord, EngineEvent } from '../../server/engine/types.js';
import { buildImage, busyboxLayer, ensureTools, makeTar, sha256, writeOciLayout } from './image-fixtures.js';
import tar from 'tar-stream';

let base: string;
let app: Buffer;
let bb: Buffer;
const events: EngineEvent[] = [];

function service(name: string): ImageService {
  return new ImageService(new ImageStore(join(base, name)), {}, (e) => events.push(e));
}

function tmpLeft(svc: ImageService): string[] {
  return readdirSync(join(svc.store.dir, 'tmp'));
}

async function exportTo(svc: ImageService, ref: string, format: 'oci' | 'docker', file: string): Promise<void> {
  await svc.exportImage(ref, format, createWriteStream(file));
}

async function tarNames(file: string): Promise<string[]> {
  const names: string[] = [];
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      names.push(e.header.name);
      e.resume();
    }
  })();
  await pipeline(createReadStream(file), ex);
  await done;
  return names;
}

beforeAll(async () => {
  ensureTools({ umoci: 'umoci', runc: 'runc', zstd: 'zstd' });
  base = mkdtempSync('/tmp/gblay-');
  chmodSync(base, 0o711);
  bb = await busyboxLayer();
  app = await makeTar([
    { name: 'app/', type: 'directory', mode: 0o755 },
    { name: 'app/hello.txt', data: 'hello\n' },
  ]);
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('export and import round trips', () => {
  it('store-made image: OCI tar, docker-save tar and OCI dir all come back with the same digests', async () => {
    const a = service('rt-a');
    const img = await a.store.addImage({ ref: 'rt/app:v1', layers: [bb, app], config: { config: { Cmd: ['/bin/sh'] } }, history: [{ created_by: 'busybox' }, { created_by: 'app' }] });
    for (const format of ['oci', 'docker'] as const) {
      const file = join(base, `rt-${format}.tar`);
      await exportTo(a, 'rt/app:v1', format, file);
      const names = await tarNames(file);
      expect(names).toEqual(expect.arrayContaining(['oci-layout', 'index.json', `blobs/sha256/${img.manifestDigest.slice(7)}`, `blobs/sha256/${img.id.slice(7)}`]));
      expect(names.includes('manifest.json')).toBe(format === 'docker');
      const b = service(`rt-b-${format}`);
      const got = await b.importArchive(file);
      expect(got).toEqual([{ refs: ['rt/app:v1'], id: img.id, manifestDigest: img.manifestDigest }]);
      const back = b.store.resolve('rt/app:v1');
      expect(back.layers.map((l) => l.diffId)).toEqual(img.layers.map((l) => l.diffId));
      expect(readFileSync(join(back.layers[1].dir, 'app/hello.txt'), 'utf8')).toBe('hello\n');
      expect(tmpLeft(b)).toEqual([]);
    }
    // the docker-save part alone (a pre-25 docker reads only manifest.json) gives the same image too
    const file = join(base, 'rt-docker.tar');
    const x = join(base, 'rt-docker-x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', file, '-C', x]);
    const m = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8'));
    expect(m).toEqual([{ Config: `blobs/sha256/${img.id.slice(7)}`, RepoTags: ['rt/app:v1'], Layers: img.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }]);
    expect(JSON.parse(readFileSync(join(x, 'repositories'), 'utf8'))).toEqual({ 'rt/app': { v1: img.manifest.layers[1].digest.slice(7) } });
    rmSync(join(x, 'index.json'));
    const c = service('rt-c');
    const [legacy] = await c.importArchive(join(x));
    expect(legacy.id).toBe(img.id);
    expect(legacy.manifestDigest).toBe(img.manifestDigest); // the store's manifest form, rebuilt
    // and an OCI layout directory
    const d = service('rt-d');
    await a.exportImage('rt/app:v1', 'oci', { dir: join(base, 'rt-dir') });
    const [fromDir] = await d.importArchive(join(base, 'rt-dir'));
    expect(fromDir.manifestDigest).toBe(img.manifestDigest);
    expect(events.filter((e) => e.type === 'image' && e.action === 'load').length).toBeGreaterThanOrEqual(4);
  });

  it('gzip layers made elsewhere keep their blob digests through import → export → import', async () => {
    const built = buildImage({ layers: [bb, app] });
    const dir = join(base, 'gz-layout');
    writeOciLayout(dir, '1.0', { digest: built.manifestDigest, body: built.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, built.blobs);
    const a = service('gz-a');
    const [imp] = await a.importArchive(dir, { defaultName: 'example/gz' });
    expect(imp).toEqual({ refs: ['example/gz:1.0'], id: built.configDigest, manifestDigest: built.manifestDigest });
    const gzFile = join(base, 'gz.tar.gz');
    await exportTo(a, 'example/gz:1.0', 'oci', join(base, 'gz.tar'));
    execFileSync('sh', ['-c', `gzip -c ${join(base, 'gz.tar')} > ${gzFile}`]);
    const b = service('gz-b');
    const [again] = await b.importArchive(gzFile); // docker load takes gzip'd archives too
    expect(again.manifestDigest).toBe(built.manifestDigest);
    expect(b.store.resolve('example/gz:1.0').manifest.layers.map((l) => l.digest)).toEqual(JSON.parse(built.manifest.toString()).layers.map((l: { digest: string }) => l.digest));
  });

  it('a legacy docker-save tarball (<id>/layer.tar, a shared layer by symlink, RepoTags)', async () => {
    const cfg = (diffIds: string[]) => Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, history: [] }));
    const c1 = cfg([sha256(bb)]);
    const c2 = cfg([sha256(bb), sha256(app)]);
    const archive = await makeTar([
      { name: 'aaa/', type: 'directory', mode: 0o755 },
      { name: 'aaa/layer.tar', data: bb },
      { name: 'bbb/', type: 'directory', mode: 0o755 },
      { name: 'bbb/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' },
      { name: 'ccc/layer.tar', data: app },
      { name: `${sha256(c1).slice(7)}.json`, data: c1 },
      { name: `${sha256(c2).slice(7)}.json`, data: c2 },
      {
        name: 'manifest.json',
        data: JSON.stringify([
          { Config: `${sha256(c1).slice(7)}.json`, RepoTags: ['legacy/one:latest'], Layers: ['aaa/layer.tar'] },
          { Config: `${sha256(c2).slice(7)}.json`, RepoTags: ['legacy/two:1', 'docker.io/library/legacytwo:2'], Layers: ['bbb/layer.tar', 'ccc/layer.tar'] },
        ]),
      },
      { name: 'repositories', data: '{}' },
    ]);
    writeFileSync(join(base, 'legacy.tar'), archive);
    const s = service('legacy');
    const got = await s.importArchive(join(base, 'legacy.tar'));
    expect(got.map((g) => g.refs)).toEqual([['legacy/one:latest'], ['legacy/two:1', 'legacytwo:2']]);
    expect(got.map((g) => g.id)).toEqual([sha256(c1), sha256(c2)]);
    expect(s.store.resolve('legacytwo:2').layers[0].dir).toBe(s.store.resolve('legacy/one').layers[0].dir);
  });

  it("a docker-save stream (gzip'd) with a big plain layer: unpacked while it is read, nothing left in tmp", async () => {
    const c = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(bb)] }, history: [] }));
    expect(bb.length).toBeGreaterThan(1 << 20); // big enough to be unpacked on the way in
    const archive = await makeTar([
      { name: 'l/layer.tar', data: bb },
      { name: 'c.json', data: c },
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['streamed:1'], Layers: ['l/layer.tar'] }]) },
    ]);
    const s = service('streamed');
    const { gzipSync } = await import('node:zlib');
    const { Readable } = await import('node:stream');
    const got = await s.importArchive(Readable.from([gzipSync(archive)]));
    expect(got[0].refs).toEqual(['streamed:1']);
    const layer = s.store.resolve('streamed:1').layers[0].dir;
    expect(lstatSync(join(layer, 'bin', 'busybox')).isFile()).toBe(true);
    expect(s.store.hasBlob(sha256(bb))).toBe(true);
    expect(tmpLeft(s)).toEqual([]);
  });

  it('a big layer that is not its diff_id is refused, though it was unpacked on the way in, leaving nothing', async () => {
    const c = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256('another layer')] } }));
    const archive = await makeTar([
      { name: 'l.tar', data: bb },
      { name: 'c.json', data: c },
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['liar:1'], Layers: ['l.tar'] }]) },
    ]);
    const s = service('liar');
    const { Readable } = await import('node:stream');
    await expect(s.importArchive(Readable.from([archive]))).rejects.toThrow(/digest/);
    expect(readdirSync(join(s.store.dir, 'layers', 'sha256'))).toEqual([]);
    expect(s.store.list()).toEqual([]);
    expect(tmpLeft(s)).toEqual([]);
  });

  it.each([
    ['a path climbing out', [{ name: '../evil', data: 'x' }], /climbs out/],
    ['an absolute path', [{ name: '/tmp/evil', data: 'x' }], /absolute path/],
    ['a symlink out of the archive', [{ name: 'manifest.json', type: 'symlink' as const, linkname: '../../etc/passwd' }], /outside the archive/],
    ['a device node', [{ name: 'dev', type: 'character-device' as const, devmajor: 1, devminor: 3 }], /not a file/],
    ['no index.json or manifest.json', [{ name: 'hello', data: 'x' }], /not an image archive/],
    ['a blob whose content is not its name', [{ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('x'), size: 1, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }) }, { name: `blobs/sha256/${sha256('x').slice(7)}`, data: 'y' }], /does not match/],
    ['a docker-save layer that is not its diff_id', [{ name: 'c.json', data: JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256('nope')] } }) }, { name: 'l.tar', data: 'garbage' }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['bad:1'], Layers: ['l.tar'] }]) }], /rejected|digest/],
  ])('refuses an archive with %s, leaving nothing', async (_what, entries, msg) => {
    const s = service(`evil-${Math.random().toString(36).slice(2, 8)}`);
    const file = join(base, `evil-${Math.random().toString(36).slice(2, 8)}.tar`);
    writeFileSync(file, await makeTar(entries));
    await expect(s.importArchive(file)).rejects.toThrow(msg);
    expect(tmpLeft(s)).toEqual([]);
    expect(readdirSync(join(s.store.dir, 'layers', 'sha256'))).toEqual([]);
    expect(s.store.list()).toEqual([]);
    expect(existsSync('/tmp/evil')).toBe(false);
  });
});

describe('an image Glassbox exports runs under runc (bundle by umoci unpack)', () => {
  it('umoci unpack + runc run echo ok', async () => {
    const s = service('runc');
    await s.store.addImage({ ref: 'runme:v1', layers: [bb, app], config: { config: { Cmd: ['/bin/sh'] } } });
    const layout = join(base, 'runc-layout');
    await s.exportImage('runme:v1', 'oci', { dir: layout });
    const bundle = join(base, 'runc-bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, bundle], { stdio: 'pipe' });
    expect(readFileSync(join(bundle, 'rootfs/app/hello.txt'), 'utf8')).toBe('hello\n');
    const cfgPath = join(bundle, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.process.args = ['/bin/sh', '-c', 'cat /app/hello.txt; echo ok'];
    cfg.process.terminal = false;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const id = `gbtest-${process.pid}-${Date.now()}`;
    const runcRoot = join(base, 'runc-state');
    const r = spawnSync('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
    spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('hello\nok\n');
  });
});

describe('docker commit of an upper dir', () => {
  it('whiteouts, opaque dirs, setuid with owner, hardlinks and xattrs become a layer on top of the image, with history', async () => {
    const s = service('commit');
    const parent = await s.store.addImage({
      ref: 'parent:1',
      layers: [
        bb,
        await makeTar([
          { name: 'etc/', type: 'directory', mode: 0o755 },
          { name: 'etc/gone', data: 'deleted later\n' },
          { name: 'data/', type: 'directory', mode: 0o755 },
          { name: 'data/old', data: 'hidden by an opaque dir\n' },
        ]),
      ],
      config: { config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] } },
      history: [{ created_by: 'busybox' }, { created_by: 'files' }],
    });
    const upper = join(base, 'commit-upper');
    mkdirSync(join(upper, 'etc'), { recursive: true });
    mkdirSync(join(upper, 'data'));
    mkdirSync(join(upper, 'dev'));
    mknod(join(upper, 'etc/gone'), S_IFCHR, 0, 0); // what overlayfs leaves for a deleted file
    lsetxattr(join(upper, 'data'), 'trusted.overlay.opaque', Buffer.from('y'));
    writeFileSync(join(upper, 'data/new'), 'fresh\n');
    writeFileSync(join(upper, 'suid'), '#!/bin/sh\n');
    chownSync(join(upper, 'suid'), 100000 + 1000, 100000 + 1000); // shifted: uid 1000 inside
    chmodSync(join(upper, 'suid'), 0o4755);
    linkSync(join(upper, 'suid'), join(upper, 'suid-link'));
    lsetxattr(join(upper, 'data/new'), 'user.note', Buffer.from('kept'));
    mknod(join(upper, 'dev/null2'), S_IFCHR | 0o666, 1, 3); // a device the container made: left out
    const rec = {
      id: 'c0ffee'.padEnd(64, '0'),
      name: 'Builder_1',
      image: { ref: 'parent:1', id: parent.id },
      path: '/bin/sh',
      args: ['-c', 'make things'],
      config: { image: 'parent:1', uidMap: [{ containerId: 0, hostId: 100000, size: 65536 }], gidMap: [{ containerId: 0, hostId: 100000, size: 65536 }] },
      paths: { upper },
    } as unknown as ContainerRecord;
    const r = await s.commit(rec, { ref: 'committed:v2', comment: 'a lesson', author: 'learner', changes: { Cmd: ['/bin/echo', 'hi'] } });
    expect(r.skipped).toEqual(['/dev/null2']);
    expect(r.ref).toBe('committed:v2');
    const img = s.store.resolve('committed:v2');
    expect(img.id).toBe(r.id);
    expect(img.layers.map((l) => l.diffId)).toEqual([...parent.layers.map((l) => l.diffId), r.diffId]);
    expect(img.config.history?.at(-1)).toMatchObject({ created_by: '/bin/sh -c make things', comment: 'a lesson', author: 'learner' });
    expect(img.config.config?.Cmd).toEqual(['/bin/echo', 'hi']);
    expect(img.config.config?.Env).toEqual(['PATH=/bin']);
    expect(events.some((e) => e.type === 'image' && e.action === 'commit' && e.ref === 'committed:v2')).toBe(true);
    // the layer tar, as the image spec writes it
    const entries: Record<string, tar.Header> = {};
    const ex = tar.extract();
    const reading = (async () => {
      for await (const e of ex) {
        entries[e.header.name] = e.header;
        e.resume();
      }
    })();
    await pipeline(createReadStream(s.store.blobPath(r.diffId)), ex);
    await reading;
    expect(Object.keys(entries).sort()).toEqual(['data/', 'data/.wh..wh..opq', 'data/new', 'dev/', 'etc/', 'etc/.wh.gone', 'suid', 'suid-link']);
    expect(entries['suid']).toMatchObject({ uid: 1000, gid: 1000, mode: 0o4755 });
    expect(entries['suid-link']).toMatchObject({ type: 'link', linkname: 'suid' });
    expect((entries['data/new'].pax as Record<string, string>)['SCHILY.xattr.user.note']).toBe('kept');
    // unpacked for overlayfs again: whiteout device, opaque xattr, setuid kept after chown
    const top = img.layers.at(-1)!.dir;
    const wh = lstatSync(join(top, 'etc/gone'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(lgetxattr(join(top, 'data'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    const suid = lstatSync(join(top, 'suid'));
    expect([suid.uid, suid.mode & 0o7777]).toEqual([1000, 0o4755]);
    expect(lstatSync(join(top, 'suid-link')).ino).toBe(suid.ino);
    // the committed image runs under runc, and shows what the upper dir did
    const layout = join(base, 'commit-layout');
    await s.exportImage('committed:v2', 'oci', { dir: layout });
    const bundle = join(base, 'commit-bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:v2`, bundle], { stdio: 'pipe' });
    const cfg = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    cfg.process.args = ['/bin/sh', '-c', 'cat /data/new; ls /data; test -e /etc/gone || echo gone'];
    cfg.process.terminal = false;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(cfg));
    const id = `gbtest-c-${process.pid}-${Date.now()}`;
    const runcRoot = join(base, 'runc-state');
    const run = spawnSync('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
    spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id]);
    expect(run.stdout).toBe('fresh\nnew\ngone\n');
    // gc: removing the commit frees its layer and blobs, not the parent's
    s.store.remove('committed:v2', { isInUse: () => false });
    const g = s.gc();
    expect(existsSync(top)).toBe(false);
    expect(existsSync(parent.layers[0].dir)).toBe(true);
    expect(g.tmp).toBe(0);
  });

  it('tarUpperDir of an empty upper dir is an empty layer', async () => {
    const empty = join(base, 'empty-upper');
    mkdirSync(empty);
    const chunks: Buffer[] = [];
    const { Writable } = await import('node:stream');
    await tarUpperDir(empty, new Writable({ write: (c, _e, cb) => (chunks.push(c as Buffer), cb()) }));
    expect(Buffer.concat(chunks).length).toBe(1024);
  });
});
