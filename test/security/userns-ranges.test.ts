// User namespaces with a host range each (issue #11, part 7). Before, every user-namespaced
// container mapped 0 → 100000: root in one container was the same host uid as root in all of them,
// so a file root wrote in one was root's in every other one sharing the directory. Here:
//   - two containers get disjoint uid_map/gid_map ranges, read from the kernel (/proc/PID/uid_map);
//   - root in A writes on a bind mount both share: the host owner is A's uid, and root in B (a
//     stranger's uid) cannot append to it or delete it;
//   - the range is leased host-wide, freed at rm and handed out again; re-read after a re-open;
//   - an explicit map over someone's range is refused, naming the option, with nothing made;
//   - the layers are idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP): root inside owns them, no
//     shifted copy exists, the layer files on the host still belong to uid 0; the shifted-copy
//     fallback still works when asked for.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { DEFAULT_LOCK_DIR } from '../../server/engine/host/naming.js';
import { Conflict, type ContainerRecord } from '../../server/engine/types.js';
import { openTestEngine, runToExit, type TestEnv } from '../integration/support.js';

if (process.getuid?.() !== 0) throw new Error('userns-ranges.test needs root: a test that cannot run fails');

const LEASES = join(DEFAULT_LOCK_DIR, 'userns');
const sh = (script: string, extra: Record<string, unknown> = {}) => ({ image: 'base', cmd: ['/bin/sh', '-c', script], namespaces: { user: true }, ...extra });

function mapOf(pid: number, which: 'uid_map' | 'gid_map'): { inside: number; outside: number; size: number }[] {
  return readFileSync(`/proc/${pid}/${which}`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .map(([inside, outside, size]) => ({ inside, outside, size }));
}

const disjoint = (a: { outside: number; size: number }, b: { outside: number; size: number }) => a.outside + a.size <= b.outside || b.outside + b.size <= a.outside;

describe('a user namespace range per container', () => {
  let env: TestEnv;
  let shared = '';

  beforeAll(async () => {
    env = await openTestEngine();
    shared = join(env.root, '..', 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777); // anyone may create files; only a file's owner may change it
  });

  afterAll(async () => {
    await env?.cleanup();
  });

  async function sleeper(name: string): Promise<ContainerRecord> {
    const r = await env.engine.run(sh('sleep 600', { name, mounts: [{ type: 'bind', source: shared, target: '/shared' }] }));
    return env.engine.get(r.id);
  }

  async function inContainer(id: string, script: string): Promise<{ code: number; out: string }> {
    const p = await env.engine.exec(id, { cmd: ['/bin/sh', '-c', script] });
    let out = '';
    p.onData((d) => (out += d.toString()));
    p.onStderr((d) => (out += d.toString()));
    const code = await new Promise<number>((r) => p.onExit((c) => r(c)));
    return { code, out };
  }

  it('gives two containers disjoint host ranges, so a file root writes in A is not root-of-B\'s', async () => {
    const a = await sleeper('gbt-userns-a');
    const b = await sleeper('gbt-userns-b');
    try {
      for (const which of ['uid_map', 'gid_map'] as const) {
        const [ma] = mapOf(a.state.pid, which);
        const [mb] = mapOf(b.state.pid, which);
        expect(ma.inside).toBe(0);
        expect(ma.size).toBe(65536);
        expect(mb.size).toBe(65536);
        expect(disjoint(ma, mb)).toBe(true);
      }
      expect(a.userns!.range!.uid).toBe(mapOf(a.state.pid, 'uid_map')[0].outside);
      // both leases on the host, each naming its container
      for (const r of [a, b]) expect(JSON.parse(readFileSync(join(LEASES, String(r.userns!.range!.uid)), 'utf8'))).toEqual({ root: env.root, containerId: r.id });

      // root in A writes a file on the shared bind mount
      expect((await inContainer(a.id, 'echo from-a > /shared/a-file && chmod 644 /shared/a-file && stat -c %u /shared/a-file')).out.trim()).toBe('0');
      const st = statSync(join(shared, 'a-file'));
      expect(st.uid).toBe(a.userns!.range!.uid);
      expect(st.uid).not.toBe(b.userns!.range!.uid);
      // the attack: root in B goes for A's file. To B it is a stranger's (the overflow uid), and
      // even B's root (all capabilities in its own namespace) may not change or remove it.
      const seen = await inContainer(b.id, 'stat -c %u /shared/a-file');
      expect(seen.out.trim()).toBe('65534');
      const attack = await inContainer(b.id, 'echo from-b >> /shared/a-file; chmod 666 /shared/a-file; chown 0 /shared/a-file; echo done');
      expect(attack.out).toMatch(/Permission denied|Operation not permitted/);
      expect(readFileSync(join(shared, 'a-file'), 'utf8')).toBe('from-a\n');
      expect(statSync(join(shared, 'a-file')).mode & 0o777).toBe(0o644);
      expect(statSync(join(shared, 'a-file')).uid).toBe(a.userns!.range!.uid);
    } finally {
      await env.engine.remove(a.id, { force: true });
      await env.engine.remove(b.id, { force: true });
      rmSync(join(shared, 'a-file'), { force: true });
    }
  });

  it('frees the range at rm and hands it out again', async () => {
    const a = await sleeper('gbt-userns-free');
    const range = a.userns!.range!;
    await env.engine.remove(a.id, { force: true });
    expect(existsSync(join(LEASES, String(range.uid)))).toBe(false);
    const c = await sleeper('gbt-userns-reuse');
    try {
      expect(c.userns!.range!.uid).toBe(range.uid);
    } finally {
      await env.engine.remove(c.id, { force: true });
    }
  });

  it('refuses an explicit uid map over a range another container holds, and makes nothing', async () => {
    const a = await sleeper('gbt-userns-held');
    try {
      const before = env.engine.list({ all: true }).length;
      const err = await env.engine.create(sh('true', { uidMap: [{ containerId: 0, hostId: a.userns!.range!.uid + 1000, size: 10 }] })).then(
        () => null,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(Conflict);
      expect(err!.message).toMatch(new RegExp(`^uidMap: host uids .* overlap the user namespace range of container ${a.id.slice(0, 12)}`));
      expect(env.engine.list({ all: true }).length).toBe(before);
      expect(readdirSync(join(env.root, 'containers')).filter((d) => d !== a.id)).toEqual([]);
    } finally {
      await env.engine.remove(a.id, { force: true });
    }
  });

  it('keeps the ranges of its containers across a re-open (and re-leases them after /run was emptied)', async () => {
    const a = await sleeper('gbt-userns-keep');
    const range = a.userns!.range!;
    const prefix = env.engine.names.prefix;
    await env.engine.close();
    rmSync(join(LEASES, String(range.uid))); // as after a reboot: /run is empty, the record is not
    const again = await Engine.open({ root: env.root, runRoot: env.runRoot, network: false, prefix });
    env.engine = again;
    try {
      expect(again.get(a.id).userns!.range).toEqual(range);
      expect(mapOf(again.get(a.id).state.pid, 'uid_map')[0].outside).toBe(range.uid);
      expect(JSON.parse(readFileSync(join(LEASES, String(range.uid)), 'utf8'))).toEqual({ root: env.root, containerId: a.id });
      // a new container does not get the re-opened one's range
      const d = await sleeper('gbt-userns-new');
      expect(d.userns!.range!.uid).not.toBe(range.uid);
      await again.remove(d.id, { force: true });
    } finally {
      await again.remove(a.id, { force: true });
    }
    expect(existsSync(join(LEASES, String(range.uid)))).toBe(false);
  });

  it('maps the layers with idmapped mounts: root owns them inside, nothing copied, the host files unchanged', async () => {
    const r = await runToExit(env.engine, sh('stat -c %u:%g / /bin /etc/passwd; touch /etc/new && echo wrote'));
    expect(r.stdout.trim().split('\n')).toEqual(['0:0', '0:0', '0:0', 'wrote']);
    const rec = env.engine.get(r.id);
    expect(rec.userns!.layers).toBe('idmapped');
    const step = rec.timeline.find((s) => s.step === 'idmap-layers');
    expect(step?.call).toMatch(/mount_setattr\(MOUNT_ATTR_IDMAP/);
    expect(rec.timeline.some((s) => s.step === 'shift-layers')).toBe(false);
    expect(existsSync(join(env.engine.images.dir, 'layers-shifted'))).toBe(false);
    // the lower layers are the image's own directories, still owned by host root
    for (const l of rec.paths.lowers) expect(l.startsWith(join(env.engine.images.dir, 'layers'))).toBe(true);
    const layer = rec.paths.lowers[rec.paths.lowers.length - 1];
    expect(statSync(join(layer, 'etc', 'passwd')).uid).toBe(0);
    // the copy-up landed in the container layer as the container's root
    expect(statSync(join(rec.paths.upper, 'etc', 'new')).uid).toBe(rec.userns!.range!.uid);
    // and no idmapped view stays mounted once the overlay is up
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(join(env.root, 'containers', r.id, 'idmap'));
    await env.engine.remove(r.id);
  });

  it('falls back to shifted copies when asked (kernels without idmapped mounts), with the same result inside', async () => {
    const prefix = env.engine.names.prefix;
    await env.engine.close();
    const shifted = await Engine.open({ root: env.root, runRoot: env.runRoot, network: false, prefix, usernsLayers: 'shifted' });
    env.engine = shifted;
    const r = await runToExit(shifted, sh('stat -c %u:%g / /bin /etc/passwd'));
    expect(r.stdout.trim().split('\n')).toEqual(['0:0', '0:0', '0:0']);
    const rec = shifted.get(r.id);
    expect(rec.userns!.layers).toBe('shifted');
    expect(rec.timeline.find((s) => s.step === 'shift-layers')?.detail).toContain('shifted copies asked for');
    expect(existsSync(join(shifted.images.dir, 'layers-shifted', `${rec.userns!.range!.uid}-${rec.userns!.range!.gid}`))).toBe(true);
    await shifted.remove(r.id);
  });
});
