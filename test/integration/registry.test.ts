// Pulls from a real registry on loopback: Debian's docker-registry (distribution 2.8) started here
// with its own config, images built by this test and pushed with skopeo. OCI and Docker schema2
// manifests, an index with two platforms, gzip/zstd/plain layers, Bearer-token auth (a small
// proxy in front of the registry that is also the token server) and a blob redirect to another
// port that must arrive without the Authorization header. Nothing here leaves 127.0.0.1.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreContent } from '../../server/engine/images/content.js';
import { pullImage, type PullEvent } from '../../server/engine/images/pull.js';
import { RegistryClient, RegistryError } from '../../server/engine/images/registry/client.js';
import { request } from '../../server/engine/images/registry/http.js';
import { ImageStore } from '../../server/engine/images/store.js';
import { buildImage, buildIndex, busyboxLayer, ensureTools, freePort, httpGet, makeTar, sha256, skopeoPush, startRegistry, writeOciLayout, type BuiltImage, type Registry } from './image-fixtures.js';

let base: string;
let reg: Registry;
let img: BuiltImage; // two gzip layers: busybox + an app layer
let appLayer: Buffer;
const servers: http.Server[] = [];

function newStore(name: string): StoreContent {
  return new StoreContent(new ImageStore(join(base, name)));
}

beforeAll(async () => {
  ensureTools({ 'docker-registry': 'docker-registry', skopeo: 'skopeo', zstd: 'zstd' });
  base = mkdtempSync('/tmp/gbreg-');
  chmodSync(base, 0o711);
  reg = await startRegistry(join(base, 'registry'));
  appLayer = await makeTar([
    { name: 'app/', type: 'directory', mode: 0o755 },
    { name: 'app/hello.txt', data: 'hello from the registry\n' },
    { name: 'app/run', data: '#!/bin/sh\necho ok\n', mode: 0o755 },
  ]);
  img = buildImage({ layers: [await busyboxLayer(), appLayer], cmd: ['/bin/sh', '/app/run'] });
  const layout = join(base, 'oci-one');
  writeOciLayout(layout, 'v1', { digest: img.manifestDigest, body: img.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, img.blobs);
  // OCI manifest as is; Docker schema2; zstd layers; uncompressed layers (OCI media type .tar)
  skopeoPush(`oci:${layout}:v1`, `docker://${reg.host}/test/oci:v1`, ['--preserve-digests']);
  skopeoPush(`oci:${layout}:v1`, `docker://${reg.host}/test/docker:v1`, ['--format', 'v2s2']);
  // zstd: skopeo reuses compressed blobs as they are, so it gets the layers uncompressed to compress
  const unz = buildImage({ layers: [await busyboxLayer(), appLayer], cmd: ['/bin/sh', '/app/run'], compress: 'none' });
  const unzLayout = join(base, 'oci-unz');
  writeOciLayout(unzLayout, 'v1', { digest: unz.manifestDigest, body: unz.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, unz.blobs);
  skopeoPush(`oci:${unzLayout}:v1`, `docker://${reg.host}/test/zstd:v1`, ['--dest-compress', '--dest-compress-format', 'zstd', '--format', 'oci']);
  const plain = buildImage({ layers: [appLayer], compress: 'none' });
  const plainLayout = join(base, 'oci-plain');
  writeOciLayout(plainLayout, 'v1', { digest: plain.manifestDigest, body: plain.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, plain.blobs);
  skopeoPush(`oci:${plainLayout}:v1`, `docker://${reg.host}/test/plain:v1`, ['--preserve-digests']);
  // an index: amd64 and arm64, each with its own marker layer
  const amd = buildImage({ layers: [await makeTar([{ name: 'arch', data: 'amd64\n' }])], arch: 'amd64' });
  const arm = buildImage({ layers: [await makeTar([{ name: 'arch', data: 'arm64\n' }])], arch: 'arm64' });
  const index = buildIndex([
    { image: arm, arch: 'arm64', variant: 'v8' },
    { image: amd, arch: 'amd64' },
  ]);
  const multi = join(base, 'oci-multi');
  writeOciLayout(multi, 'v1', { digest: index.digest, body: index.body, mediaType: 'application/vnd.oci.image.index.v1+json' }, index.blobs);
  skopeoPush(`oci:${multi}:v1`, `docker://${reg.host}/test/multi:v1`, ['--all', '--preserve-digests']);
}, 180_000);

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
  await reg?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('registry pull (docker-registry on loopback)', () => {
  it('pings /v2/ over plain http on loopback', async () => {
    const c = new RegistryClient();
    const p = await c.ping(reg.host);
    expect(p.status).toBe(200);
    expect(p.url).toBe(`http://${reg.host}/v2/`);
  });

  it('pulls an OCI image with gzip layers: same manifest digest, layers unpacked, progress per layer', async () => {
    const sink = newStore('s-oci');
    const events: PullEvent[] = [];
    const r = await pullImage(new RegistryClient(), sink, `${reg.host}/test/oci:v1`, { onProgress: (e) => events.push(e) });
    expect(r.ref).toBe(`${reg.host}/test/oci:v1`);
    expect(r.manifestDigest).toBe(img.manifestDigest);
    expect(r.image.id).toBe(img.configDigest);
    expect(r.image.layers.map((l) => l.diffId)).toEqual(img.diffIds);
    expect(readFileSync(join(r.image.layers[1].dir, 'app/hello.txt'), 'utf8')).toBe('hello from the registry\n');
    expect(readFileSync(join(r.image.layers[0].dir, 'bin/busybox')).length).toBeGreaterThan(100_000);
    const layerEvents = events.filter((e) => e.type === 'layer');
    for (const d of img.diffIds.map((_, i) => JSON.parse(img.manifest.toString()).layers[i].digest as string)) {
      const mine = layerEvents.filter((e) => e.type === 'layer' && e.digest === d);
      expect(mine.map((e) => e.type === 'layer' && e.status)).toEqual(expect.arrayContaining(['waiting', 'downloading', 'downloaded', 'extracting', 'complete']));
      const last = mine.filter((e) => e.type === 'layer' && e.status === 'downloading').at(-1);
      expect(last && last.type === 'layer' && last.current === last.total).toBe(true);
    }
    expect(events.some((e) => e.type === 'status' && e.message.startsWith('Status: Downloaded newer image'))).toBe(true);
    // again: up to date, nothing downloaded
    const again: PullEvent[] = [];
    const r2 = await pullImage(new RegistryClient(), sink, `${reg.host}/test/oci:v1`, { onProgress: (e) => again.push(e) });
    expect(r2.upToDate).toBe(true);
    expect(again.some((e) => e.type === 'layer' && e.status === 'downloading')).toBe(false);
  });

  it('pulls a Docker schema2 image', async () => {
    const m = await httpGet(`${reg.url}/v2/test/docker/manifests/v1`, { Accept: 'application/vnd.docker.distribution.manifest.v2+json' });
    expect(JSON.parse(m.body.toString()).mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const r = await pullImage(new RegistryClient(), newStore('s-docker'), `${reg.host}/test/docker:v1`);
    expect(r.manifestDigest).toBe(sha256(m.body));
    expect(r.image.config.rootfs.diff_ids).toEqual(img.diffIds);
    expect(readFileSync(join(r.image.layers[1].dir, 'app/run'), 'utf8')).toContain('echo ok');
  });

  it('pulls zstd layers (through the zstd program)', async () => {
    const m = JSON.parse((await httpGet(`${reg.url}/v2/test/zstd/manifests/v1`, { Accept: 'application/vnd.oci.image.manifest.v1+json' })).body.toString());
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd', 'application/vnd.oci.image.layer.v1.tar+zstd']);
    const r = await pullImage(new RegistryClient(), newStore('s-zstd'), `${reg.host}/test/zstd:v1`);
    expect(r.image.layers.map((l) => l.diffId)).toEqual(img.diffIds);
    expect(readFileSync(join(r.image.layers[1].dir, 'app/hello.txt'), 'utf8')).toBe('hello from the registry\n');
  });

  it('pulls uncompressed layers', async () => {
    const r = await pullImage(new RegistryClient(), newStore('s-plain'), `${reg.host}/test/plain:v1`);
    expect(r.image.layers[0].diffId).toBe(sha256(appLayer));
    expect(existsSync(join(r.image.layers[0].dir, 'app/run'))).toBe(true);
  });

  it('picks linux/amd64 from an index, or the platform asked for; says which platforms exist when none fits', async () => {
    const amd = await pullImage(new RegistryClient(), newStore('s-multi'), `${reg.host}/test/multi:v1`);
    expect(amd.platform).toBe('linux/amd64');
    expect(readFileSync(join(amd.image.layers[0].dir, 'arch'), 'utf8')).toBe('amd64\n');
    expect(amd.digest).not.toBe(amd.manifestDigest); // the tag points at the index
    const arm = await pullImage(new RegistryClient({ platform: { os: 'linux', architecture: 'arm64' } }), newStore('s-multi-arm'), `${reg.host}/test/multi:v1`);
    expect(readFileSync(join(arm.image.layers[0].dir, 'arch'), 'utf8')).toBe('arm64\n');
    await expect(pullImage(new RegistryClient({ platform: { os: 'linux', architecture: 's390x' } }), newStore('s-multi-s390'), `${reg.host}/test/multi:v1`)).rejects.toThrow(
      /no matching manifest for linux\/s390x.*linux\/arm64\/v8, linux\/amd64/,
    );
    // by digest: the index's digest pins it
    const byDigest = await pullImage(new RegistryClient(), newStore('s-multi-digest'), `${reg.host}/test/multi@${amd.digest}`);
    expect(byDigest.manifestDigest).toBe(amd.manifestDigest);
  });

  it('a missing tag or repository is NotFound', async () => {
    await expect(pullImage(new RegistryClient(), newStore('s-missing'), `${reg.host}/test/oci:nope`)).rejects.toThrow(/manifest for .* not found/);
    await expect(pullImage(new RegistryClient(), newStore('s-missing'), `${reg.host}/nobody/here:v1`)).rejects.toThrow(/not found/);
  });

  it('refuses plain http to a registry that is neither loopback nor listed as insecure', async () => {
    const c = new RegistryClient();
    expect(c.allowHttp(new URL('http://127.0.0.1:5000/'))).toBe(true);
    expect(c.allowHttp(new URL('http://localhost:5000/'))).toBe(true);
    expect(c.allowHttp(new URL('http://10.0.0.1:5000/'))).toBe(false);
    expect(new RegistryClient({ insecureRegistries: ['10.0.0.1:5000'] }).allowHttp(new URL('http://10.0.0.1:5000/'))).toBe(true);
    // refused before any connection is made
    await expect(request(new URL('http://10.0.0.1:5000/v2/'), { allowHttp: c.allowHttp })).rejects.toThrow(/refusing plain http to 10\.0\.0\.1:5000/);
  });
});

describe('Bearer-token registry with a blob redirect', () => {
  // The proxy (one port) is the registry for the client: /v2/ needs "Authorization: Bearer <t>",
  // /token hands tokens out (Basic user:secret required), and blob GETs answer 307 to a blob
  // server on another port, which refuses any request that carries an Authorization header.
  const TOKEN = 'tok-' + Math.random().toString(36).slice(2);
  const ANON = 'anon-' + Math.random().toString(36).slice(2);
  let proxyPort: number;
  let blobPort: number;
  const seen = { tokenRequests: [] as string[], blobAuth: [] as (string | undefined)[], unauthorized: 0, manifestAuth: [] as (string | undefined)[] };

  function forward(path: string, headers: http.IncomingHttpHeaders, res: http.ServerResponse): void {
    const up = http.request(`${reg.url}${path}`, { headers: { accept: headers.accept ?? '*/*' } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end();
  }

  beforeAll(async () => {
    proxyPort = await freePort();
    blobPort = await freePort();
    const realm = `http://127.0.0.1:${proxyPort}/token`;
    const proxy = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${proxyPort}`);
      if (url.pathname === '/token') {
        seen.tokenRequests.push(url.search);
        // a public repository: anonymous tokens, good for it alone (Docker Hub's flow)
        if (!req.headers.authorization && url.searchParams.get('scope') === 'repository:test/docker:pull') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: ANON, expires_in: 300 }));
          return;
        }
        if (req.headers.authorization !== 'Basic ' + Buffer.from('learner:secret').toString('base64')) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
        return;
      }
      const anonOk = req.headers.authorization === `Bearer ${ANON}` && url.pathname.startsWith('/v2/test/docker/');
      if (req.headers.authorization !== `Bearer ${TOKEN}` && !anonOk) {
        seen.unauthorized++;
        const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1];
        res
          .writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': `Bearer realm="${realm}",service="gb-test"${repo ? `,scope="repository:${repo}:pull"` : ''}`,
          })
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      if (/\/blobs\/sha256:/.test(url.pathname)) {
        res.writeHead(307, { location: `http://127.0.0.1:${blobPort}/storage${url.pathname}` }).end();
        return;
      }
      if (/\/manifests\//.test(url.pathname)) seen.manifestAuth.push(req.headers.authorization);
      forward(url.pathname, req.headers, res);
    });
    const blobs = http.createServer((req, res) => {
      seen.blobAuth.push(req.headers.authorization);
      if (req.headers.authorization) {
        res.writeHead(400).end('an Authorization header leaked to the blob host');
        return;
      }
      forward((req.url ?? '').replace(/^\/storage/, ''), req.headers, res);
    });
    await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
    await new Promise<void>((r) => blobs.listen(blobPort, '127.0.0.1', r));
    servers.push(proxy, blobs);
  });

  it('gets a token with Basic credentials, retries with it, follows the blob redirect without the Authorization header', async () => {
    const host = `127.0.0.1:${proxyPort}`;
    const client = new RegistryClient({ credentials: { [host]: { username: 'learner', password: 'secret' } } });
    const r = await pullImage(client, newStore('s-bearer'), `${host}/test/oci:v1`);
    expect(r.manifestDigest).toBe(img.manifestDigest);
    expect(readFileSync(join(r.image.layers[1].dir, 'app/hello.txt'), 'utf8')).toBe('hello from the registry\n');
    expect(seen.tokenRequests[0]).toContain('service=gb-test');
    expect(seen.tokenRequests[0]).toContain('scope=repository%3Atest%2Foci%3Apull');
    expect(seen.manifestAuth.every((a) => a === `Bearer ${TOKEN}`)).toBe(true);
    expect(seen.blobAuth.length).toBeGreaterThanOrEqual(3); // config + two layers, all redirected
    expect(seen.blobAuth.every((a) => a === undefined)).toBe(true);
    expect(seen.tokenRequests.length).toBe(1); // the token is cached for the repository
  });

  it('without credentials the token server refuses, and the pull says so', async () => {
    const host = `127.0.0.1:${proxyPort}`;
    const err = await pullImage(new RegistryClient(), newStore('s-bearer-anon'), `${host}/test/oci:v1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(/token server .* refused \(401: unauthorized: bad credentials\).*no credentials configured/);
    expect(readdirSync(join(base, 's-bearer-anon', 'images', 'layers', 'sha256'))).toEqual([]);
  });

  it('anonymous tokens (access_token) for a public repository, without credentials', async () => {
    const host = `127.0.0.1:${proxyPort}`;
    const r = await pullImage(new RegistryClient(), newStore('s-bearer-public'), `${host}/test/docker:v1`);
    expect(r.image.config.rootfs.diff_ids).toEqual(img.diffIds);
    expect(seen.blobAuth.every((a) => a === undefined)).toBe(true);
  });
});

describe('in the engine: a pulled image runs; docker commit of the container runs too', () => {
  it('pull → run → commit → run', async () => {
    const { openTestEngine, runToExit } = await import('./support.js');
    const { ImageService } = await import('../../server/engine/images/service.js');
    const env = await openTestEngine();
    try {
      const svc = new ImageService(env.engine.images);
      const pulled = await svc.pull(`${reg.host}/test/zstd:v1`);
      const first = await runToExit(env.engine, { image: pulled.ref, cmd: ['/bin/sh', '-c', 'cat /app/hello.txt; echo changed > /app/hello.txt; rm /etc/passwd; mkdir -p /made; echo new > /made/file'] });
      expect(first.stdout).toBe('hello from the registry\n');
      expect(first.exitCode).toBe(0);
      const c = await svc.commit(env.engine.get(first.id), { ref: 'committed/from-zstd:1', comment: 'lesson' });
      expect(c.image.layers).toHaveLength(3);
      const second = await runToExit(env.engine, { image: 'committed/from-zstd:1', cmd: ['/bin/sh', '-c', 'cat /app/hello.txt /made/file; test -e /etc/passwd || echo no-passwd'] });
      expect(second.stdout).toBe('changed\nnew\nno-passwd\n');
      expect(env.engine.inspectImage('committed/from-zstd:1').history.at(-1)?.createdBy).toContain('/bin/sh -c cat /app/hello.txt');
    } finally {
      await env.cleanup();
    }
  });
});
