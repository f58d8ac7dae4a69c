// The mount view, the image view and the host view against real containers. The mount tree must
// show the overlay root with its directories, a bind with its host path, a tmpfs, Docker's masked
// paths and the read-only /proc/sys; a host mount made shared under a /tmp/gbt… dir is bound into
// the container and a mount made on the host afterwards travels into it (its peer group shown).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InspectHub } from '../../server/engine/inspect/hub.js';
import { containerView, hostView } from '../../server/engine/inspect/host-view.js';
import type { MountSnapshot } from '../../server/engine/inspect/types.js';
import { requireHost, until } from '../helpers.js';
import { openTestEngine, type TestEnv } from './support.js';

requireHost('view integration tests', { root: true, commands: ['mount', 'umount'] });

const inode = (pid: number | string, ns: string) => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`))![1]);

describe('mount, image and host views', () => {
  let env: TestEnv;
  let hub: InspectHub;
  let dir = '';
  const mounted: string[] = [];
  beforeAll(async () => {
    env = await openTestEngine();
    hub = new InspectHub(env.engine, { sampleMs: 500 });
    dir = mkdtempSync('/tmp/gbt-mnt-');
    mkdirSync(join(dir, 'shared'));
    mkdirSync(join(dir, 'data'));
    // a shared mount of our own: bind the dir onto itself and make it a peer group
    execFileSync('mount', ['--bind', join(dir, 'shared'), join(dir, 'shared')]);
    mounted.push(join(dir, 'shared'));
    execFileSync('mount', ['--make-shared', join(dir, 'shared')]);
  }, 120_000);
  afterAll(async () => {
    hub?.close();
    await env?.cleanup();
    for (const m of mounted.reverse()) {
      try {
        execFileSync('umount', ['-l', m]);
      } catch {
        /* already gone */
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('draws the mount tree: overlay root, bind source, tmpfs, masked and read-only paths, propagation', async () => {
    const rec = await env.engine.run({
      image: 'base',
      cmd: ['sleep', '300'],
      mounts: [
        { type: 'bind', source: join(dir, 'data'), target: '/data', readOnly: true },
        { type: 'bind', source: join(dir, 'shared'), target: '/shared' },
        { type: 'tmpfs', target: '/scratch', size: 1024 * 1024 },
      ],
    });
    const snap = (await hub.snapshot('mounts', rec.id)) as MountSnapshot;
    expect(snap.state).toBe('ok');
    expect(snap.pid).toBe(rec.state.pid);
    expect(snap.mountNs).toBe(inode(rec.state.pid, 'mnt'));
    expect(snap.mountNs).not.toBe(snap.hostMountNs);
    const at = (p: string) => snap.mounts.find((m) => m.mountPoint === p);
    const root = snap.mounts[0];
    expect(root.mountPoint).toBe('/');
    expect(root.depth).toBe(0);
    expect(root.fsType).toBe('overlay');
    expect(root.overlay!.lowerdir.length).toBeGreaterThan(0);
    expect(root.overlay!.upperdir).toBe(rec.paths.upper);
    expect(root.overlay!.workdir).toBe(rec.paths.work);
    expect(root.superOptions.some((o) => o.startsWith('lowerdir'))).toBe(false);
    const data = at('/data')!;
    expect(data.bind).toEqual({ hostPath: join(dir, 'data'), from: 'config' });
    expect(data.readOnly).toBe(true);
    expect(at('/scratch')!.fsType).toBe('tmpfs');
    expect(at('/proc')!.fsType).toBe('proc');
    // Docker's masked paths: /dev/null over files, an empty read-only tmpfs over directories
    expect(at('/proc/keys')!.masked!.by).toMatch(/\/dev\/null/); // /proc/kcore is masked the same way where the kernel has it
    const maskedDir = snap.mounts.find((m) => m.masked && m.fsType === 'tmpfs');
    expect(maskedDir?.masked?.by).toMatch(/tmpfs/);
    expect(at('/proc/sys')!.readonlyPath).toBe(true);
    expect(snap.totals.masked).toBeGreaterThanOrEqual(2);
    // /etc/hosts & co are binds of the engine's files: their host path is found by device
    const hosts = at('/etc/hosts');
    expect(hosts?.bind?.hostPath).toMatch(/hosts$/);
    // every non-root mount's parent is in the tree, parents first
    const seen = new Set<number>();
    for (const m of snap.mounts) {
      if (m.depth > 0) expect(seen.has(m.parentId)).toBe(true);
      seen.add(m.mountId);
    }
    // propagation: the bind of our shared mount is in its peer group (or a slave of it)
    const shared = at('/shared')!;
    expect(['shared', 'slave', 'shared+slave']).toContain(shared.propagationLabel);
    expect(shared.hostPeers).toContain(join(dir, 'shared'));
    // and a mount made on the host now travels into the container
    mkdirSync(join(dir, 'shared', 'later'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'gbt-later', join(dir, 'shared', 'later')]);
    mounted.push(join(dir, 'shared', 'later'));
    const after = await until(async () => {
      const s = (await hub.snapshot('mounts', rec.id)) as MountSnapshot;
      const m = s.mounts.find((x) => x.mountPoint === '/shared/later');
      if (!m) throw new Error('the host mount did not propagate');
      return m;
    });
    expect(after.source).toBe('gbt-later');
    execFileSync('umount', [join(dir, 'shared', 'later')]);
    mounted.pop();
  }, 60_000);

  it('says why there is no mount tree for a stopped or unknown container', async () => {
    const rec = await env.engine.create({ image: 'base', cmd: ['true'] });
    expect(((await hub.snapshot('mounts', rec.id)) as MountSnapshot).state).toBe('not-running');
    expect(((await hub.snapshot('mounts', 'no-such')) as MountSnapshot).state).toBe('not-found');
  });

  it('shows an image: manifest, config, layers with blob digests and diff_ids, history', () => {
    const v = env.engine.imageView('base');
    expect(v.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(v.manifestDigest).toMatch(/^sha256:/);
    expect((v.manifest as { config: { digest: string } }).config.digest).toBe(v.id);
    expect(v.layers.length).toBeGreaterThan(0);
    const diffIds = (v.config as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    v.layers.forEach((l, i) => {
      expect(l.index).toBe(i);
      expect(l.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(l.diffId).toBe(diffIds[i]);
      expect(l.size).toBeGreaterThan(0);
      // an uncompressed layer's blob digest is its diff_id
      if (!l.compressed) expect(l.digest).toBe(l.diffId);
    });
    expect(v.history.filter((h) => !h.emptyLayer).map((h) => h.layerIndex)).toEqual(v.layers.map((l) => l.index));
    expect(v.warnings).toEqual([]);
    expect(v.repoTags).toContain('base:latest');
    expect(() => env.engine.imageView('no-such-image')).toThrow(/No such image/);
  });

  it('answers ps, ip link, hostname and mount for the host and a container, by namespace', async () => {
    const rec = await env.engine.run({ image: 'base', cmd: ['sleep', '300'], hostname: 'box-one' });
    const host = hostView();
    expect(host.ns.pid).toBe(inode('self', 'pid'));
    expect(host.processes.some((p) => p.pid === process.pid)).toBe(true);
    expect(host.links.some((l) => l.name === 'lo')).toBe(true);
    const c = containerView(env.engine.get(rec.id));
    expect(c.sharesHost).toMatchObject({ pid: false, net: false, uts: false, mnt: false });
    expect(c.processes).toEqual([{ pid: 1, comm: 'sleep' }]);
    expect(c.links.map((l) => l.name)).toEqual(['lo']);
    expect(c.hostname).toBe('box-one');
    expect(c.mounts[0].mountPoint).toBe('/');
    // no command lines anywhere in the answer
    expect(JSON.stringify(host)).not.toContain('sleep 300');
    const shared = await env.engine.run({ image: 'base', cmd: ['sleep', '300'], namespaces: { net: false, uts: false } });
    const s = containerView(env.engine.get(shared.id));
    expect(s.sharesHost.net).toBe(true);
    expect(s.sharesHost.uts).toBe(true);
    expect(s.links.length).toBe(host.links.length);
  }, 60_000);
});
