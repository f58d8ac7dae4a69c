// The npm `dockerode` client building from a tar stream (POST /build) and using named volumes
// (the /volumes API), as Node users do: the Docker API contract, driven by the library itself.
// Run: flock /tmp/gb-test.lock npx vitest run test/e2e/docker-clients-build-volumes.test.ts
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireHost } from '../helpers.js';
import { makeTar } from '../integration/image-fixtures.js';
import { closeDockerEnv, gbLinks, openDockerEnv, type DockerTestEnv } from './docker-support.js';

requireHost('docker-clients build/volumes e2e', { root: true });

let env: DockerTestEnv | undefined;
let docker: Docker;

function output(): { out: PassThrough; err: PassThrough; text: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  let t = '';
  out.on('data', (d: Buffer) => (t += d.toString()));
  err.on('data', (d: Buffer) => (t += d.toString()));
  return { out, err, text: () => t };
}

describe('dockerode: build from a tar stream, named volumes', () => {
  beforeAll(async () => {
    env = await openDockerEnv('gbclbv-');
    docker = new Docker({ socketPath: env.sock });
  }, 120_000);

  afterAll(async () => {
    expect(await closeDockerEnv(env)).toEqual({ containers: 0, mounts: [] });
    expect(gbLinks()).toEqual([]);
  }, 120_000);

  it('buildImage from a tar stream: the JSON stream, a tagged image, its CMD runs', async () => {
    const context = await makeTar([
      { name: 'Dockerfile', data: 'FROM base\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nLABEL gb.built=yes\nCMD ["cat", "/hello.txt", "/built.txt"]\n' },
      { name: 'hello.txt', data: 'from the context\n' },
    ]);
    const stream = await docker.buildImage(new PassThrough().end(context), { t: 'gbclbv-built:1' });
    const events: { stream?: string; error?: string; aux?: { ID: string } }[] = await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: { stream?: string }[]) => (err ? reject(err) : resolve(out))),
    );
    expect(events.filter((e) => e.error)).toEqual([]);
    expect(events.map((e) => e.stream ?? '').join('')).toMatch(/Successfully tagged gbclbv-built:1/);
    const img = await docker.getImage('gbclbv-built:1').inspect();
    expect(img.Config.Labels).toMatchObject({ 'gb.built': 'yes' });
    const o = output();
    const [res, c] = (await docker.run('gbclbv-built:1', [], [o.out, o.err], { Tty: false })) as [{ StatusCode: number }, Docker.Container];
    expect(res.StatusCode).toBe(0);
    expect(o.text()).toBe('from the context\nbuilt\n');
    await c.remove();
  }, 180_000);

  it('a failed RUN is an error in the stream and leaves no image', async () => {
    const context = await makeTar([{ name: 'Dockerfile', data: 'FROM base\nRUN echo failing-step && exit 3\n' }]);
    const stream = await docker.buildImage(new PassThrough().end(context), { t: 'gbclbv-failed:1' });
    const events: { stream?: string; error?: string }[] = await new Promise((resolve) => docker.modem.followProgress(stream, (_e: Error | null, out: { error?: string }[]) => resolve(out ?? [])));
    expect(events.map((e) => e.stream ?? '').join('')).toContain('failing-step');
    expect(events.some((e) => e.error)).toBe(true);
    await expect(docker.getImage('gbclbv-failed:1').inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 120_000);

  it('createVolume, listVolumes, a volume shared by two containers, remove', async () => {
    const v = await docker.createVolume({ Name: 'gbclbv-data', Labels: { 'gb.v': '1' } });
    expect(v.name ?? (v as unknown as { Name: string }).Name).toBe('gbclbv-data');
    const list = await docker.listVolumes({ filters: { label: ['gb.v=1'] } });
    expect(list.Volumes.map((x) => x.Name)).toEqual(['gbclbv-data']);
    const o1 = output();
    const [r1, c1] = (await docker.run('base', ['sh', '-c', 'echo kept > /data/file'], [o1.out, o1.err], { Tty: false, HostConfig: { Binds: ['gbclbv-data:/data'] } })) as [{ StatusCode: number }, Docker.Container];
    expect(r1.StatusCode).toBe(0);
    const o2 = output();
    const [r2, c2] = (await docker.run('base', ['cat', '/data/file'], [o2.out, o2.err], { Tty: false, HostConfig: { Mounts: [{ Type: 'volume', Source: 'gbclbv-data', Target: '/data' }] } })) as [{ StatusCode: number }, Docker.Container];
    expect(r2.StatusCode).toBe(0);
    expect(o2.text()).toBe('kept\n');
    // in use: refused; after the containers go, removed
    await expect(docker.getVolume('gbclbv-data').remove()).rejects.toMatchObject({ statusCode: 409 });
    await c1.remove();
    await c2.remove();
    await docker.getVolume('gbclbv-data').remove();
    expect((await docker.listVolumes()).Volumes?.map((x) => x.Name) ?? []).not.toContain('gbclbv-data');
  }, 120_000);
});
