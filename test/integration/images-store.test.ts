// The content store on disk: blobs by digest, layers unpacked once and shared, references,
// removal with gc, and blobs checked against their digest on every read.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageStore } from '../../server/engine/images/store.js';
import { Conflict, InvalidArgument, NotFound } from '../../server/engine/types.js';
import { makeTar } from './layer-tar.js';

let root: string;
let store: ImageStore;
beforeEach(() => {
  root = mkdtempSync('/tmp/gbis-');
  store = new ImageStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const sharedTar = () => makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', data: 'hello\n' }]);
const free = { isInUse: () => false };

describe('image store', () => {
  it('adds an image as OCI blobs with each layer unpacked under images/', async () => {
    const img = await store.addImage({ ref: 'demo', layers: [await sharedTar()], config: { config: { Cmd: ['/bin/sh'] }, history: [{ created_by: 'one' }] } });
    expect(img.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(img.ref).toBe('demo:latest');
    expect(img.config.rootfs.diff_ids).toEqual([img.layers[0].diffId]);
    expect(img.config.config?.Cmd).toEqual(['/bin/sh']);
    expect(img.layers[0]).toMatchObject({ dir: join(root, 'images/layers/sha256', img.layers[0].diffId.slice(7)), createdBy: 'one' });
    expect(readFileSync(join(img.layers[0].dir, 'etc/motd'), 'utf8')).toBe('hello\n');
    const blobs = readdirSync(join(root, 'images/blobs/sha256'));
    for (const d of [img.id, img.manifestDigest, img.layers[0].diffId]) expect(blobs).toContain(d.slice(7));
    expect(JSON.parse(readFileSync(join(root, 'images/repositories.json'), 'utf8'))).toEqual({ 'demo:latest': img.manifestDigest });
    // a fresh store on the same root sees it
    expect(new ImageStore(root).resolve('demo').id).toBe(img.id);
  });

  it('resolves by name, name:tag, full id and unique id prefix; rejects bad references', async () => {
    const img = await store.addImage({ ref: 'base:latest', layers: [await sharedTar()], config: {} });
    for (const r of ['base', 'base:latest', img.id, img.id.slice(7), img.id.slice(7, 19), img.id.slice(0, 12)]) expect(store.resolve(r).id, r).toBe(img.id);
    expect(() => store.resolve('base:other')).toThrow(NotFound);
    expect(() => store.resolve('missing')).toThrow('No such image: missing');
    for (const bad of ['Bad', 'a b', 'x:', ':tag', 'a//b']) expect(() => store.tag('base', bad), bad).toThrow(InvalidArgument);
  });

  it('shares a layer between images and collects it with the last image that uses it', async () => {
    const a = await store.addImage({ ref: 'demo/a:1', layers: [await sharedTar(), await makeTar([{ name: 'app', data: 'v1' }])], config: {} });
    const b = await store.addImage({ ref: 'demo/b', layers: [await sharedTar()], config: {} });
    expect(a.layers[0].dir).toBe(b.layers[0].dir);
    expect(readdirSync(join(root, 'images/layers/sha256'))).toHaveLength(2);
    store.tag('demo/a:1', 'demo/a:stable');
    const listed = store.list();
    expect(listed).toHaveLength(2);
    expect(listed.find((i) => i.id === a.id)).toMatchObject({ repoTags: ['demo/a:1', 'demo/a:stable'], layers: 2 });
    expect(store.inspect('demo/a:stable')).toMatchObject({ id: a.id, manifestDigest: a.manifestDigest, layerDetails: a.layers });

    expect(() => store.remove(a.id, free)).toThrow(Conflict); // an id with two tags needs force
    expect(store.remove('demo/a:stable', free)).toEqual({ untagged: ['demo/a:stable'], deleted: [] });
    expect(store.remove('demo/a:1', free)).toEqual({ untagged: ['demo/a:1'], deleted: [a.id] });
    expect(existsSync(a.layers[1].dir)).toBe(false);
    expect(existsSync(store.blobPath(a.id))).toBe(false);
    expect(existsSync(store.blobPath(a.manifestDigest))).toBe(false);
    expect(existsSync(b.layers[0].dir)).toBe(true); // demo/b still uses it
    expect(store.remove(b.id, free).deleted).toEqual([b.id]);
    expect(readdirSync(join(root, 'images/layers/sha256'))).toEqual([]);
    expect(readdirSync(join(root, 'images/blobs/sha256'))).toEqual([]);
  });

  it('refuses to remove an image in use; forced, it stays untagged (dangling) until removed by id', async () => {
    const img = await store.addImage({ ref: 'busy', layers: [await sharedTar()], config: {} });
    const inUse = { isInUse: (id: string) => id === img.id };
    expect(() => store.remove('busy', inUse)).toThrow(/container is using/);
    expect(store.remove('busy', { ...inUse, force: true })).toEqual({ untagged: ['busy:latest'], deleted: [] });
    expect(() => store.resolve('busy')).toThrow(NotFound);
    expect(store.resolve(img.id).layers[0].dir).toBe(img.layers[0].dir); // the container can still start
    expect(store.list()).toMatchObject([{ id: img.id, repoTags: [] }]);
    // once the container is gone it stays a dangling <none>:<none> image, as in Docker (another
    // removal does not take it), until an rmi of its id (or a prune) removes it
    await store.addImage({ ref: 'other', layers: [await makeTar([{ name: 'o', data: 'o' }])], config: {} });
    store.remove('other', free);
    expect(store.list()).toMatchObject([{ id: img.id, repoTags: [] }]);
    expect(store.remove(img.id, free).deleted).toEqual([img.id]);
    expect(store.list()).toEqual([]);
    expect(existsSync(img.layers[0].dir)).toBe(false);
  });

  it('detects a corrupted blob on read', async () => {
    const img = await store.addImage({ ref: 'x', layers: [await sharedTar()], config: {} });
    writeFileSync(store.blobPath(img.id), '{"tampered":true}');
    expect(() => store.resolve('x')).toThrow(/corrupted/);
  });

  it('takes layers as files too, and verify() catches a corrupted or truncated layer blob', async () => {
    const file = join(root, 'layer.tar');
    writeFileSync(file, await sharedTar());
    const fromFile = await store.addImage({ ref: 'from-file', layers: [file], config: {} });
    const fromBuf = await store.addImage({ ref: 'from-buffer', layers: [await sharedTar()], config: {} });
    expect(fromFile.layers[0].diffId).toBe(fromBuf.layers[0].diffId); // same bytes, same layer
    expect(fromFile.layers[0].size).toBe(readFileSync(file).length);
    expect(readdirSync(join(root, 'images/tmp'))).toEqual([]);
    await expect(store.verify('from-file')).resolves.toBeUndefined();
    const blob = store.blobPath(fromFile.layers[0].diffId);
    const good = readFileSync(blob);
    writeFileSync(blob, Buffer.concat([good.subarray(0, 100), Buffer.from('X'), good.subarray(101)]));
    await expect(store.verify('from-file')).rejects.toThrow(/corrupted: its content has digest/);
    writeFileSync(blob, good.subarray(0, 512));
    await expect(store.verify('from-file')).rejects.toThrow(/512 bytes where its descriptor says/);
    await expect(store.addImage({ ref: 'nofile', layers: [join(root, 'missing.tar')], config: {} })).rejects.toThrow(InvalidArgument);
  });

  it('sweeps work a killed server left in tmp/ and half-made shifted copies', () => {
    mkdirSync(join(root, 'images/tmp/unpack-dead/etc'), { recursive: true });
    writeFileSync(join(root, 'images/tmp/ingest-dead'), 'x');
    mkdirSync(join(root, 'images/layers-shifted/100000-100000/sha256/.tmp-dead'), { recursive: true });
    expect(store.sweepTmp()).toBe(3);
    expect(readdirSync(join(root, 'images/tmp'))).toEqual([]);
    expect(readdirSync(join(root, 'images/layers-shifted/100000-100000/sha256'))).toEqual([]);
  });

  it('stores nothing for an image whose layer is rejected', async () => {
    const bad = await makeTar([{ name: '../escape', data: 'x' }]);
    await expect(store.addImage({ ref: 'bad', layers: [bad], config: {} })).rejects.toThrow(/climbs out/);
    writeFileSync(join(root, 'bad.tar'), bad);
    await expect(store.addImage({ ref: 'bad', layers: [join(root, 'bad.tar')], config: {} })).rejects.toThrow(/climbs out/);
    expect(readdirSync(join(root, 'images/tmp'))).toEqual([]);
    expect(readdirSync(join(root, 'images/blobs/sha256'))).toEqual([]);
    expect(readdirSync(join(root, 'images/layers/sha256'))).toEqual([]);
    expect(() => store.resolve('bad')).toThrow(NotFound);
    const small = new ImageStore(root, { unpackLimits: { maxBytes: 3 } });
    expect(small.unpackLimits.maxEntries).toBe(1_000_000);
    await expect(small.addImage({ ref: 'big', layers: [await sharedTar()], config: {} })).rejects.toThrow(/more than 3 bytes/);
    expect(readdirSync(join(root, 'images/layers/sha256'))).toEqual([]);
  });
});
