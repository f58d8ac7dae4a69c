// `docker rm -f` of many running containers at once through the real docker CLI (it sends the
// removals 50 at a time on keep-alive connections): every one succeeds, and nothing stays behind —
// no record, record directory, run directory, cgroup, veth, lease or network files. And the
// Docker API never closes an idle keep-alive connection itself (the CLI's next request on it
// would be reset), as dockerd does not.
import { createConnection } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';
import { readLeases } from '../../server/engine/network/state-file.js';
import { requireHost } from '../helpers.js';
import { closeDockerEnv, dockerClient, DOCKER, gbLinks, noLeftoverLinks, openDockerEnv, type DockerTestEnv } from './docker-support.js';

requireHost('docker-rm-many e2e', { root: true, binaries: [DOCKER], commands: ['ip', 'iptables'], check: noLeftoverLinks });

const N = hostNames(prefixFromEnv());
let env: DockerTestEnv | undefined;
const { docker, ok } = dockerClient(() => env!.sock, { timeoutMs: 120_000 });

describe('docker rm -f of many', () => {
  beforeAll(async () => {
    env = await openDockerEnv('gbrm-', { network: true });
  });

  afterAll(async () => {
    const left = await closeDockerEnv(env);
    expect(left).toEqual({ containers: 0, mounts: [] });
    expect(gbLinks()).toEqual([]);
  });

  it('removes 60 running bridge containers in one command, all of them, leaving nothing', async () => {
    const { engine } = env!;
    for (let i = 0; i < 60; i += 10) await Promise.all(Array.from({ length: 10 }, () => engine.run({ image: 'base', cmd: ['sleep', '1d'] })));
    const ids = (await ok('ps', '-q', '--no-trunc')).split('\n').filter(Boolean);
    expect(ids).toHaveLength(60);
    const cgroupDirs = ids.flatMap((id) => Object.values(engine.get(id).paths.cgroups));
    expect(cgroupDirs.every((d) => existsSync(d))).toBe(true);

    const r = await docker('rm', '-f', ...ids);
    expect(r.err).toBe(''); // a "connection reset by peer" would be here
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter(Boolean).sort()).toEqual([...ids].sort());

    expect(engine.list({ all: true })).toEqual([]);
    expect(cgroupDirs.filter((d) => existsSync(d))).toEqual([]);
    expect(gbLinks().filter((l) => N.vethRe.test(l))).toEqual([]);
    const root = join(env!.base, 'root');
    expect(readdirSync(join(root, 'containers'))).toEqual([]); // no record, no half-deleted .gone-<id>
    expect(readdirSync(join(env!.base, 'r')).filter((d) => /^[0-9a-f]{64}$/.test(d))).toEqual([]);
    expect(readdirSync(join(root, 'network', 'files'))).toEqual([]);
    expect(readLeases(join(root, 'network'))).toEqual({});
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(env!.base);
  }, 180_000);

  it('keeps an idle keep-alive connection open past node’s default 5 s', async () => {
    const s = createConnection(env!.sock);
    await new Promise((r) => s.once('connect', r));
    let closed = false;
    s.on('close', () => (closed = true));
    const answer = (): Promise<string> =>
      new Promise((resolve) => {
        let text = '';
        const onData = (d: Buffer) => {
          text += d.toString();
          if (/\r\n\r\nOK$/.test(text)) {
            s.off('data', onData);
            resolve(text);
          }
        };
        s.on('data', onData);
        s.write('GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n');
      });
    expect(await answer()).toMatch(/^HTTP\/1\.1 200/);
    await new Promise((r) => setTimeout(r, 6500));
    expect(closed).toBe(false);
    expect(await answer()).toMatch(/^HTTP\/1\.1 200/); // the same connection answers again
    s.destroy();
  }, 20_000);
});
