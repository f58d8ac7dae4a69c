// The volume store and a container's volumes, on plain directories (no mounts, no user namespace):
// names, the local driver's options refused by name, the mounts a create gets, copy-up from a root
// whose VOLUME path is a symlink out of it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordStore } from '../../server/engine/containers/record-store.js';
import type { ContainerRecord } from '../../server/engine/types.js';
import { prepareVolumes, resolveVolumeMounts } from '../../server/engine/volumes/container-volumes.js';
import { VolumeStore } from '../../server/engine/volumes/store.js';

let dir = '';
let store: VolumeStore;
let records: RecordStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'volume-unit-'));
  store = new VolumeStore(dir);
  mkdirSync(join(dir, 'containers'));
  records = new RecordStore(join(dir, 'containers'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the volume store', () => {
  it('creates, finds, refuses what the local driver here does not do, removes', () => {
    const { volume, created } = store.create({ name: 'data', labels: { a: 'b' } });
    expect(created).toBe(true);
    expect(volume).toMatchObject({ name: 'data', driver: 'local', anonymous: false, labels: { a: 'b' }, mountpoint: join(dir, 'volumes', 'data', '_data') });
    expect(store.create({ name: 'data' }).created).toBe(false);
    expect(statSync(join(dir, 'volumes')).mode & 0o777).toBe(0o700);
    expect(() => store.create({ name: 'x', driver: 'nfs' })).toThrow(/volume driver "nfs" is not available/);
    expect(() => store.create({ name: 'x', options: { device: '/dev/sda' } })).toThrow(/volume option "device" is not supported/);
    for (const bad of ['../x', 'a/b', '.hidden', 'x']) expect(() => store.create({ name: bad })).toThrow(/invalid characters/);
    expect(store.list().map((v) => v.name)).toEqual(['data']);
    expect(() => store.get('nope')).toThrow(/no such volume/);
    store.remove('data');
    expect(store.list()).toEqual([]);
  });

  it("gives a create its mounts: its own, the image's VOLUMEs as anonymous ones, owner-labelled", () => {
    const r = resolveVolumeMounts(store, records, { image: 'base', labels: { 'glassbox.owner': 'lrn1' }, mounts: [{ type: 'volume', source: 'lrn1-db', target: '/db' }] }, ['/db/', '/cache']);
    expect(r.mounts).toHaveLength(2);
    expect(r.mounts[0]).toEqual({ type: 'volume', source: 'lrn1-db', target: '/db' });
    expect(r.mounts[1].source).toMatch(/^lrn1-[0-9a-f]{64}$/);
    expect(r.made.sort()).toEqual(['lrn1-db', r.mounts[1].source].sort());
    for (const n of r.made) expect(store.get(n).labels['glassbox.owner']).toBe('lrn1');
    expect(store.get(r.mounts[1].source!).anonymous).toBe(true);
    expect(() => resolveVolumeMounts(store, records, { image: 'base' }, ['relative'])).toThrow(/VOLUME "relative"/);
    for (const n of r.made) store.remove(n);
  });

  it('copy-up: the directory found inside the root, never through a link out of it', async () => {
    const rootfs = join(dir, 'rootfs');
    const outside = join(dir, 'outside');
    mkdirSync(join(rootfs, 'srv', 'data'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'host\n');
    writeFileSync(join(rootfs, 'srv', 'data', 'seed'), 'seed\n');
    symlinkSync('/srv/data', join(rootfs, 'data')); // inside the root: followed there
    symlinkSync(outside, join(rootfs, 'evil')); // the host's path: missing inside the root
    symlinkSync(`../../../../../../..${outside}`, join(rootfs, 'evil2'));
    for (const n of ['a', 'b', 'c']) store.create({ name: `cu-${n}` });
    const rec = { paths: { rootfs }, config: { image: 'x', mounts: [{ type: 'volume', source: 'cu-a', target: '/data' }, { type: 'volume', source: 'cu-b', target: '/evil' }, { type: 'volume', source: 'cu-c', target: '/evil2' }] } } as unknown as ContainerRecord;
    const p = await prepareVolumes(store, rec, { containerDir: dir, userns: null });
    expect(readFileSync(join(store.dataDir('cu-a'), 'seed'), 'utf8')).toBe('seed\n');
    expect(readdirSync(store.dataDir('cu-b'))).toEqual([]);
    expect(readdirSync(store.dataDir('cu-c'))).toEqual([]);
    expect(p.sources).toEqual({ 'cu-a': store.dataDir('cu-a'), 'cu-b': store.dataDir('cu-b'), 'cu-c': store.dataDir('cu-c') });
    expect(p.steps.map((s) => s.step)).toEqual(['volume-copy-up']);
    p.release();
  });
});
