// The real docker CLI (28.x) against Glassbox for volumes: docker volume create/ls/inspect/rm/prune,
// data that outlives its container (and is not in its layer), an image's VOLUME seeded into a new
// volume (and not with volume-nocopy), --volumes-from, rm -v, a user-namespaced container writing
// its volume, and a hostile image whose VOLUME path is a symlink out of its root: the copy and the
// mount stay inside the container, the host's canary directory is untouched.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { requireHost } from '../helpers.js';
import { closeDockerEnv, DOCKER, dockerClient, openDockerEnv, socketRequest, type DockerTestEnv } from './docker-support.js';
import { busyboxRoot, dockerIn } from './volume-support.js';

requireHost('docker-volumes e2e', { root: true, binaries: [DOCKER, '/bin/busybox'] });

let env: DockerTestEnv | undefined;
let base = '';
let sock = '';
let engine: Engine | undefined;
const { docker, ok } = dockerClient(() => sock, { timeoutMs: 120_000 });

const volumesDir = () => join(base, 'root', 'volumes');

async function createUserns(name: string, image: string, cmd: string[], binds: string[]): Promise<void> {
  const r = await socketRequest(sock, 'POST', `/containers/create?name=${name}`, JSON.stringify({ Image: image, Cmd: cmd, HostConfig: { UsernsMode: 'private', Binds: binds } }));
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.json)}`);
}

describe('docker volumes against Glassbox', () => {
  let canary = '';
  beforeAll(async () => {
    env = await openDockerEnv('gbtv-');
    ({ base, engine, sock } = env);
    canary = join(base, 'host-canary');
    mkdirSync(canary);
    writeFileSync(join(canary, 'canary'), 'host file\n');
    // an image whose VOLUME /data holds files to seed a new volume with
    const seed = await busyboxRoot([
      { name: 'data/', type: 'directory', mode: 0o750 },
      { name: 'data/seed.txt', data: 'from the image\n', mode: 0o640 },
      { name: 'data/sub/', type: 'directory', mode: 0o755 },
      { name: 'data/sub/deep.txt', data: 'deep\n' },
    ]);
    const r = await dockerIn(sock, ['import', '--change', 'VOLUME /data', '--change', 'CMD ["/bin/sh"]', '-', 'gbtv-seed:1'], seed);
    if (r.code !== 0) throw new Error(`docker import: ${r.err}`);
    // hostile: VOLUME /data where /data is an absolute symlink to the host canary's path, and
    // VOLUME /rel a relative one that climbs with ../
    const hostile = await busyboxRoot([
      { name: 'data', type: 'symlink', linkname: canary },
      { name: 'rel', type: 'symlink', linkname: `../../../../../../..${canary}` },
    ]);
    const h = await dockerIn(sock, ['import', '--change', 'VOLUME ["/data", "/rel"]', '--change', 'CMD ["/bin/sh"]', '-', 'gbtv-hostile:1'], hostile);
    if (h.code !== 0) throw new Error(`docker import: ${h.err}`);
  }, 180_000);

  afterAll(async () => {
    expect((await closeDockerEnv(env)).mounts).toEqual([]);
  }, 120_000);

  it('volume create, ls, inspect, rm; bad input is refused by name and makes nothing', async () => {
    expect((await ok('volume', 'create', '--label', 'course=gb', 'gbtv-v1')).trim()).toBe('gbtv-v1');
    expect((await ok('volume', 'create', 'gbtv-v1')).trim()).toBe('gbtv-v1'); // the same volume again, as Docker
    const [v] = JSON.parse(await ok('volume', 'inspect', 'gbtv-v1')) as { Name: string; Driver: string; Mountpoint: string; Labels: Record<string, string>; Scope: string }[];
    expect(v).toMatchObject({ Name: 'gbtv-v1', Driver: 'local', Scope: 'local', Labels: { course: 'gb' }, Mountpoint: join(volumesDir(), 'gbtv-v1', '_data') });
    expect(statSync(v.Mountpoint).isDirectory()).toBe(true);
    expect((statSync(volumesDir()).mode & 0o777).toString(8)).toBe('700');
    expect((await ok('volume', 'ls', '-q')).split('\n')).toContain('gbtv-v1');
    expect((await ok('volume', 'ls', '-q', '--filter', 'label=course=gb')).trim()).toBe('gbtv-v1');
    expect((await ok('volume', 'ls', '-q', '--filter', 'label=course=other')).trim()).toBe('');
    expect((await ok('volume', 'ls', '-q', '--filter', 'name=v1')).trim()).toBe('gbtv-v1');
    expect((await ok('volume', 'ls', '-q', '--filter', 'dangling=true')).split('\n')).toContain('gbtv-v1');

    const before = readdirSync(volumesDir()).sort();
    const driver = await docker('volume', 'create', '-d', 'nfs', 'gbtv-bad');
    expect(driver.code).not.toBe(0);
    expect(driver.err).toMatch(/volume driver "nfs" is not available/);
    const opt = await docker('volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'gbtv-bad');
    expect(opt.code).not.toBe(0);
    expect(opt.err).toMatch(/volume option "(type|device)" is not supported/);
    const name = await docker('volume', 'create', 'gbtv/../etc');
    expect(name.code).not.toBe(0);
    expect(name.err).toMatch(/includes invalid characters for a local volume name/);
    expect(readdirSync(volumesDir()).sort()).toEqual(before);

    const missing = await docker('volume', 'inspect', 'gbtv-none');
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/no such volume/);
    await ok('volume', 'rm', 'gbtv-v1');
    expect(existsSync(join(volumesDir(), 'gbtv-v1'))).toBe(false);
    await ok('volume', 'rm', '-f', 'gbtv-v1'); // -f: a missing volume is no error
  });

  it('data outlives its container, lives outside its layer, and a used volume is not removed', async () => {
    await ok('run', '--name', 'gbtv-w', '-v', 'gbtv-data:/data', 'base', 'sh', '-c', 'echo kept > /data/f; echo layer > /tmp/l');
    const rec = engine!.get('gbtv-w');
    expect(existsSync(join(rec.paths.upper, 'data', 'f'))).toBe(false); // not in the union's upper layer
    expect(existsSync(join(rec.paths.upper, 'tmp', 'l'))).toBe(true);
    expect(readFileSync(join(volumesDir(), 'gbtv-data', '_data', 'f'), 'utf8')).toBe('kept\n');
    const inUse = await docker('volume', 'rm', 'gbtv-data');
    expect(inUse.code).not.toBe(0);
    expect(inUse.err).toMatch(/volume is in use/);
    const forced = await docker('volume', 'rm', '-f', 'gbtv-data');
    expect(forced.code).not.toBe(0);
    expect((await ok('volume', 'ls', '-q', '--filter', 'dangling=true')).split('\n')).not.toContain('gbtv-data');
    await ok('rm', '-v', 'gbtv-w'); // -v takes anonymous volumes only: a named one stays
    expect((await ok('run', '--rm', '-v', 'gbtv-data:/data:ro', 'base', 'cat', '/data/f')).trim()).toBe('kept');
    const ro = await docker('run', '--rm', '-v', 'gbtv-data:/data:ro', 'base', 'sh', '-c', 'echo x > /data/g');
    expect(ro.code).not.toBe(0);
    expect(ro.err + ro.out).toMatch(/Read-only file system/);
    await ok('volume', 'rm', 'gbtv-data');
  });

  it("a new volume is seeded from the image's files, an anonymous one goes with rm -v, nocopy copies nothing", async () => {
    // the image's VOLUME /data: an anonymous volume, seeded
    await ok('run', '--name', 'gbtv-anon', 'gbtv-seed:1', 'sh', '-c', 'cat /data/seed.txt /data/sub/deep.txt; stat -c %a /data');
    expect(await ok('logs', 'gbtv-anon')).toBe('from the image\ndeep\n750\n');
    const [c] = JSON.parse(await ok('inspect', 'gbtv-anon')) as { Mounts: { Type: string; Name: string; Destination: string }[] }[];
    expect(c.Mounts).toHaveLength(1);
    expect(c.Mounts[0]).toMatchObject({ Type: 'volume', Destination: '/data' });
    expect(c.Mounts[0].Name).toMatch(/^[0-9a-f]{64}$/);
    const anon = c.Mounts[0].Name;
    expect((await ok('volume', 'ls', '-q')).split('\n')).toContain(anon);
    const [av] = JSON.parse(await ok('volume', 'inspect', anon)) as { Labels: Record<string, string> }[];
    expect(av.Labels).toHaveProperty(['com.docker.volume.anonymous']);
    await ok('rm', '-v', 'gbtv-anon');
    expect((await ok('volume', 'ls', '-q')).split('\n')).not.toContain(anon);

    // a named volume, new: seeded too; used again, it keeps what the container wrote
    await ok('run', '--rm', '-v', 'gbtv-seeded:/data', 'gbtv-seed:1', 'sh', '-c', 'echo changed > /data/seed.txt');
    expect((await ok('run', '--rm', '-v', 'gbtv-seeded:/data', 'gbtv-seed:1', 'cat', '/data/seed.txt')).trim()).toBe('changed');
    // volume-nocopy: nothing of the image's
    const nc = await ok('run', '--rm', '--mount', 'type=volume,src=gbtv-nocopy,dst=/data,volume-nocopy', 'gbtv-seed:1', 'ls', '-A', '/data');
    expect(nc.trim()).toBe('');
    // -v /path: an anonymous volume; --rm removes it with the container
    const vols = new Set((await ok('volume', 'ls', '-q')).split('\n'));
    expect((await ok('run', '--rm', '-v', '/scratch', 'base', 'sh', '-c', 'echo a > /scratch/a && cat /scratch/a')).trim()).toBe('a');
    expect(new Set((await ok('volume', 'ls', '-q')).split('\n'))).toEqual(vols);
    await ok('volume', 'rm', 'gbtv-seeded', 'gbtv-nocopy');
  });

  it('--volumes-from shares a container\'s volumes, read-only with :ro; --mount options are checked by name', async () => {
    await ok('create', '--name', 'gbtv-src', '-v', 'gbtv-shared:/shared', 'base', 'true');
    await ok('run', '--rm', '--volumes-from', 'gbtv-src', 'base', 'sh', '-c', 'echo via-from > /shared/x');
    expect((await ok('run', '--rm', '--volumes-from', 'gbtv-src:ro', 'base', 'cat', '/shared/x')).trim()).toBe('via-from');
    const ro = await docker('run', '--rm', '--volumes-from', 'gbtv-src:ro', 'base', 'sh', '-c', 'echo y > /shared/y');
    expect(ro.code).not.toBe(0);
    const bad = await docker('run', '--rm', '--volumes-from', 'gbtv-nosuch', 'base', 'true');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/gbtv-nosuch/);
    await ok('rm', 'gbtv-src');

    const prop = await docker('run', '--rm', '--mount', `type=bind,src=${base},dst=/b,bind-propagation=rshared`, 'base', 'true');
    expect(prop.code).not.toBe(0);
    expect(prop.err).toMatch(/bind-propagation=rshared is not supported/);
    const vopt = await docker('run', '--rm', '--mount', 'type=volume,src=gbtv-o,dst=/o,volume-opt=type=tmpfs', 'base', 'true');
    expect(vopt.code).not.toBe(0);
    expect(vopt.err).toMatch(/volume-opt is not supported/);
    expect((await ok('volume', 'ls', '-q')).split('\n')).not.toContain('gbtv-o');
    const tmpfs = await ok('run', '--rm', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770', 'base', 'sh', '-c', 'stat -c %a /t; grep " /t " /proc/mounts');
    expect(tmpfs).toMatch(/^1770\n/);
    expect(tmpfs).toMatch(/size=1024k/);
    const ro2 = await docker('run', '--rm', '--mount', 'type=volume,src=gbtv-r,dst=/r,readonly', 'base', 'touch', '/r/x');
    expect(ro2.code).not.toBe(0);
    await ok('volume', 'rm', 'gbtv-shared', 'gbtv-r');
  });

  it('a user-namespaced container owns and writes its volume; a plain container reads it back', async () => {
    // the docker CLI knows only --userns host: the create goes through the API with UsernsMode private
    await createUserns('gbtv-uns1', 'gbtv-seed:1', ['sh', '-c', 'id -u; stat -c %u /data /data/seed.txt; echo mine > /data/w; stat -c %u /data/w'], ['gbtv-userns:/data']);
    const out = await ok('start', '-a', 'gbtv-uns1');
    expect(engine!.get('gbtv-uns1').config.namespaces?.user).toBe(true);
    expect(out.split('\n').filter(Boolean)).toEqual(['0', '0', '0', '0']);
    // on disk, owner 0 is the container's root: the file is host root's, readable by a plain container
    const onDisk = join(volumesDir(), 'gbtv-userns', '_data', 'w');
    expect(statSync(onDisk).uid).toBe(0);
    expect((await ok('run', '--rm', '-v', 'gbtv-userns:/data', 'base', 'cat', '/data/w')).trim()).toBe('mine');
    // and two user-namespaced containers (two ranges) share it, each as its root
    await createUserns('gbtv-uns2', 'base', ['sh', '-c', 'echo again >> /data/w && cat /data/w'], ['gbtv-userns:/data']);
    expect((await ok('start', '-a', 'gbtv-uns2')).trim()).toBe('mine\nagain');
    await ok('rm', 'gbtv-uns1', 'gbtv-uns2');
    await ok('volume', 'rm', 'gbtv-userns');
  });

  it('a hostile image: VOLUME paths that are symlinks out of the root stay inside the container', async () => {
    const before = readdirSync(canary);
    const r = await docker('run', '--name', 'gbtv-evil', 'gbtv-hostile:1', 'sh', '-c', 'ls -A /data; echo pwned > /data/pwned; echo pwned > /rel/pwned2; ls -A /data /rel');
    // whatever the container saw, the host's canary directory has nothing new and its file is intact
    expect(readdirSync(canary)).toEqual(before);
    expect(readFileSync(join(canary, 'canary'), 'utf8')).toBe('host file\n');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(canary));
    expect(mounts).toEqual([]);
    // the copy-up found no directory inside the root (the link leads to a path missing there): nothing of the host's copied
    for (const m of engine!.get('gbtv-evil').config.mounts ?? []) {
      expect(readdirSync(join(volumesDir(), m.source!, '_data'))).not.toContain('canary');
    }
    expect(r.out).not.toMatch(/^canary$/m);
    await ok('rm', '-v', 'gbtv-evil');
  });

  it('volume prune removes unused anonymous volumes; --all the named ones too; filters by label', async () => {
    await ok('create', '--name', 'gbtv-keep', '-v', 'gbtv-used:/u', 'base', 'true');
    await ok('volume', 'create', 'gbtv-named');
    await ok('volume', 'create', '--label', 'tier=scratch', 'gbtv-labelled');
    await ok('create', '--name', 'gbtv-anon2', '-v', '/anon', 'base', 'true');
    const [c] = JSON.parse(await ok('inspect', 'gbtv-anon2')) as { Mounts: { Name: string }[] }[];
    const anon = c.Mounts[0].Name;
    writeFileSync(join(volumesDir(), anon, '_data', 'blob'), Buffer.alloc(100_000));
    await ok('rm', 'gbtv-anon2'); // without -v: the anonymous volume stays, unused
    const pruned = await ok('volume', 'prune', '-f');
    expect(pruned).toContain(anon);
    expect(pruned).not.toContain('gbtv-named');
    expect(pruned).toMatch(/Total reclaimed space: 100(\.0)?kB/);
    const byLabel = await ok('volume', 'prune', '-f', '--all', '--filter', 'label=tier=scratch');
    expect(byLabel).toContain('gbtv-labelled');
    expect(byLabel).not.toContain('gbtv-named');
    const all = await ok('volume', 'prune', '-f', '--all');
    expect(all).toContain('gbtv-named');
    expect(all).not.toContain('gbtv-used');
    expect((await ok('volume', 'ls', '-q')).trim().split('\n')).toEqual(['gbtv-used']);
    await ok('rm', 'gbtv-keep');
    await ok('volume', 'rm', 'gbtv-used');
  });
});
