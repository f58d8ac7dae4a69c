// Real client libraries against Glassbox's Docker socket, doing what their users do: the npm
// `dockerode` client (create with a name, attach-then-start run(), exec, logs, stats, pull from a
// loopback registry) and the npm `testcontainers` library (a GenericContainer with a log-message
// wait, an exposed port, exec; Ryuk off since its image is not here). These clients send exactly
// the requests that broke Glassbox (a `name` in the create body, attach without an upgrade,
// logs?tail=-1, kill then remove): they are the regression tests of issue #18.
// The engine runs in this process with networking (the run's own prefix), traffic stays on
// loopback and in namespaces the test made; the registry is stopped by its own PID.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { requireHost } from '../helpers.js';
import { closeDockerEnv, type DockerTestEnv, gbLinks, noLeftoverLinks, openDockerEnv } from './docker-support.js';
import { busyboxLayer, buildImage, makeTar, skopeoPush, startRegistry, writeOciLayout, type Registry } from '../integration/image-fixtures.js';


requireHost('docker-clients e2e', {
  root: true,
  binaries: ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/bin/busybox'],
  check: noLeftoverLinks,
});

let env: DockerTestEnv | undefined;
let base = '';
let sock = '';
let engine: Engine | undefined;
let reg: Registry | undefined;
let ref = '';
let docker: Docker;

/** The demultiplexed output of a non-tty stream, as dockerode's modem splits it. */
function collect(): { out: PassThrough; err: PassThrough; text: () => { out: string; err: string } } {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  return { out, err, text: () => ({ out: o, err: e }) };
}

describe('npm clients against Glassbox', () => {
  beforeAll(async () => {
    env = await openDockerEnv('gbcl-', { network: true });
    ({ base, engine, sock } = env);
    reg = await startRegistry(join(base, 'registry'));
    const bb = await busyboxLayer();
    const extra = await makeTar([
      { name: 'hello/', type: 'directory', mode: 0o755 },
      { name: 'hello/file', data: 'pulled by dockerode\n' },
    ]);
    const img = buildImage({ layers: [bb, extra], cmd: ['/bin/sh'] });
    const layout = join(base, 'layout');
    writeOciLayout(layout, 'v1', { digest: img.manifestDigest, body: img.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, img.blobs);
    skopeoPush(`oci:${layout}:v1`, `docker://${reg.host}/clients/hello:v1`);
    ref = `${reg.host}/clients/hello:v1`;
    docker = new Docker({ socketPath: sock });
  }, 180_000);

  afterAll(async () => {
    const regPid = reg?.proc.pid;
    await reg?.stop();
    const left = await closeDockerEnv(env);
    const regAlive = regPid !== undefined && existsSync(`/proc/${regPid}`) && !readFileSync(`/proc/${regPid}/stat`, 'utf8').includes(') Z ');
    expect(left).toEqual({ containers: 0, mounts: [] });
    expect(regAlive).toBe(false);
    expect(gbLinks()).toEqual([]);
  }, 120_000);

  describe('dockerode', () => {
    it('createContainer with a name (dockerode also puts name in the body), inspect, start, kill, remove at once', async () => {
      const c = await docker.createContainer({ name: 'gbcl-named', Image: 'base', Cmd: ['sleep', '60'], Labels: { 'gb.clients': 'yes' } });
      const info = await c.inspect();
      expect(info.Name).toBe('/gbcl-named');
      expect(info.Config.Labels).toMatchObject({ 'gb.clients': 'yes' });
      await c.start();
      expect((await c.inspect()).State.Running).toBe(true);
      // kill answers once SIGKILL's target is gone: inspect right after says exited, remove works without force
      await c.kill();
      const after = await c.inspect();
      expect(after.State).toMatchObject({ Running: false, Status: 'exited', ExitCode: 137 });
      await c.remove();
      await expect(docker.getContainer('gbcl-named').inspect()).rejects.toMatchObject({ statusCode: 404 });
    }, 60_000);

    it('run(): attach then start, output demultiplexed, the exit code', async () => {
      const s = collect();
      const [result, container] = (await docker.run('base', ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'], [s.out, s.err], { Tty: false })) as [
        { StatusCode: number },
        Docker.Container,
      ];
      expect(result.StatusCode).toBe(3);
      expect(s.text()).toEqual({ out: 'to-out\n', err: 'to-err\n' });
      await container.remove();
    }, 60_000);

    it('exec (with a tty the output has \\r\\n, as a pty gives), logs, stats with networks', async () => {
      const c = await docker.createContainer({ name: 'gbcl-exec', Image: 'base', Cmd: ['sh', '-c', 'echo line-1; echo line-2 >&2; exec sleep 60'] });
      await c.start();
      const ex = await c.exec({ Cmd: ['sh', '-c', 'echo from-exec; exit 4'], AttachStdout: true, AttachStderr: true });
      const stream = await ex.start({ hijack: true, stdin: false });
      const s = collect();
      docker.modem.demuxStream(stream, s.out, s.err);
      await new Promise((r) => stream.on('end', r));
      expect(s.text().out).toBe('from-exec\n');
      expect((await ex.inspect()).ExitCode).toBe(4);

      const tty = await c.exec({ Cmd: ['printf', 'a\\nb\\n'], AttachStdout: true, Tty: true });
      const ts = await tty.start({ hijack: true, stdin: false, Tty: true });
      let raw = '';
      ts.on('data', (d: Buffer) => (raw += d.toString()));
      await new Promise((r) => ts.on('end', r));
      expect(raw).toBe('a\r\nb\r\n');

      const logs = (await c.logs({ stdout: true, stderr: true, tail: -1 } as Docker.ContainerLogsOptions & { follow?: false })) as unknown as Buffer;
      const lo = collect();
      const lp = new PassThrough();
      docker.modem.demuxStream(lp, lo.out, lo.err);
      lp.end(logs);
      await new Promise((r) => setImmediate(r));
      expect(lo.text()).toEqual({ out: 'line-1\n', err: 'line-2\n' });

      const st = (await c.stats({ stream: false })) as unknown as { memory_stats: { usage: number }; networks: Record<string, { rx_bytes: number; tx_bytes: number }> };
      expect(st.memory_stats.usage).toBeGreaterThan(0);
      expect(Object.keys(st.networks)).toEqual(['eth0']);
      expect(st.networks.eth0.tx_bytes).toBeGreaterThanOrEqual(0);
      await c.remove({ force: true });
    }, 60_000);

    it('pull from the loopback registry (followProgress), then run the image', async () => {
      const stream = await docker.pull(ref);
      const events: { status?: string; error?: string }[] = await new Promise((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null, out: { status?: string }[]) => (err ? reject(err) : resolve(out))),
      );
      expect(events.some((e) => e.error)).toBe(false);
      expect(events.at(-1)?.status).toMatch(/Downloaded newer image|Image is up to date/);
      const s = collect();
      const [res, c] = (await docker.run(ref, ['cat', '/hello/file'], [s.out, s.err], { Tty: false })) as [{ StatusCode: number }, Docker.Container];
      expect(res.StatusCode).toBe(0);
      expect(s.text().out).toBe('pulled by dockerode\n');
      await c.remove();
      // the same through the CLI's word for a missing tag: a clear error, not a hang
      await expect(docker.pull(`${reg!.host}/clients/hello:nope`)).rejects.toThrow(/not found|manifest unknown/i);
    }, 120_000);

    it('listContainers, listImages and listNetworks filter by label=key and label=key=value', async () => {
      const c = await docker.createContainer({ name: 'gbcl-label', Image: 'base', Cmd: ['true'], Labels: { 'gb.l': 'v1', 'gb.only': '' } });
      const ids = async (filters: Record<string, string[]>) => (await docker.listContainers({ all: true, filters })).map((x) => x.Id);
      expect(await ids({ label: ['gb.l'] })).toEqual([c.id]);
      expect(await ids({ label: ['gb.l=v1'] })).toEqual([c.id]);
      expect(await ids({ label: ['gb.l=v2'] })).toEqual([]);
      expect(await ids({ label: ['gb.l', 'gb.only'] })).toEqual([c.id]);
      const net = await docker.createNetwork({ Name: 'gbcl-net', Labels: { 'gb.n': 'x' }, Attachable: true, IPAM: { Driver: 'default', Config: [] } });
      expect((await docker.listNetworks({ filters: { label: ['gb.n=x'] } })).map((n) => n.Id)).toEqual([net.id]);
      expect((await docker.listNetworks({ filters: { label: ['gb.n=y'] } })).map((n) => n.Id)).toEqual([]);
      await net.remove();
      const imgs = await docker.listImages({ filters: { label: ['gb.never=1'] } });
      expect(imgs).toEqual([]);
      await c.remove();
    }, 60_000);
  });

  describe('testcontainers', () => {
    it('a GenericContainer with a log-message wait, an exposed port and exec (Ryuk off)', async () => {
      process.env.DOCKER_HOST = `unix://${sock}`;
      process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
      process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
      const { GenericContainer, Wait } = await import('testcontainers');
      const started = await new GenericContainer('base')
        .withCommand(['sh', '-c', 'mkdir -p /www && echo served > /www/index.html && echo "ready to serve" && exec httpd -f -p 8080 -h /www'])
        .withExposedPorts(8080)
        .withWaitStrategy(Wait.forLogMessage('ready to serve'))
        .withName('gbcl-tc')
        .start();
      try {
        const port = started.getMappedPort(8080);
        expect(port).toBeGreaterThan(0);
        const body = await new Promise<string>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => s.write('GET /index.html HTTP/1.0\r\n\r\n'));
          let text = '';
          s.on('data', (d) => (text += d));
          s.on('end', () => resolve(text));
          s.on('error', reject);
        });
        expect(body).toMatch(/served/);
        const r = await started.exec(['sh', '-c', 'echo in-container; exit 2']);
        expect(r).toMatchObject({ exitCode: 2, output: 'in-container\n' });
      } finally {
        await started.stop();
      }
      // stop() removes the container (testcontainers' default); its port is free again
      expect(engine!.list({ all: true }).filter((c) => c.name === 'gbcl-tc')).toEqual([]);
    }, 120_000);
  });
});

