// A learner's volumes, files and housekeeping (issue 18 on issue 13's sandboxes): a learner's
// volumes are named <learner>-<name> and labelled theirs; another learner's volume, a teacher's
// volume and a host path are out of reach; --volumes-from takes only their own containers; the
// archive verbs reach only their own containers; a prune removes only what is theirs, and images
// (shared by the class) are neither pruned nor imported.
import { existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorKind, LearnerEngine, OWNER_LABEL } from '../../server/engine/index.js';
import { loopDevicesBackedBy } from '../../server/engine/rootfs/quota.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from '../integration/support.js';
import { makeTar } from '../integration/image-fixtures.js';

requireHost('learner volumes test', { root: true, commands: ['ip', 'iptables'] });

let env: TestEnv;
let a: LearnerEngine;
let b: LearnerEngine;

const policy = (learnerId: string, from: number) => ({ learnerId, ports: { from, to: from + 9 }, maxContainers: 4 });

const kindOf = async (fn: () => unknown): Promise<string> => {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return errorKind(e);
  }
};

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  a = new LearnerEngine(env.engine, policy('lrnva', 20300));
  b = new LearnerEngine(env.engine, policy('lrnvb', 20400));
}, 120_000);

afterAll(async () => {
  if (!env) return;
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
  for (const v of env.engine.listVolumes()) env.engine.removeVolume(v.name);
  for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id);
  await env.cleanup();
});

describe("a learner's volumes", () => {
  it('are named and labelled theirs, and nobody else reaches them', async () => {
    const v = a.createVolume({ name: 'data' });
    expect(v.name).toBe('lrnva-data');
    expect(v.labels[OWNER_LABEL]).toBe('lrnva');
    expect(a.inspectVolume('data').name).toBe('lrnva-data');
    expect(a.listVolumes().map((x) => x.name)).toEqual(['lrnva-data']);
    for (const key of ['data', 'lrnva-data']) {
      expect(await kindOf(() => b.inspectVolume(key))).toBe('not-found');
      expect(await kindOf(() => b.removeVolume(key))).toBe('not-found');
    }
    expect(b.listVolumes()).toEqual([]);
    expect(await kindOf(() => a.createVolume({ name: 'x', labels: { [OWNER_LABEL]: 'lrnvb' } }))).toBe('permission-denied');
    // a teacher's volume: not theirs to see, and its name as a mount source is the learner's own namespace
    env.engine.createVolume({ name: 'teacher' });
    expect(await kindOf(() => a.inspectVolume('teacher'))).toBe('not-found');
    // a volume under the learner's prefix that is not labelled theirs (made by the teacher): refused
    env.engine.createVolume({ name: 'lrnva-planted' });
    expect(await kindOf(() => a.create({ image: 'base', cmd: ['true'], mounts: [{ type: 'volume', source: 'planted', target: '/p' }] }))).toBe('permission-denied');
    expect(await kindOf(() => a.createVolume({ name: 'planted' }))).toBe('permission-denied');
    // a bind mount of a host path: refused
    expect(await kindOf(() => a.create({ image: 'base', cmd: ['true'], mounts: [{ type: 'bind', source: '/etc', target: '/hostetc' }] }))).toBe('permission-denied');
    expect(a.list({ all: true })).toEqual([]);
  });

  it("mount theirs (as their own root in a user namespace); --volumes-from only of their own containers", async () => {
    const w = await a.run({ image: 'base', name: 'writer', cmd: ['sh', '-c', 'echo learner > /data/f; id -u; stat -c %u /data/f'], mounts: [{ type: 'volume', source: 'data', target: '/data' }] });
    await env.engine.wait(w.id);
    let out = '';
    for await (const e of a.logs('writer')) out += e.log;
    expect(out).toBe('0\n0\n');
    expect(w.config.mounts?.[0]).toMatchObject({ type: 'volume', source: 'lrnva-data' });
    // B's mount of "lrnva-data" is B's own lrnvb-lrnva-data, a new empty volume
    const bc = await b.create({ image: 'base', cmd: ['true'], mounts: [{ type: 'volume', source: 'lrnva-data', target: '/d' }] });
    expect(bc.config.mounts?.[0].source).toBe('lrnvb-lrnva-data');
    expect(await kindOf(() => b.create({ image: 'base', cmd: ['true'], volumesFrom: ['writer'] }))).toBe('not-found');
    expect(await kindOf(() => b.create({ image: 'base', cmd: ['true'], volumesFrom: [w.id] }))).toBe('not-found');
    // an anonymous volume of A's container is A's too
    const anon = await a.create({ image: 'base', cmd: ['true'], mounts: [{ type: 'volume', target: '/scratch' }] });
    const name = anon.config.mounts![0].source!;
    expect(name).toMatch(/^lrnva-[0-9a-f]{64}$/);
    expect(a.inspectVolume(name).labels[OWNER_LABEL]).toBe('lrnva');
    await a.remove(anon.id, { volumes: true });
    expect(await kindOf(() => a.inspectVolume(name))).toBe('not-found');
  });

  it("files in and out reach only their own containers", async () => {
    const bRec = b.list({ all: true })[0];
    const sink = new PassThrough();
    sink.resume();
    expect(await kindOf(() => a.getArchive(bRec.id, '/etc', sink))).toBe('not-found');
    expect(await kindOf(() => a.statPath(bRec.id, '/'))).toBe('not-found');
    expect(await kindOf(() => a.exportContainer(bRec.id, sink))).toBe('not-found');
    const tar = await makeTar([{ name: 'x', data: 'x' }]);
    expect(await kindOf(() => a.putArchive(bRec.id, '/', Readable.from([tar])))).toBe('not-found');
    expect(await kindOf(() => a.putArchive('writer', '/tmp', Readable.from([tar])))).toBe('ok');
    expect(await kindOf(() => a.importImage(Readable.from([tar]), { ref: 'evil:1' }))).toBe('permission-denied');
  });

  it('prune removes only their own objects; images are not theirs to prune', async () => {
    const bVolumes = b.listVolumes().map((v) => v.name);
    const teacher = env.engine.listVolumes().filter((v) => !v.labels[OWNER_LABEL]).map((v) => v.name);
    a.createVolume({ name: 'idle' });
    const bExited = (await b.run({ image: 'base', cmd: ['true'] })).id;
    await env.engine.wait(bExited);
    const tc = await env.engine.run({ image: 'base', cmd: ['true'] });
    await env.engine.wait(tc.id);
    const pv = a.pruneVolumes({ all: true });
    expect(pv.deleted).toEqual(['lrnva-idle']); // lrnva-data is used by A's exited writer
    const writerId = a.get('writer').id;
    const pc = await a.pruneContainers();
    expect(pc.deleted).toEqual([writerId]);
    expect(a.list({ all: true })).toEqual([]);
    // B's, the teacher's: untouched
    expect(env.engine.get(bExited).id).toBe(bExited);
    expect(env.engine.get(tc.id).id).toBe(tc.id);
    expect(b.listVolumes().map((v) => v.name)).toEqual(bVolumes);
    for (const t of teacher) expect(env.engine.inspectVolume(t).name).toBe(t);
    expect((await a.pruneNetworks()).deleted.every((n) => n.startsWith('lrnva-'))).toBe(true);
    expect(await kindOf(() => a.pruneImages())).toBe('permission-denied');
    const du = a.diskUsage();
    expect(du.containers).toEqual([]);
    expect(du.volumes.map((v) => v.name)).toEqual(['lrnva-data']);
  });
});

describe("a class learner's volumes share one pool of their disk share", () => {
  it('fill up inside the pool, never the host, and the pool goes with the last volume', async () => {
    const MiB = 1024 * 1024;
    const c = new LearnerEngine(env.engine, { ...policy('lrnvc', 20500), diskPerContainer: 16 * MiB });
    const named = c.createVolume({ name: 'one' });
    expect(named.pool).toBe('lrnvc');
    const pool = named.mountpoint.slice(0, named.mountpoint.lastIndexOf('/'));
    // a mount of its own: /proc/self/mountinfo lists the pool's filesystem
    expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === pool)).toBe(true);
    // two volumes (one named, one anonymous, made for the container) write 24 MiB: the pool holds 16
    const w = await c.run({
      image: 'base',
      cmd: ['sh', '-c', 'dd if=/dev/zero of=/a/f bs=1M count=12 2>/dev/null; dd if=/dev/zero of=/b/f bs=1M count=12 2>&1; echo rc=$?; ls /a /b'],
      mounts: [
        { type: 'volume', source: 'one', target: '/a' },
        { type: 'volume', target: '/b' },
      ],
    });
    await env.engine.wait(w.id);
    let out = '';
    for await (const e of c.logs(w.id)) out += e.log;
    expect(out).toMatch(/No space left on device/);
    const anon = w.config.mounts!.find((m) => m.target === '/b')!.source!;
    expect(c.inspectVolume(anon).pool).toBe('lrnvc');
    expect(statfsSync(pool).blocks * statfsSync(pool).bsize).toBeLessThanOrEqual(16 * MiB);
    // no lost+found from mkfs in a learner's volume
    expect(readdirSync(named.mountpoint)).toEqual(['f']);
    await c.remove(w.id, { volumes: true });
    expect(env.engine.listVolumes().filter((v) => v.pool === 'lrnvc').map((v) => v.name)).toEqual(['lrnvc-one']);
    c.removeVolume('one');
    expect(existsSync(pool)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(pool);
    expect(loopDevicesBackedBy(env.root)).toEqual([]);
  }, 60_000);
});
