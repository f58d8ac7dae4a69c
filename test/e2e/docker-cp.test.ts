// The real docker CLI (28.x) against Glassbox for files in and out: docker cp both ways, running
// and stopped, the X-Docker-Container-Path-Stat header, docker export → docker import round trip
// with --change; and the attacks: a symlink in the container that points at a host directory, and
// hostile tars (../ names, absolute names, a symlink then a file through it) sent with `docker cp -`.
// The host's canary directory must be untouched every time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { makeTar } from '../integration/image-fixtures.js';
import { requireHost } from '../helpers.js';
import { closeDockerEnv, DOCKER, dockerClient, openDockerEnv, socketRequest, type DockerTestEnv } from './docker-support.js';
import { busyboxRoot, dockerBytes, dockerIn } from './volume-support.js';

requireHost('docker-cp e2e', { root: true, binaries: [DOCKER, '/bin/busybox', '/usr/bin/tar'] });

let env: DockerTestEnv | undefined;
let base = '';
let sock = '';
let engine: Engine | undefined;
const { docker, ok } = dockerClient(() => sock, { timeoutMs: 120_000, maxBuffer: 64 << 20 });
let canary = '';

function head(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method: 'HEAD', path }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const canaryIntact = () => {
  expect(readdirSync(canary).sort()).toEqual(['canary']);
  expect(readFileSync(join(canary, 'canary'), 'utf8')).toBe('host file\n');
};

describe('docker cp, export and import against Glassbox', () => {
  beforeAll(async () => {
    env = await openDockerEnv('gbtv1-');
    ({ base, engine, sock } = env);
    canary = join(base, 'host-canary');
    mkdirSync(canary);
    writeFileSync(join(canary, 'canary'), 'host file\n');
    // an image with symlinks that point out of the root: absolute to the canary's host path, and relative with ../
    const img = await busyboxRoot([
      { name: 'escape', type: 'symlink', linkname: canary },
      { name: 'up', type: 'symlink', linkname: '../../../../../../../..' },
      { name: 'srv/', type: 'directory', mode: 0o755 },
      { name: 'srv/app.txt', data: 'app\n' },
    ]);
    const r = await dockerIn(sock, ['import', '--change', 'CMD ["/bin/sh"]', '-', 'gbtv1-links:1'], img);
    if (r.code !== 0) throw new Error(`docker import: ${r.err}`);
  }, 180_000);

  afterAll(async () => {
    expect((await closeDockerEnv(env)).mounts).toEqual([]);
  }, 120_000);

  it('cp both ways into a running and a stopped container; the path stat header', async () => {
    const local = join(base, 'local');
    mkdirSync(local);
    writeFileSync(join(local, 'in.txt'), 'to the container\n');
    await ok('run', '-d', '--name', 'gbtv1-run', 'gbtv1-links:1', 'sleep', '600');
    await ok('cp', join(local, 'in.txt'), 'gbtv1-run:/tmp/');
    expect(await ok('exec', 'gbtv1-run', 'cat', '/tmp/in.txt')).toBe('to the container\n');
    await ok('exec', 'gbtv1-run', 'sh', '-c', 'mkdir -p /out/d && echo made inside > /out/d/f');
    await ok('cp', 'gbtv1-run:/out/d', join(local, 'd'));
    expect(readFileSync(join(local, 'd', 'f'), 'utf8')).toBe('made inside\n');

    const h = await head('/containers/gbtv1-run/archive?path=/srv/app.txt');
    expect(h.status).toBe(200);
    const stat = JSON.parse(Buffer.from(String(h.headers['x-docker-container-path-stat']), 'base64').toString()) as { name: string; size: number; mode: number; linkTarget: string };
    expect(stat).toMatchObject({ name: 'app.txt', size: 4, linkTarget: '' });
    expect(stat.mode & 0o777).toBe(0o644);
    const link = await head('/containers/gbtv1-run/archive?path=/escape');
    const ls = JSON.parse(Buffer.from(String(link.headers['x-docker-container-path-stat']), 'base64').toString()) as { mode: number; linkTarget: string };
    expect(ls.linkTarget).toBe(canary);
    expect(ls.mode >= 2 ** 27).toBe(true); // Go's ModeSymlink bit
    expect((await head('/containers/gbtv1-run/archive?path=/nope')).status).toBe(404);
    const missing = await docker('cp', 'gbtv1-run:/nope', join(local, 'x'));
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/Could not find the file \/nope/);

    // stopped: the overlay is mounted for the copy only
    await ok('create', '--name', 'gbtv1-stopped', 'gbtv1-links:1', 'cat', '/tmp/in.txt');
    await ok('cp', join(local, 'in.txt'), 'gbtv1-stopped:/tmp/in.txt');
    await ok('start', '-a', 'gbtv1-stopped');
    expect(await ok('logs', 'gbtv1-stopped')).toBe('to the container\n');
    await ok('cp', 'gbtv1-stopped:/srv/app.txt', join(local, 'app.txt'));
    expect(readFileSync(join(local, 'app.txt'), 'utf8')).toBe('app\n');
    await ok('rm', 'gbtv1-stopped');
  });

  it('a symlink in the container to a host directory is followed inside the container, both ways', async () => {
    const local = join(base, 'local2');
    mkdirSync(local);
    writeFileSync(join(local, 'drop.txt'), 'dropped\n');
    // the link's target does not exist inside the container: nothing to copy into, nothing read from the host
    const into = await docker('cp', join(local, 'drop.txt'), 'gbtv1-run:/escape/');
    expect(into.code).not.toBe(0);
    canaryIntact();
    const out = await docker('cp', 'gbtv1-run:/escape/canary', join(local, 'stolen'));
    expect(out.code).not.toBe(0);
    expect(readdirSync(local)).toEqual(['drop.txt']);
    const up = await docker('cp', `gbtv1-run:/up${canary}/canary`, join(local, 'stolen'));
    expect(up.code).not.toBe(0);
    // the same path made inside the container: the copy lands there, in the container
    await ok('exec', 'gbtv1-run', 'mkdir', '-p', canary);
    await ok('cp', join(local, 'drop.txt'), 'gbtv1-run:/escape/');
    await ok('cp', join(local, 'drop.txt'), `gbtv1-run:/up${canary}/drop2.txt`);
    expect(await ok('exec', 'gbtv1-run', 'cat', `${canary}/drop.txt`, `${canary}/drop2.txt`)).toBe('dropped\ndropped\n');
    canaryIntact();
    await ok('cp', 'gbtv1-run:/escape/.', join(local, 'fromlink'));
    expect(readdirSync(join(local, 'fromlink')).sort()).toEqual(['drop.txt', 'drop2.txt']);
  });

  it('hostile tars sent with docker cp - never write outside the container', async () => {
    const send = (tar: Buffer, dest: string) => dockerIn(sock, ['cp', '-', `gbtv1-run:${dest}`], tar);
    await ok('exec', 'gbtv1-run', 'mkdir', '-p', '/dest');
    // ../ names: refused, by name
    const dots = await send(await makeTar([{ name: `../../../../../../../..${canary}/dots`, data: 'x' }]), '/dest');
    expect(dots.code).not.toBe(0);
    expect(dots.err).toMatch(/climbs out of the destination/);
    canaryIntact();
    // absolute names: taken as relative to the destination
    const abs = await send(await makeTar([{ name: `${canary}/abs`, data: 'abs\n' }]), '/dest');
    expect(abs.code).toBe(0);
    expect(await ok('exec', 'gbtv1-run', 'cat', `/dest${canary}/abs`)).toBe('abs\n');
    canaryIntact();
    // a symlink to the host path, then a file through it: it lands at that path inside the container
    const through = await send(
      await makeTar([
        { name: 'hop', type: 'symlink', linkname: canary },
        { name: 'hop/through', data: 'through\n' },
        { name: 'rel', type: 'symlink', linkname: '../../../../../../../../..' },
        { name: `rel${canary}/through-rel`, data: 'rel\n' },
      ]),
      '/dest',
    );
    expect(through.code).toBe(0);
    expect(await ok('exec', 'gbtv1-run', 'cat', `${canary}/through`, `${canary}/through-rel`)).toBe('through\nrel\n');
    canaryIntact();
    // a hard link to a host file: the link's target is looked up inside the destination
    const hard = await send(await makeTar([{ name: 'hl', type: 'link', linkname: `../../../../..${canary}/canary` }]), '/dest');
    expect(hard.code).not.toBe(0);
    const hard2 = await send(await makeTar([{ name: 'hl', type: 'link', linkname: 'hop/through' }]), '/dest');
    expect(hard2.code).toBe(0);
    expect(await ok('exec', 'gbtv1-run', 'cat', '/dest/hl')).toBe('through\n');
    // a device node: refused by name
    const dev = await send(await makeTar([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 } as never]), '/dest');
    expect(dev.code).not.toBe(0);
    expect(dev.err).toMatch(/device node: refused/);
    // a directory is not replaced by a file
    const dir = await send(await makeTar([{ name: 'srv', data: 'not a dir' }]), '/');
    expect(dir.code).not.toBe(0);
    expect(dir.err).toMatch(/cannot overwrite directory \/srv with non-directory/);
    expect(await ok('exec', 'gbtv1-run', 'cat', '/srv/app.txt')).toBe('app\n');
    canaryIntact();
  });

  it('a user-namespaced container gets files owned by its own root', async () => {
    // the docker CLI knows only --userns host: the create goes through the API with UsernsMode private
    const c = await socketRequest(sock, 'POST', '/containers/create?name=gbtv1-userns', JSON.stringify({ Image: 'gbtv1-links:1', Cmd: ['sleep', '600'], HostConfig: { UsernsMode: 'private' } }));
    expect(c.status).toBe(201);
    await ok('start', 'gbtv1-userns');
    expect(engine!.get('gbtv1-userns').config.namespaces?.user).toBe(true);
    writeFileSync(join(base, 'u.txt'), 'u\n');
    await ok('cp', join(base, 'u.txt'), 'gbtv1-userns:/tmp/u.txt');
    expect((await ok('exec', 'gbtv1-userns', 'stat', '-c', '%u:%g', '/tmp/u.txt')).trim()).toBe('0:0');
    await ok('exec', 'gbtv1-userns', 'sh', '-c', 'echo back > /tmp/back');
    const out = join(base, 'userns-out');
    mkdirSync(out);
    await ok('cp', 'gbtv1-userns:/tmp/back', join(out, 'back'));
    expect(readFileSync(join(out, 'back'), 'utf8')).toBe('back\n');
    const tar = await dockerBytes(sock, ['cp', 'gbtv1-userns:/tmp/back', '-']);
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: tar }).toString();
    expect(listing).toMatch(/ 0\/0 /); // the container's view of its owners, not the host's shifted ids
    await ok('rm', '-f', 'gbtv1-userns');
  });

  it('export → import round trip with --change; bad input refused by name', async () => {
    await ok('exec', 'gbtv1-run', 'sh', '-c', 'echo exported > /marker');
    const tarPath = join(base, 'export.tar');
    await ok('export', '-o', tarPath, 'gbtv1-run');
    const names = execFileSync('tar', ['-tf', tarPath]).toString().split('\n');
    expect(names).toContain('marker');
    expect(names).toContain('bin/busybox');
    expect(names.some((n) => n.startsWith('proc/') && n !== 'proc/')).toBe(false);
    const imp = await ok('import', '--change', 'CMD ["sh", "-c", "cat /marker; echo $GREETING"]', '--change', 'ENV GREETING=hello', '-m', 'round trip', tarPath, 'gbtv1-imported:1');
    expect(imp.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await ok('run', '--rm', 'gbtv1-imported:1')).toBe('exported\nhello\n');
    const [img] = JSON.parse(await ok('image', 'inspect', 'gbtv1-imported:1')) as { RootFS: { Layers: string[] } }[];
    expect(img.RootFS.Layers).toHaveLength(1);
    const bad = await docker('import', '--change', 'RUN rm -rf /', tarPath, 'gbtv1-bad:1');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/RUN is not supported/);
    expect((await ok('images', '-q', 'gbtv1-bad')).trim()).toBe('');
    const url = await docker('import', 'http://127.0.0.1:1/x.tar', 'gbtv1-bad:1');
    expect(url.code).not.toBe(0);
    expect(url.err).toMatch(/from a URL/);
    // the stopped container exports too
    await ok('stop', '-t', '0', 'gbtv1-run');
    await ok('export', '-o', join(base, 'stopped.tar'), 'gbtv1-run');
    expect(execFileSync('tar', ['-tf', join(base, 'stopped.tar')]).toString().split('\n')).toContain('marker');
    await ok('rm', 'gbtv1-run');
  });
});
