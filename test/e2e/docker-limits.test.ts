// The real docker CLI with the options that size what a container may fill: --log-opt and
// --log-driver, --ulimit, --shm-size, --tmpfs size=, --storage-opt size=; and docker inspect shows them.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { startDockerApi } from '../../server/api/docker/server.js';
import { loopDevicesBackedBy } from '../../server/engine/rootfs/quota.js';
import { DOCKER, dockerClient } from './docker-support.js';
import { requireHost } from '../helpers.js';

requireHost('docker-limits e2e', { root: true, binaries: [DOCKER], commands: ['mkfs.ext4', 'losetup'] });

let base = '';
let sock = '';
let engine: Engine;
let api: Awaited<ReturnType<typeof startDockerApi>>;
const { docker, ok } = dockerClient(() => sock);

beforeAll(async () => {
  base = mkdtempSync('/tmp/gbd-');
  engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r'), network: false });
  sock = join(base, 'docker.sock');
  api = await startDockerApi(engine, { socketPath: sock });
}, 120_000);

afterAll(async () => {
  for (const c of engine?.list({ all: true }) ?? []) await engine.remove(c.id, { force: true }).catch(() => {});
  await api?.close();
  await engine?.close();
  const loops = loopDevicesBackedBy(base);
  rmSync(base, { recursive: true, force: true });
  expect(loops).toEqual([]);
}, 120_000);

describe('docker CLI: limits of files and processes', () => {
  it('--ulimit, --shm-size and --tmpfs size= reach the kernel, and docker inspect shows them', async () => {
    const out = await ok(
      'run', '--name', 'lim', '--ulimit', 'nofile=100:200', '--shm-size', '8m', '--tmpfs', '/x:size=1m,mode=700', 'base',
      'sh', '-c', 'grep "open files" /proc/self/limits; grep -E " /(dev/shm|x) " /proc/mounts',
    );
    expect(out).toMatch(/Max open files\s+100\s+200/);
    expect(out).toMatch(/ \/dev\/shm tmpfs \S*size=8192k/);
    expect(out).toMatch(/ \/x tmpfs \S*size=1024k,mode=700/);
    const hc = JSON.parse(await ok('inspect', 'lim'))[0].HostConfig;
    expect(hc.Ulimits).toEqual([{ Name: 'nofile', Soft: 100, Hard: 200 }]);
    expect(hc.ShmSize).toBe(8 * 1024 * 1024);
    expect(hc.PidsLimit).toBe(2048); // the daemon's default
    expect(hc.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    await ok('rm', 'lim');
  });

  it('--log-opt max-size/max-file rotate, docker logs reads across the files; --log-driver none has nothing to read', async () => {
    await ok('run', '--name', 'rot', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=2', 'base', 'sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo line$i; i=$((i+1)); done');
    const dir = join(engine.get('rot').paths.log, '..');
    expect(readdirSync(dir).filter((f) => f.startsWith('container.log')).sort()).toEqual(['container.log', 'container.log.1']);
    const lines = (await ok('logs', 'rot')).trim().split('\n');
    expect(lines.at(-1)).toBe('line399');
    // what is kept is a run of consecutive lines ending at the last one: the oldest rotated away
    const first = Number(lines[0].slice(4));
    expect(lines).toEqual(Array.from({ length: 400 - first }, (_, i) => `line${first + i}`));
    expect(first).toBeGreaterThan(0);
    await ok('rm', 'rot');

    await ok('run', '--name', 'quiet', '--log-driver', 'none', 'base', 'echo', 'hi');
    const r = await docker('logs', 'quiet');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('configured logging driver does not support reading');
    await ok('rm', 'quiet');
    const bad = await docker('run', '--rm', '--log-opt', 'max-size=huge', 'base', 'true');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('--log-opt: max-size');
  });

  it('--storage-opt size=: dd into a full layer fails inside with ENOSPC', async () => {
    const r = await docker('run', '--name', 'small', '--storage-opt', 'size=20m', 'base', 'sh', '-c', 'dd if=/dev/zero of=/fill bs=1M count=40');
    expect(r.code).not.toBe(0);
    expect(r.err + r.out).toMatch(/No space left on device/);
    const storage = engine.get('small').storage!;
    expect(JSON.parse(await ok('inspect', 'small'))[0].HostConfig.StorageOpt).toEqual({ size: String(20 * 1024 * 1024) });
    await ok('rm', 'small');
    expect(existsSync(storage.image)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(storage.mountPoint);
  });
});
