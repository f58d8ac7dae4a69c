// The shape of each diagram's snapshot, from fakes: a fake /proc (symlinks named like the kernel's),
// a fake engine (records, stats, changes, image detail), layer dirs made in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CgroupStats } from '../../server/engine/cgroups/types.js';
import { CgroupSampler, eventsBetween, sampleFrom } from '../../server/engine/inspect/cgroups.js';
import { InspectHub, snapshotHash } from '../../server/engine/inspect/hub.js';
import { layerSnapshot, whichLayer } from '../../server/engine/inspect/layers.js';
import { containerFromCgroup, NamespaceScanner, parseIdMap, parseStatus } from '../../server/engine/inspect/namespaces.js';
import { NetworkInspector, parseProcNetDev } from '../../server/engine/inspect/network.js';
import type { InspectEngine } from '../../server/engine/inspect/source.js';
import type { ContainerRecord, EngineEvent, LayerChange } from '../../server/engine/types.js';
import { NAMESPACES } from '../../server/engine/types.js';

const tmp = mkdtempSync('/tmp/gbu-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

function record(id: string, pid: number, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id,
    name: `c-${id[0]}`,
    created: '2024-01-01T00:00:00Z',
    config: { image: 'base' },
    image: { ref: 'base', id: 'sha256:img' },
    path: 'sh',
    args: [],
    limits: { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] },
    state: { status: 'running', pid, pidStartTime: null, monitorPid: pid - 1, monitorStartTime: null, exitCode: 0, signal: null, oomKilled: false, error: '', startedAt: null, finishedAt: null, restartCount: 0 },
    timeline: [],
    paths: { bundle: '', rootfs: join(tmp, 'merged'), upper: join(tmp, 'upper'), work: '', lowers: [join(tmp, 'l0'), join(tmp, 'l1')], log: '', cgroups: {} },
    network: { mode: 'none' },
    ...extra,
  };
}

function stats(over: { time?: number; mem?: number; limit?: number | null; usage?: number; thr?: number; oomKill?: number; refused?: number; pids?: number; pidsMax?: number | null } = {}): CgroupStats {
  return {
    time: over.time ?? 1000,
    memory: { current: over.mem ?? 10, limit: over.limit === undefined ? 100 : over.limit, swapLimit: null, peak: null, stat: { anon: 6, file: 4, pgfault: 99 }, events: { max: 0, oom: over.oomKill ?? 0, oomKill: over.oomKill ?? 0 } },
    cpu: { usageNs: over.usage ?? 0, userNs: 0, systemNs: 0, nrPeriods: 0, nrThrottled: over.thr ?? 0, throttledNs: 0, cpus: 0.5, weight: 100, shares: 1024 },
    pids: { current: over.pids ?? 1, limit: over.pidsMax === undefined ? 10 : over.pidsMax, refused: over.refused ?? 0 },
    io: { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 },
    frozen: false,
  };
}

function fakeEngine(records: ContainerRecord[], extra: Partial<InspectEngine> = {}): InspectEngine & { fire(e: EngineEvent): void } {
  const cbs = new Set<(e: EngineEvent) => void>();
  return {
    list: () => records,
    get: (id: string) => {
      const r = records.find((x) => x.id === id || x.id.startsWith(id) || x.name === id);
      if (!r) throw new Error(`no such container ${id}`);
      return r;
    },
    onEvent: (cb) => {
      cbs.add(cb);
      return () => cbs.delete(cb);
    },
    fire: (e) => cbs.forEach((cb) => cb(e)),
    ...extra,
  };
}

// a fake /proc: 1 (host), 50 (monitor), 51 (init of A, own pid+uts, host net), 52 (a child of A), 60 (init of B, shares A's uts)
function fakeProc(): string {
  const proc = join(tmp, 'proc');
  rmSync(proc, { recursive: true, force: true });
  const mk = (pid: number, name: string, ppid: number, nspid: number[], ns: Partial<Record<string, number>>, cgroup = '0::/\n') => {
    const d = join(proc, String(pid));
    mkdirSync(join(d, 'ns'), { recursive: true });
    writeFileSync(join(d, 'status'), `Name:\t${name}\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t${ppid}\nUid:\t0\t0\t0\t0\nNSpid:\t${nspid.join('\t')}\n`);
    writeFileSync(join(d, 'cmdline'), `${name}\0--flag\0`);
    writeFileSync(join(d, 'cgroup'), cgroup);
    writeFileSync(join(d, 'uid_map'), '         0     100000      65536\n');
    writeFileSync(join(d, 'gid_map'), '         0     100000      65536\n');
    const host = { pid: 1, mnt: 2, net: 3, uts: 4, ipc: 5, user: 6, cgroup: 7, time: 8 } as Record<string, number>;
    for (const t of NAMESPACES) symlinkSync(`${t}:[${ns[t] ?? host[t]}]`, join(d, 'ns', t));
  };
  mk(1, 'init', 0, [1], {});
  mk(2, 'kthreadd', 0, [2], {});
  mk(3, 'kworker/0', 2, [3], {});
  mk(50, 'gb-helper', 1, [50], {});
  mk(70, 'bash', 1, [70], {});
  mk(51, 'sh', 50, [51, 1], { pid: 100, uts: 101, mnt: 102, user: 103 }, `4:memory:/glassbox/${ID_A}\n`);
  mk(52, 'sleep', 51, [52, 7], { pid: 100, uts: 101, mnt: 102, user: 103 }, `4:memory:/glassbox/${ID_A}\n`);
  mk(60, 'sh', 59, [60, 1], { pid: 200, uts: 101, mnt: 202 }, `4:memory:/glassbox/${ID_B}\n`);
  return proc;
}

describe('parsers', () => {
  it('parses status, id maps, cgroup paths and /proc/net/dev', () => {
    expect(parseStatus('Name:\tsh\nPPid:\t7\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t10\t3\t1\n')).toEqual({ comm: 'sh', ppid: 7, uid: 1000, nspid: [10, 3, 1] });
    expect(parseIdMap('         0     100000      65536\n')).toEqual([{ inside: 0, outside: 100000, count: 65536 }]);
    expect(containerFromCgroup(`9:pids:/glassbox/${ID_A}\n`)).toBe(ID_A);
    expect(containerFromCgroup('0::/user.slice\n')).toBeNull();
    const dev = parseProcNetDev('h1\nh2\n  eth0: 100 2 0 0 0 0 0 0 300 4 0 0 0 0 0 0\n');
    expect(dev.get('eth0')).toEqual({ rxBytes: 100, rxPackets: 2, txBytes: 300, txPackets: 4 });
  });
});

describe('NamespaceSnapshot', () => {
  it('groups processes into namespace nodes, marks shared ones, builds the pid tree', async () => {
    const proc = fakeProc();
    const snap = await new NamespaceScanner({ proc }).scan({ containers: [record(ID_A, 51), record(ID_B, 60)] });
    expect(snap.kind).toBe('namespaces');
    expect(Object.keys(snap.types).sort()).toEqual([...NAMESPACES].sort());
    expect(snap.host).toMatchObject({ pid: 1, net: 3 });
    expect(snap.omitted.kernelThreads).toBe(2);
    const byPid = new Map(snap.processes.map((p) => [p.pid, p]));
    expect(byPid.get(51)).toMatchObject({ containerId: ID_A, role: 'init', nspid: [51, 1], comm: 'sh', cmdline: 'sh --flag' });
    expect(byPid.get(52)).toMatchObject({ containerId: ID_A, role: 'member' });
    expect(byPid.get(60)).toMatchObject({ containerId: ID_B, role: 'init' });
    expect(byPid.get(50)).toMatchObject({ containerId: ID_A, role: 'monitor' });
    expect(byPid.get(1)).toMatchObject({ containerId: null, role: 'host' });
    // the uts namespace A and B share is one node with both owners
    const uts = snap.types.uts.find((n) => n.inode === 101)!;
    expect(uts.owners).toEqual([ID_A, ID_B]);
    expect(uts.pids).toEqual([51, 52, 60]);
    // the host's net namespace holds the host and both containers (neither made its own)
    const net = snap.types.net.find((n) => n.isHost)!;
    expect(net.owners).toEqual(['host', ID_A, ID_B]);
    // user namespace maps
    const user = snap.types.user.find((n) => n.inode === 103)!;
    expect(user.uidMap).toEqual([{ inside: 0, outside: 100000, count: 65536 }]);
    // pid tree: host → A's (level 1, parent = host) and B's
    expect(snap.pidTree!.inode).toBe(1);
    expect(snap.pidTree!.children.map((c) => c.inode).sort()).toEqual([100, 200]);
    const a = snap.pidTree!.children.find((c) => c.inode === 100)!;
    expect(a.level).toBe(1);
    expect(a.processes).toEqual([
      { pid: 51, localPid: 1, comm: 'sh', containerId: ID_A },
      { pid: 52, localPid: 7, comm: 'sleep', containerId: ID_A },
    ]);
    expect(snap.types.pid.find((n) => n.inode === 100)!.parent).toBe(1);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap); // plain data
  });

  it('caps host processes but keeps container ones', async () => {
    const proc = fakeProc();
    const snap = await new NamespaceScanner({ proc }).scan({ containers: [record(ID_A, 51)], maxHostProcesses: 1 });
    expect(snap.omitted.hostProcesses).toBeGreaterThan(0);
    expect(snap.processes.some((p) => p.pid === 51)).toBe(true);
    expect(snap.processes.some((p) => p.pid === 1)).toBe(true);
    expect(snap.processes.some((p) => p.pid === 70)).toBe(false);
    expect(snap.types.mnt.find((n) => n.isHost)!.pids).toContain(70); // still counted in its namespaces
  });
});

describe('CgroupSnapshot', () => {
  it('turns two readings into a sample with rates', () => {
    const s = sampleFrom(stats({ time: 2000, usage: 5e8 }), stats({ time: 1000, usage: 0 }));
    expect(s).toMatchObject({ time: 2000, memory: 10, memoryLimit: 100, cpu: 0.5, cpuLimit: 0.5, pids: 1, pidsLimit: 10 });
    expect(s.stat).toEqual({ anon: 6, file: 4 });
  });

  it('finds OOM kills, refused forks, throttling and changed limits between readings', () => {
    const { events, throttling } = eventsBetween(ID_A, stats({ oomKill: 1, refused: 3, thr: 5, limit: 200, pidsMax: 20 }), stats(), false);
    expect(events.map((e) => e.kind).sort()).toEqual(['fork-refused', 'limit-changed', 'oom-kill', 'throttling']);
    expect(throttling).toBe(true);
    // throttling that goes on is not a new event
    expect(eventsBetween(ID_A, stats({ thr: 9 }), stats({ thr: 5 }), true).events).toEqual([]);
  });

  it('keeps a ring of samples and the engine events', async () => {
    let t = 0;
    const rec = record(ID_A, 51);
    const eng = fakeEngine([rec], { stats: async () => stats({ time: (t += 1000), usage: t * 1e5 }) });
    const sampler = new CgroupSampler(eng, { intervalMs: 1000, windowMs: 5000 });
    sampler.start();
    for (let i = 0; i < 8; i++) await sampler.tick();
    eng.fire({ type: 'container', action: 'oom', id: ID_A, name: rec.name, image: 'base', time: Date.now() });
    eng.fire({ type: 'container', action: 'update', id: ID_A, name: rec.name, image: 'base', time: Date.now(), attributes: { '/sys/fs/cgroup/pids/glassbox/x/pids.max': '20' } });
    const snap = sampler.snapshot(ID_A);
    sampler.stop();
    expect(snap.kind).toBe('cgroups');
    expect(snap.containers).toHaveLength(1);
    const c = snap.containers[0];
    expect(c.samples).toHaveLength(5);
    expect(c.samples[4].cpu).toBeCloseTo(0.1);
    expect(c.events.map((e) => e.kind)).toEqual(['oom-kill', 'limit-changed']);
    expect(c.events[1].detail).toMatch(/pids.max = 20/);
    expect(c.latest).not.toBeNull();
  });
});

describe('LayerSnapshot', () => {
  // l0 (bottom): /etc/app.conf (10 B), /var/log/big.log (5000 B), /data/keep; l1: /etc/app.conf (20 B)
  // upper: /var/log/big.log copied up (5001 B), whiteout /etc/app.conf, new /new.txt, opaque /data
  const l0 = join(tmp, 'l0');
  const l1 = join(tmp, 'l1');
  const upper = join(tmp, 'upper');
  mkdirSync(join(l0, 'etc'), { recursive: true });
  mkdirSync(join(l0, 'var/log'), { recursive: true });
  mkdirSync(join(l0, 'data'), { recursive: true });
  mkdirSync(join(l1, 'etc'), { recursive: true });
  mkdirSync(join(upper, 'var/log'), { recursive: true });
  mkdirSync(join(upper, 'etc'), { recursive: true });
  writeFileSync(join(l0, 'etc/app.conf'), 'x'.repeat(10));
  writeFileSync(join(l0, 'var/log/big.log'), 'x'.repeat(5000));
  writeFileSync(join(l0, 'data/keep'), 'k');
  writeFileSync(join(l1, 'etc/app.conf'), 'y'.repeat(20));
  writeFileSync(join(upper, 'var/log/big.log'), 'x'.repeat(5001));
  writeFileSync(join(upper, 'new.txt'), 'n'.repeat(7));
  execFileSync('mknod', [join(upper, 'etc/app.conf'), 'c', '0', '0']);
  const changes: LayerChange[] = [
    { path: '/var/log/big.log', kind: 'modified', size: 5001, lowerSize: 5000 },
    { path: '/etc/app.conf', kind: 'deleted' },
    { path: '/new.txt', kind: 'added', size: 7 },
    { path: '/data', kind: 'opaque', isDir: true },
  ];
  const eng = fakeEngine([record(ID_A, 51)], {
    changes: async () => changes,
    inspectImage: () =>
      ({
        id: 'sha256:img',
        repoTags: ['base'],
        created: '',
        size: 0,
        layers: 2,
        config: {},
        manifestDigest: '',
        layerDetails: [
          { diffId: 'sha256:00', dir: '/store/0', size: 5011, createdBy: 'ADD rootfs.tar /' },
          { diffId: 'sha256:11', dir: '/store/1', size: 20, createdBy: '' },
        ],
        history: [
          { created: '2024', createdBy: 'ADD rootfs.tar /', emptyLayer: false, size: 5011, id: '' },
          { created: '2024', createdBy: 'ENV A=1', emptyLayer: true, size: 0, id: '' },
          { created: '2024', createdBy: 'COPY app.conf /etc/', emptyLayer: false, size: 20, id: '' },
        ],
      }) as ReturnType<NonNullable<InspectEngine['inspectImage']>>,
  });

  it('lists the layers bottom to top with the upper dir and the copy-up sizes', async () => {
    const snap = await layerSnapshot(eng, ID_A);
    expect(snap.state).toBe('ok');
    expect(snap.layers.map((l) => [l.index, l.diffId, l.dir, l.createdBy])).toEqual([
      [0, 'sha256:00', l0, 'ADD rootfs.tar /'],
      [1, 'sha256:11', l1, 'COPY app.conf /etc/'],
    ]);
    expect(snap.upper!.dir).toBe(upper);
    const big = snap.upper!.changes.find((c) => c.path === '/var/log/big.log')!;
    expect(big).toMatchObject({ copyUp: true, copiedBytes: 5001, lowerSize: 5000 });
    expect(snap.totals).toEqual({ added: 1, modified: 1, deleted: 1, opaque: 1, copiedUpBytes: 5001, addedBytes: 7 });
    expect(snap.upper!.changes.map((c) => c.path)).toEqual(['/data', '/etc/app.conf', '/new.txt', '/var/log/big.log']);
    const missing = await layerSnapshot(eng, 'nope');
    expect(missing.state).toBe('not-found');
  });

  it('answers which layer a path comes from and what it hides', async () => {
    const big = await whichLayer(eng, ID_A, '/var/log/big.log');
    expect(big.visible).toMatchObject({ layer: 'upper', type: 'file', size: 5001 });
    expect(big.hides).toEqual([expect.objectContaining({ layer: 0, size: 5000 })]);
    expect(big.explanation).toMatch(/copy-up/);
    const conf = await whichLayer(eng, ID_A, 'etc/app.conf');
    expect(conf.visible).toBeNull();
    expect(conf.hits.map((h) => [h.layer, h.type])).toEqual([
      ['upper', 'whiteout'],
      [1, 'file'],
      [0, 'file'],
    ]);
    expect(conf.explanation).toMatch(/whiteout/);
    const keep = await whichLayer(eng, ID_A, '/data/keep');
    expect(keep.visible).toMatchObject({ layer: 0 });
    const none = await whichLayer(eng, ID_A, '/nowhere');
    expect(none.visible).toBeNull();
    expect(none.hits).toEqual([]);
  });
});

describe('InspectHub', () => {
  it('pushes a snapshot when it changes, at most ~3 a second, and not when it does not', async () => {
    let t = 0;
    let limit = 100;
    const rec = record(ID_A, 51);
    const eng = fakeEngine([rec], { stats: async () => stats({ time: (t += 1000), limit, usage: 0 }) });
    const hub = new InspectHub(eng, { sampleMs: 20, minPushMs: 300 });
    const got: number[] = [];
    const off = hub.subscribe('cgroups', () => got.push(Date.now()), ID_A);
    await new Promise((r) => setTimeout(r, 1000));
    off();
    hub.close();
    // samples change every 20 ms, but pushes are throttled to one per 300 ms
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < got.length; i++) expect(got[i] - got[i - 1]).toBeGreaterThanOrEqual(290);
    limit = 200;
  });

  it('says when a re-read found nothing changed, about once a second, so the page shows the data age', async () => {
    const eng = fakeEngine([record(ID_A, 51)]);
    const hub = new InspectHub(eng, { pollMs: 50, minPushMs: 50 });
    const pushes: number[] = [];
    const checked: number[] = [];
    const off = hub.subscribe('layers', () => pushes.push(Date.now()), ID_A, (time) => checked.push(time));
    await new Promise((r) => setTimeout(r, 2_300));
    off();
    hub.close();
    // the layers are the same on every read: one push, and notes that they were checked
    expect(pushes.length).toBe(1);
    expect(checked.length).toBeGreaterThanOrEqual(2);
    expect(checked.length).toBeLessThanOrEqual(3);
    for (const t of checked) expect(t).toBeGreaterThan(pushes[0] - 1_000);
  });

  it('hashes snapshots without their timestamps', () => {
    const a = { kind: 'cgroups', time: 1, intervalMs: 1, windowMs: 1, containers: [] } as const;
    expect(snapshotHash({ ...a, containers: [] })).toBe(snapshotHash({ ...a, time: 2, containers: [] }));
  });

  it('gives every kind of snapshot, and says so when networking is not there', async () => {
    const eng = fakeEngine([record(ID_A, process.pid, { network: { mode: 'none' } })], { stats: async () => stats() });
    const hub = new InspectHub(eng);
    const ns = await hub.snapshot('namespaces');
    expect(ns.kind).toBe('namespaces');
    const net = await hub.snapshot('network');
    expect(net.kind).toBe('network');
    expect(['ok', 'kernel-only']).toContain(net.state);
    if (net.state === 'kernel-only') expect(net.message).toMatch(/not available|kernel/);
    expect(net.isolated).toEqual([{ containerId: ID_A, name: 'c-a' }]);
    const cg = await hub.snapshot('cgroups');
    expect(cg.kind).toBe('cgroups');
    const layers = await hub.snapshot('layers', 'missing');
    expect(layers.state).toBe('not-found');
    hub.close();
  });
});

describe('NetworkSnapshot', () => {
  it('takes addresses, routes and NAT from the network manager and sorts containers by mode', async () => {
    const manager = {
      topology: async () => ({
        networks: [{ name: 'bridge', bridge: 'gb0', subnet: '172.28.0.0/16', gateway: '172.28.0.1', endpoints: [{ containerId: ID_A, name: 'c-a', ip: '172.28.0.2', prefixLen: 16, mac: '02:42:ac:1c:00:02', gateway: '172.28.0.1', hostVeth: 'gbvaaaaaaaaaaaa', containerIf: 'eth0', routes: ['default via 172.28.0.1 dev eth0'] }] }],
        nat: ['-A GLASSBOX-POST -s 172.28.0.0/16 ! -o gb0 -j MASQUERADE'],
      }),
    };
    const recs = [
      record(ID_A, process.pid, { network: { mode: 'bridge' }, config: { image: 'base', ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } }),
      record(ID_B, process.pid, { network: { mode: 'host' } }),
      record('c'.repeat(64), process.pid, { network: { mode: `container:${ID_A}` } }),
    ];
    const snap = await new NetworkInspector(manager).snapshot(recs);
    expect(snap.state).toBe('ok');
    expect(snap.endpoints).toHaveLength(1);
    expect(snap.endpoints[0]).toMatchObject({ containerId: ID_A, ip: '172.28.0.2/16', mac: '02:42:ac:1c:00:02', containerIf: 'eth0', routes: ['default via 172.28.0.1 dev eth0'], ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    expect(snap.hostStack.map((c) => c.containerId)).toEqual([ID_B]);
    expect(snap.shared).toEqual([{ containerId: 'c'.repeat(64), name: 'c-c', with: ID_A }]);
    expect(snap.nat).toEqual(['-A GLASSBOX-POST -s 172.28.0.0/16 ! -o gb0 -j MASQUERADE']);
  });
});
