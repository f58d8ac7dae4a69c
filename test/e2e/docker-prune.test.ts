// The real docker CLI (28.x) against Glassbox for housekeeping: container, image, network and volume
// prune with their filters and the space they report, docker system df (its figures against what
// is on disk) and docker system prune. Bad filters are refused by name and remove nothing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { requireHost } from '../helpers.js';
import { closeDockerEnv, DOCKER, dockerClient, openDockerEnv, type DockerTestEnv } from './docker-support.js';
import { busyboxRoot, dockerIn } from './volume-support.js';

requireHost('docker-prune e2e', { root: true, binaries: [DOCKER, '/bin/busybox'] });

let env: DockerTestEnv | undefined;
let base = '';
let sock = '';
let engine: Engine | undefined;
const { docker, ok } = dockerClient(() => sock, { timeoutMs: 120_000 });

const ids = async (...args: string[]) => (await ok(...args)).split('\n').filter(Boolean);

describe('docker prune and system df against Glassbox', () => {
  beforeAll(async () => {
    env = await openDockerEnv('gbtv-p-');
    ({ base, engine, sock } = env);
  }, 120_000);

  afterAll(async () => {
    expect((await closeDockerEnv(env)).mounts).toEqual([]);
  }, 120_000);

  it('container prune: stopped ones only, by label, with the space of their layers', async () => {
    await ok('run', '--name', 'gbtv-p1', '--label', 'gbtv=1', 'base', 'sh', '-c', 'dd if=/dev/zero of=/tmp/blob bs=1000 count=200 2>/dev/null');
    await ok('run', '--name', 'gbtv-p2', 'base', 'true');
    await ok('run', '-d', '--name', 'gbtv-p3', '--label', 'gbtv=1', 'base', 'sleep', '600');
    const bad = await docker('container', 'prune', '-f', '--filter', 'colour=red');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/invalid filter 'colour'/);
    const badUntil = await docker('container', 'prune', '-f', '--filter', 'until=yesterday-ish');
    expect(badUntil.code).not.toBe(0);
    expect(badUntil.err).toMatch(/until=yesterday-ish/);
    expect(engine!.list({ all: true })).toHaveLength(3);
    // until=1h: made in the last hour, so none is older: nothing goes
    expect(await ok('container', 'prune', '-f', '--filter', 'until=1h')).toMatch(/Total reclaimed space: 0B/);
    const p1 = engine!.get('gbtv-p1').id;
    const byLabel = await ok('container', 'prune', '-f', '--filter', 'label=gbtv=1');
    expect(byLabel).toContain(p1);
    expect(byLabel).toMatch(/Total reclaimed space: 20\dkB/);
    expect((await ids('ps', '-a', '--format', '{{.Names}}')).sort()).toEqual(['gbtv-p2', 'gbtv-p3']);
    const p2 = engine!.get('gbtv-p2').id;
    const neg = await ok('container', 'prune', '-f', '--filter', 'label!=gbtv');
    expect(neg).toContain(p2);
    expect(await ids('ps', '-a', '--format', '{{.Names}}')).toEqual(['gbtv-p3']);
    await ok('rm', '-f', 'gbtv-p3');
  });

  it('image prune: dangling only by default, -a every image no container uses (base stays)', async () => {
    const root = await busyboxRoot([{ name: 'big', data: Buffer.alloc(300_000) }]);
    for (const t of ['gbtv-img:1', 'gbtv-used:1']) {
      const r = await dockerIn(sock, ['import', '--change', 'LABEL keep=no', '-', t], root);
      if (r.code !== 0) throw new Error(r.err);
    }
    await ok('create', '--name', 'gbtv-user', 'gbtv-used:1', 'true');
    const dangling = await ok('image', 'prune', '-f');
    expect(dangling).toMatch(/Total reclaimed space: 0B/);
    expect((await ids('images', '--format', '{{.Repository}}:{{.Tag}}')).sort()).toEqual(['base:latest', 'gbtv-img:1', 'gbtv-used:1']);
    const all = await ok('image', 'prune', '-a', '-f');
    expect(all).toMatch(/untagged: \S*gbtv-img:1/);
    // gbtv-img and gbtv-used share their one layer: the layer stays with gbtv-used, so nothing comes back yet
    expect(all).toMatch(/Total reclaimed space: 0B/);
    expect((await ids('images', '--format', '{{.Repository}}:{{.Tag}}')).sort()).toEqual(['base:latest', 'gbtv-used:1']);
    await ok('rm', 'gbtv-user');
    const last = await ok('image', 'prune', '-a', '-f', '--filter', 'label=keep=no');
    expect(last).toMatch(/untagged: \S*gbtv-used:1/);
    expect(last).toMatch(/Total reclaimed space: (3\d\d(\.\d+)?kB|[1-9](\.\d+)?MB)/);
    expect(await ids('images', '--format', '{{.Repository}}:{{.Tag}}')).toEqual(['base:latest']);
  });

  it('system df: images, containers, volumes and their sizes; system prune', async () => {
    await ok('run', '--name', 'gbtv-df', '-v', 'gbtv-dfvol:/v', 'base', 'sh', '-c', 'dd if=/dev/zero of=/v/f bs=1000 count=50 2>/dev/null; dd if=/dev/zero of=/tmp/f bs=1000 count=30 2>/dev/null');
    await ok('volume', 'create', 'gbtv-idle');
    writeFileSync(join(base, 'root', 'volumes', 'gbtv-idle', '_data', 'x'), Buffer.alloc(10_000));
    const rows = (await ids('system', 'df', '--format', '{{json .}}')).map((l) => JSON.parse(l) as { Type: string; TotalCount: number | string; Active: number | string; Size: string; Reclaimable: string });
    const byType = Object.fromEntries(rows.map((r) => [r.Type, r]));
    expect(Number(byType.Images.TotalCount)).toBe(1);
    expect(Number(byType.Images.Active)).toBe(1);
    expect(Number(byType.Containers.TotalCount)).toBe(1);
    expect(Number(byType.Containers.Active)).toBe(0);
    expect(byType.Containers.Size).toMatch(/^3\d(\.\d+)?kB$/);
    expect(Number(byType['Local Volumes'].TotalCount)).toBe(2);
    expect(Number(byType['Local Volumes'].Active)).toBe(1);
    expect(byType['Local Volumes'].Size).toMatch(/^60(\.\d+)?kB$/);
    expect(byType['Local Volumes'].Reclaimable).toMatch(/^10(\.\d+)?kB/);
    expect(Number(byType['Build Cache'].TotalCount)).toBe(0);
    const verbose = await ok('system', 'df', '-v');
    expect(verbose).toMatch(/gbtv-dfvol\s+1\s+50(\.\d+)?kB/);
    expect(verbose).toMatch(/gbtv-idle\s+0\s+10(\.\d+)?kB/);

    // system prune: stopped containers, unused networks, dangling images; volumes only with --volumes
    const sp = await ok('system', 'prune', '-f');
    expect(sp).toMatch(/Deleted Containers:/);
    expect(engine!.list({ all: true })).toEqual([]);
    expect((await ids('volume', 'ls', '-q')).sort()).toEqual(['gbtv-dfvol', 'gbtv-idle']);
    const spv = await ok('system', 'prune', '-f', '--volumes');
    // Docker ≥ 23: named volumes are kept unless --all is given to volume prune
    expect(spv).not.toContain('gbtv-idle');
    await ok('volume', 'prune', '-a', '-f');
    expect(await ids('volume', 'ls', '-q')).toEqual([]);
    expect(await ids('network', 'prune', '-f')).toEqual([]);
  });
});
