// Hostile images whose /etc/hosts, /etc/resolv.conf, /etc/hostname, /etc/passwd, /etc/group, /dev,
// /proc, /sys or a volume target's parent are absolute, relative and "../" symlinks to canaries on
// the host, or FIFOs (in place, or through a symlink). For every one: nothing on the host is
// created, opened or blocked on; the container starts with its mount inside its own root or is
// refused with one clear line; removing it completes. The server side too: passwd/group lookups
// of a running container (exec -u) and `changes`/`commit` of an upper dir that holds a FIFO and a
// symlink to a host file.
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerConfig } from '../../server/engine/types.js';
import { buildImage, busyboxLayer, makeTar, writeOciLayout, type TarEntry } from '../integration/image-fixtures.js';
import { openTestEngine, type TestEnv } from '../integration/support.js';

let env: TestEnv;
let base: string;
// the host files an image points at: made now, because the test cases name them
const canary = mkdtempSync('/tmp/gbcanary-');
let volSource: string; // a host directory bound into containers as a volume
let bb: Buffer;
let n = 0;
let before: string[];

/** Everything under the canary dir: names, kinds, inodes, modes, sizes, mtimes, and file contents. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p); // never follows, never opens: the FIFO canary stays unopened
      out.push(`${p} ino=${st.ino} mode=${st.mode.toString(8)} size=${st.size} mtime=${st.mtimeMs} ${st.isFile() ? readFileSync(p, 'utf8') : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  const st = lstatSync(dir);
  out.push(`${dir} ino=${st.ino} mtime=${st.mtimeMs}`);
  walk(dir);
  return out;
}

/** A hang is the bug: bound every engine call, so a regression fails here instead of timing out vitest. */
async function within<T>(p: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms: it hangs`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function imageWith(entries: TarEntry[]): Promise<string> {
  const ref = `gbpaths/case${n++}:latest`;
  const built = buildImage({ layers: [bb, await makeTar(entries)], compress: 'none' });
  const dir = join(base, `layout-${n}`);
  writeOciLayout(dir, ref, { digest: built.manifestDigest, body: built.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, built.blobs);
  await env.engine.loadImages(dir);
  rmSync(dir, { recursive: true, force: true });
  return ref;
}

type Outcome = { ran: true; stdout: string; exitCode: number } | { ran: false; error: string };

/** create + start + wait + logs, then rm -f: each step bounded. */
async function attempt(entries: TarEntry[], config: Partial<ContainerConfig> & { cmd: string[] }): Promise<Outcome> {
  const image = await imageWith(entries);
  const rec = await within(env.engine.create({ image, hostname: 'pathcase', ...config }), 'create');
  try {
    try {
      await within(env.engine.start(rec.id), 'start');
    } catch (e) {
      return { ran: false, error: (e as Error).message };
    }
    const w = await within(env.engine.wait(rec.id), 'wait');
    let stdout = '';
    for await (const e of env.engine.logs(rec.id)) stdout += e.log;
    return { ran: true, stdout, exitCode: w.exitCode };
  } finally {
    await within(env.engine.remove(rec.id, { force: true }), 'rm -f');
  }
}

beforeAll(async () => {
  base = mkdtempSync('/tmp/gbpaths-');
  chmodSync(base, 0o711);
  writeFileSync(join(canary, 'hosts'), '10.9.9.9\tcanary-host\n');
  writeFileSync(join(canary, 'resolv.conf'), 'nameserver 10.9.9.9\n');
  writeFileSync(join(canary, 'hostname'), 'canary\n');
  writeFileSync(join(canary, 'passwd'), 'evil:x:4242:4242:evil:/evil:/bin/sh\n');
  writeFileSync(join(canary, 'group'), 'grp:x:4242:\n');
  for (const d of ['proc', 'sys', 'dev', 'voldir']) mkdirSync(join(canary, d));
  execFileSync('mkfifo', [join(canary, 'fifo')]); // opening it on the host would block
  volSource = join(base, 'volsrc');
  mkdirSync(volSource);
  writeFileSync(join(volSource, 'payload'), 'payload\n');
  before = snapshot(canary);
  bb = await busyboxLayer();
  env = await openTestEngine();
}, 120_000);

afterEach(() => {
  expect(snapshot(canary)).toEqual(before);
});

afterAll(async () => {
  await env?.cleanup();
  if (base) rmSync(base, { recursive: true, force: true });
  rmSync(canary, { recursive: true, force: true });
});

/** The ways an image can point a path away: at the host (absolute, "../" relative) or at a FIFO. */
function variants(path: string, hostName: string): { name: string; entries: TarEntry[]; fifo: boolean }[] {
  const depth = '../'.repeat(path.split('/').length + 8); // far more ".." than the rootfs is deep on the host
  return [
    { name: 'absolute symlink to a host file', entries: [{ name: path, type: 'symlink', linkname: `${canary}/${hostName}` }], fifo: false },
    { name: 'absolute symlink to a missing host path', entries: [{ name: path, type: 'symlink', linkname: `${canary}/made/${hostName}` }], fifo: false },
    { name: 'relative ../ symlink to a host file', entries: [{ name: path, type: 'symlink', linkname: `${depth}${canary.slice(1)}/${hostName}` }], fifo: false },
    { name: 'symlink to a host FIFO', entries: [{ name: path, type: 'symlink', linkname: `${canary}/fifo` }], fifo: false },
    { name: 'a FIFO', entries: [{ name: path, type: 'fifo' }], fifo: true },
    { name: 'symlink to a FIFO of the image', entries: [{ name: 'tmp/pipe', type: 'fifo' }, { name: path, type: 'symlink', linkname: '/tmp/pipe' }], fifo: true },
  ];
}

function expectOneClearLine(o: Outcome, pattern: RegExp): void {
  expect(o.ran, o.ran ? `ran and printed ${JSON.stringify(o.stdout)}` : '').toBe(false);
  if (o.ran) return;
  expect(o.error).not.toContain('\n');
  expect(o.error).toMatch(pattern);
}

describe('files the engine bind-mounts: /etc/hosts, /etc/resolv.conf, /etc/hostname', () => {
  const files = [
    { path: 'etc/hosts', shows: /127\.0\.0\.1\tlocalhost/ },
    { path: 'etc/resolv.conf', shows: /Glassbox/ },
    { path: 'etc/hostname', shows: /^pathcase$/m },
  ];
  for (const f of files) {
    for (const v of variants(f.path, f.path.split('/')[1])) {
      it(`/${f.path} as ${v.name}: ${v.fifo ? 'refused' : "the engine's file, mounted inside the root"}`, async () => {
        const o = await attempt(v.entries, { cmd: ['/bin/sh', '-c', `cat /${f.path}`] });
        if (v.fifo) return expectOneClearLine(o, new RegExp(`/${f.path} in the container is a FIFO, not a regular file`));
        expect(o).toMatchObject({ ran: true, exitCode: 0 });
        if (o.ran) {
          expect(o.stdout).toMatch(f.shows);
          expect(o.stdout).not.toMatch(/canary/);
        }
      });
    }
  }
});

describe('user lookups: /etc/passwd and /etc/group are read inside the root', () => {
  for (const v of variants('etc/passwd', 'passwd')) {
    it(`/etc/passwd as ${v.name}: -u evil does not find the host's user`, async () => {
      const o = await attempt(v.entries, { cmd: ['/bin/id', '-u'], user: 'evil' });
      expectOneClearLine(o, v.fifo ? /\/etc\/passwd in the container is a FIFO, not a regular file/ : /unable to find user evil: no matching entries in passwd file/);
    });
  }
  for (const v of variants('etc/group', 'group')) {
    it(`/etc/group as ${v.name}: -u root:grp does not find the host's group`, async () => {
      const o = await attempt(v.entries, { cmd: ['/bin/id', '-g'], user: 'root:grp' });
      expectOneClearLine(o, v.fifo ? /\/etc\/group in the container is a FIFO, not a regular file/ : /unable to find group grp: no matching entries in group file/);
    });
  }
  it('a symlink that stays inside the root is still followed (inside it)', async () => {
    const o = await attempt(
      [
        { name: 'usr/', type: 'directory', mode: 0o755 },
        { name: 'usr/share/', type: 'directory', mode: 0o755 },
        { name: 'usr/share/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nlearner:x:1000:1000:learner:/tmp:/bin/sh\n' },
        { name: 'etc/passwd', type: 'symlink', linkname: '../../../../usr/share/passwd' },
      ],
      { cmd: ['/bin/id', '-u'], user: 'learner' },
    );
    expect(o).toMatchObject({ ran: true, exitCode: 0, stdout: '1000\n' });
  });
});

describe('kernel filesystems: /proc, /sys, /dev are mounted on ordinary directories only', () => {
  for (const d of ['proc', 'sys', 'dev']) {
    for (const v of variants(d, d)) {
      it(`/${d} as ${v.name}: refused with one line`, async () => {
        const o = await attempt(v.entries, { cmd: ['/bin/true'] });
        const isFifo = v.name === 'a FIFO'; // the others are symlinks: refused as such, whatever they name
        expectOneClearLine(o, new RegExp(`/${d} in the container is ${isFifo ? 'a FIFO, not a directory' : 'a symlink: it must be an ordinary directory'}`));
      });
    }
  }
});

describe('a volume whose target parent is a symlink or a FIFO', () => {
  for (const v of variants('data', 'voldir')) {
    it(`/data as ${v.name}: ${v.fifo ? 'refused' : 'the volume is mounted inside the root'}`, async () => {
      const o = await attempt(v.entries, { cmd: ['/bin/cat', '/data/vol/payload'], mounts: [{ type: 'bind', source: volSource, target: '/data/vol' }] });
      if (v.fifo) return expectOneClearLine(o, /resolve \/data\/vol in the container: Not a directory/);
      expect(o).toMatchObject({ ran: true, exitCode: 0, stdout: 'payload\n' });
    });
  }
});

describe('mount destinations are checked before anything is made', () => {
  const bad = [
    { target: 'etc/x', why: /mounts\[0\]\.target "etc\/x" is invalid: a mount destination must be an absolute path/ },
    { target: '/data/../../x', why: /mounts\[0\]\.target "\/data\/\.\.\/\.\.\/x" is invalid: a mount destination must not contain "\.\."/ },
    { target: '/..', why: /must not contain "\.\."/ },
    { target: '/', why: /a mount destination cannot be "\/"/ },
  ];
  for (const b of bad) {
    it(`refuses the destination ${JSON.stringify(b.target)}`, async () => {
      const image = await imageWith([]);
      const count = env.engine.list({ all: true }).length;
      await expect(env.engine.create({ image, cmd: ['/bin/true'], mounts: [{ type: 'bind', source: volSource, target: b.target }] })).rejects.toThrow(b.why);
      expect(env.engine.list({ all: true }).length).toBe(count);
    });
  }
  it('refuses a relative bind source', async () => {
    const image = await imageWith([]);
    await expect(env.engine.create({ image, cmd: ['/bin/true'], mounts: [{ type: 'bind', source: 'volsrc', target: '/data' }] })).rejects.toThrow(/mounts\[0\]\.source "volsrc" is invalid: a bind source must be an absolute host path/);
  });
});

describe('a running container changes its files under the server', () => {
  it('exec -u root:grp after /etc/group became a FIFO, then a symlink to the host: refused, never blocked', async () => {
    const image = await imageWith([]);
    const rec = await within(env.engine.run({ image, cmd: ['/bin/busybox', 'sleep', '60'] }), 'run');
    try {
      const sh = async (script: string) => {
        const p = await within(env.engine.exec(rec.id, { cmd: ['/bin/sh', '-c', script] }), 'exec');
        await within(new Promise<void>((resolve) => p.onExit(() => resolve())), 'exec exit');
      };
      await sh('echo "grp:x:77:" > /etc/group');
      await sh('rm /etc/group; /bin/busybox mkfifo /etc/group');
      await expect(within(env.engine.exec(rec.id, { cmd: ['/bin/true'], user: 'root:grp' }), 'exec -u root:grp')).rejects.toThrow(/\/etc\/group in the container is a FIFO, not a regular file/);
      await sh(`rm /etc/group; /bin/busybox ln -s ${canary}/group /etc/group`);
      await expect(within(env.engine.exec(rec.id, { cmd: ['/bin/true'], user: 'root:grp' }), 'exec -u root:grp')).rejects.toThrow(/unable to find group grp/);
    } finally {
      await within(env.engine.remove(rec.id, { force: true }), 'rm -f');
    }
  });

  it('changes and commit of an upper dir with a FIFO and a symlink to a host file: listed, not opened', async () => {
    const image = await imageWith([]);
    const script = `/bin/busybox mkfifo /tmp/pipe && /bin/busybox ln -s ${canary}/passwd /tmp/hostlink && echo mine > /tmp/file`;
    const rec = await within(env.engine.run({ image, cmd: ['/bin/sh', '-c', script] }), 'run');
    try {
      expect((await within(env.engine.wait(rec.id), 'wait')).exitCode).toBe(0);
      const changes = await within(env.engine.changes(rec.id), 'changes');
      expect(changes.map((c) => c.path)).toEqual(expect.arrayContaining(['/tmp/pipe', '/tmp/hostlink', '/tmp/file']));
      const committed = await within(env.engine.commit(rec.id, { ref: 'gbpaths/committed:1' }), 'commit');
      const chunks: Buffer[] = [];
      await within(
        env.engine.saveImages([committed.ref!], 'oci', new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) })),
        'save',
      );
      const saved = Buffer.concat(chunks).toString('latin1');
      expect(saved).toContain('mine\n'); // the container's own file is in the layer
      expect(saved).not.toContain('evil:x:4242'); // the host file the symlink names is not
    } finally {
      await within(env.engine.remove(rec.id, { force: true }), 'rm -f');
    }
  });
});
