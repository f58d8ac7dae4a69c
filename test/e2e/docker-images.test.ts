// The real docker CLI (28.x) against Glassbox for images: docker pull from Debian's docker-registry
// on 127.0.0.1 (an image the test builds and pushes with skopeo), docker images/run of the pulled
// image, docker commit/history of a container, docker save → rmi → load with the same image id,
// and a clear error for a tag the registry lacks. The engine runs in this process without
// networking; the registry is stopped by its own PID; containers, images and temp dirs are removed.
import { dockerClient } from './docker-support.js';
import { createServer, request } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerApi } from '../../server/api/docker/server.js';
import { handleImagePullRequest } from '../../server/api/rest/image-pull.js';
import { initialPull, pullFraction, reducePull, type PullStreamEvent } from '../../components/lib/pull-progress.js';
import { Engine } from '../../server/engine/engine.js';
import { buildImage, busyboxLayer, makeTar, skopeoPush, startRegistry, writeOciLayout, type Registry } from '../integration/image-fixtures.js';
import { requireHost } from '../helpers.js';

const DOCKER = '/usr/local/bin/docker';

requireHost('docker-images e2e', { root: true, binaries: [DOCKER, '/usr/bin/docker-registry', '/usr/bin/skopeo', '/bin/busybox'] });

let base = '';
let sock = '';
let engine: Engine | undefined;
let api: Awaited<ReturnType<typeof startDockerApi>> | undefined;
let reg: Registry | undefined;
let ref = '';

const { docker, ok } = dockerClient(() => sock, { timeoutMs: 120_000, maxBuffer: 64 << 20 });

describe('docker CLI images against Glassbox', () => {
  beforeAll(async () => {
    base = mkdtempSync('/tmp/gbimg-');
    reg = await startRegistry(join(base, 'registry'));
    // an image of two layers: busybox, and a file the test looks for
    const bb = await busyboxLayer();
    const extra = await makeTar([
      { name: 'some/', type: 'directory', mode: 0o755 },
      { name: 'some/file', data: 'pulled from the registry\n' },
    ]);
    const img = buildImage({ layers: [bb, extra], cmd: ['/bin/sh'] });
    const layout = join(base, 'layout');
    writeOciLayout(layout, 'v1', { digest: img.manifestDigest, body: img.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, img.blobs);
    skopeoPush(`oci:${layout}:v1`, `docker://${reg.host}/test/x:v1`);
    skopeoPush(`oci:${layout}:v1`, `docker://${reg.host}/test/dash:v1`);
    ref = `${reg.host}/test/x:v1`;

    engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'run'), network: false });
    sock = join(base, 'docker.sock');
    api = await startDockerApi(engine, { socketPath: sock });
  }, 180_000);

  afterAll(async () => {
    const errors: string[] = [];
    if (engine) {
      for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch((e: Error) => errors.push(e.message));
      for (const r of [ref, 'committed:v1', 'committed:v2', `${reg?.host}/test/dash:v1`]) {
        if (engine.listImages().some((i) => i.repoTags.includes(r))) {
          try {
            engine.removeImage(r, { force: true });
          } catch (e) {
            errors.push((e as Error).message);
          }
        }
      }
    }
    const left = engine ? engine.list({ all: true }).length : 0;
    await api?.close();
    await engine?.close();
    const regPid = reg?.proc.pid;
    await reg?.stop();
    const regAlive = regPid !== undefined && existsSync(`/proc/${regPid}`) && !readFileSync(`/proc/${regPid}/stat`, 'utf8').includes(') Z ');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => base && l.includes(base));
    if (base) rmSync(base, { recursive: true, force: true });
    expect(errors).toEqual([]);
    expect(left).toBe(0);
    expect(regAlive).toBe(false);
    expect(mounts).toEqual([]);
    expect(base && existsSync(base)).toBe(false);
  }, 120_000);

  it('docker pull from the loopback registry streams progress, docker images lists it, docker run uses it', async () => {
    const r = await docker('pull', ref);
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/Pull complete|Download complete|Already exists/);
    expect(r.out).toMatch(/Pulling from 127\.0\.0\.1:\d+\/test\/x/);
    expect(r.out.match(/Digest: sha256:[0-9a-f]{64}/g)).toHaveLength(1);
    expect(r.out.match(/Status: /g)).toHaveLength(1);
    expect(r.out).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(r.out).toContain(ref); // docker prints the pulled name last

    const images = await ok('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    expect(images).toContain(`${ref} `);

    expect(await ok('run', '--rm', ref, 'cat', '/some/file')).toBe('pulled from the registry\n');

    // a second pull: up to date
    const again = await ok('pull', ref);
    expect(again).toContain(`Status: Image is up to date for ${ref}`);
  }, 180_000);

  it('pulling a tag the registry does not have fails with a clear error', async () => {
    const r = await docker('pull', `${reg!.host}/test/x:nope`);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/nope/);
    expect(r.err).toMatch(/not found|manifest unknown|does not exist|pull access denied/i);
    // before any progress: a plain 404 answer from the API, as Docker gives
    const raw = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ socketPath: sock, method: 'POST', path: `/v1.47/images/create?fromImage=${encodeURIComponent(`${reg!.host}/test/x`)}&tag=nope` }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(raw.status).toBe(404);
    expect(JSON.parse(raw.text).message).toMatch(/x:nope not found/);
    const r2 = await docker('pull', `${reg!.host}/test/missing:v1`);
    expect(r2.code).not.toBe(0);
    expect(r2.err).toMatch(/test\/missing:v1 not found/);
  }, 60_000);

  it('docker commit of a running container; run, history, save, rmi, load with the same id', async () => {
    await ok('run', '-d', '--name', 'cmt', 'base', 'sh', '-c', 'echo hi > /hello; sleep 300');
    // the file is written right after start
    for (let i = 0; i < 50; i++) {
      const r = await docker('exec', 'cmt', 'cat', '/hello');
      if (r.code === 0 && r.out === 'hi\n') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const commitOut = (await ok('commit', '-m', 'test commit', '-a', 'tester', 'cmt', 'committed:v1')).trim();
    expect(commitOut).toMatch(/^sha256:[0-9a-f]{64}$/);
    // the container kept running (paused and unpaused around the commit)
    expect((await ok('inspect', '-f', '{{.State.Status}}', 'cmt')).trim()).toBe('running');

    expect(await ok('run', '--rm', 'committed:v1', 'cat', '/hello')).toBe('hi\n');

    const hist = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:v1');
    const first = hist.split('\n')[0];
    expect(first).toMatch(/^sh -c echo hi > \/hello; sleep 300\|/);
    const baseHist = await ok('history', '-q', 'base');
    expect(hist.trim().split('\n').length).toBe(baseHist.trim().split('\n').length + 1);

    const id = (await ok('image', 'inspect', '-f', '{{.Id}}', 'committed:v1')).trim();
    expect(id).toBe(commitOut);

    const tarPath = join(base, 'committed.tar');
    await ok('save', 'committed:v1', '-o', tarPath);
    expect(statSync(tarPath).size).toBeGreaterThan(1024);

    // --change: CMD, ENV and WORKDIR of the new image
    await ok('commit', '--change', 'CMD ["sh", "-c", "echo $GREETING $(pwd); cat /hello"]', '--change', 'ENV GREETING=hello', '--change', 'WORKDIR /tmp', 'cmt', 'committed:v2');
    expect(await ok('run', '--rm', 'committed:v2')).toBe('hello /tmp\nhi\n');
    const bad = await docker('commit', '--change', 'FROM x', 'cmt', 'committed:v3');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/FROM is not supported/);
    await ok('rmi', 'committed:v2');

    await ok('rm', '-f', 'cmt');
    const rmi = await ok('rmi', 'committed:v1');
    expect(rmi).toContain('Untagged: committed:v1');
    expect((await docker('image', 'inspect', 'committed:v1')).code).not.toBe(0);

    const loaded = await ok('load', '-i', tarPath);
    expect(loaded).toContain('Loaded image: committed:v1');
    expect((await ok('image', 'inspect', '-f', '{{.Id}}', 'committed:v1')).trim()).toBe(id);
    expect(await ok('run', '--rm', 'committed:v1', 'cat', '/hello')).toBe('hi\n');

    // saving a missing image is an error before any tar is written
    const badSave = await docker('save', 'no-such-image:v9', '-o', join(base, 'bad.tar'));
    expect(badSave.code).not.toBe(0);
    expect(badSave.err).toMatch(/no-such-image/);
  }, 180_000);

  it("the dashboard's POST /api/images/pull streams NDJSON progress the progress bar folds to 100%", async () => {
    const srv = createServer((req, res) => {
      if (!handleImagePullRequest(engine!, req, res, new URL(req.url ?? '/', 'http://x'))) res.writeHead(404).end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const post = (body: string, type = 'application/json') =>
      new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/images/pull', headers: { 'content-type': type } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const dash = `${reg!.host}/test/dash:v1`;
      const r = await post(JSON.stringify({ image: dash }));
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/application\/x-ndjson/);
      const events = r.text.trim().split('\n').map((l) => JSON.parse(l) as PullStreamEvent);
      expect(events.some((e) => e.type === 'layer')).toBe(true);
      expect(events.at(-1)).toMatchObject({ type: 'done', ref: dash, upToDate: false });
      let st = initialPull(dash);
      const fractions: number[] = [];
      for (const e of events) {
        st = reducePull(st, e);
        fractions.push(pullFraction(st));
      }
      expect(st.done).toBe(true);
      expect(st.error).toBeNull();
      expect(st.layers.length).toBe(2);
      expect(fractions.at(-1)).toBe(1);
      expect(engine!.listImages().some((i) => i.repoTags.includes(dash))).toBe(true);

      const missing = await post(JSON.stringify({ image: `${reg!.host}/test/dash:nope` }));
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.text).error).toMatch(/dash:nope not found/);
      expect((await post('{"image": ""}')).status).toBe(400);
      expect((await post('image=x', 'application/x-www-form-urlencoded')).status).toBe(415);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  }, 60_000);
});
