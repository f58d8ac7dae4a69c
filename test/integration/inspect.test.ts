// The inspectors against real kernel state. Part 1 needs no engine: processes made with unshare(1)
// in new pid/uts/net/mount namespaces. Part 2 runs containers through the engine (when it can open
// on this host) and checks each diagram's snapshot follows the kernel.
import { spawn, type ChildProcess } from 'node:child_process';
import { childOf } from '../helpers.js';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamespaceScanner } from '../../server/engine/inspect/namespaces.js';
import { InspectHub } from '../../server/engine/inspect/hub.js';
import type { NamespaceSnapshot } from '../../server/engine/inspect/types.js';

const inode = (pid: number | string, ns: string) => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`))![1]);

function kill(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out${last ? `: ${(last as Error).message}` : ''}`);
}

describe('namespace scanner on unshare(1) processes', () => {
  const procs: ChildProcess[] = [];
  const inits: number[] = [];
  afterAll(() => {
    for (const p of procs) kill(p.pid);
    for (const p of inits) kill(p);
  });

  it('sees a new pid/uts/net namespace with the inodes /proc shows, its NSpid levels and the tree', async () => {
    const cp = spawn('unshare', ['--fork', '--pid', '--mount-proc', '--uts', '--net', 'sleep', '30'], { stdio: 'ignore' });
    procs.push(cp);
    const init = await childOf(cp.pid!);
    inits.push(init);
    const snap = await new NamespaceScanner().scan();
    const p = snap.processes.find((x) => x.pid === init)!;
    expect(p).toBeTruthy();
    expect(p.comm).toBe('sleep');
    expect(p.nspid).toEqual([init, 1]);
    for (const t of ['pid', 'uts', 'net', 'mnt'] as const) {
      expect(p.ns[t]).toBe(inode(init, t));
      expect(p.ns[t]).not.toBe(snap.host[t]);
      const node = snap.types[t].find((n) => n.inode === p.ns[t])!;
      expect(node.pids).toContain(init);
      expect(node.isHost).toBe(false);
    }
    // the ipc namespace was not unshared: the process is in the host's node
    expect(p.ns.ipc).toBe(snap.host.ipc);
    expect(snap.types.ipc.find((n) => n.isHost)!.pids).toContain(init);
    // pid tree: the new namespace hangs under the host's, the process is pid 1 there
    const lvl = snap.pidTree!.children.find((c) => c.inode === p.ns.pid)!;
    expect(lvl.level).toBe(1);
    expect(lvl.processes.find((x) => x.pid === init)!.localPid).toBe(1);
    expect(snap.types.pid.find((n) => n.inode === p.ns.pid)!.parent).toBe(snap.host.pid);
  });

  it('shows a process entering with nsenter in the same nodes, and drops it when it exits', async () => {
    const init = inits[0];
    const cp = spawn('nsenter', ['-t', String(init), '-p', '-u', '-n', '-m', '--', 'sleep', '1.2'], { stdio: 'ignore' });
    procs.push(cp);
    const scanner = new NamespaceScanner();
    const joined = await waitFor(async () => {
      const s = await scanner.scan();
      return s.processes.find((x) => x.comm === 'sleep' && x.ppid === cp.pid && x.ns.pid === inode(init, 'pid')) ? s : null;
    });
    const q = joined.processes.find((x) => x.ppid === cp.pid)!;
    expect(q.nspid.length).toBe(2);
    expect(q.nspid[1]).toBeGreaterThan(1);
    expect(joined.types.uts.find((n) => n.inode === inode(init, 'uts'))!.pids).toEqual(expect.arrayContaining([init, q.pid]));
    await new Promise<void>((r) => cp.once('exit', () => r()));
    const after = await scanner.scan();
    expect(after.processes.find((x) => x.pid === q.pid)).toBeUndefined();
  });

  it('reads the uid_map of a user namespace and nests pid namespaces two deep', async () => {
    const cp = spawn('unshare', ['--user', '--map-root-user', '--fork', '--pid', '--mount-proc', 'unshare', '--fork', '--pid', '--mount-proc', 'sleep', '30'], { stdio: 'ignore' });
    procs.push(cp);
    const mid = await childOf(cp.pid!); // init of the first pid namespace: the inner unshare
    inits.push(mid); // killing it ends everything in its namespace, the nested one included
    const inner = await childOf(mid);
    await waitFor(() => readFileSync(`/proc/${inner}/comm`, 'utf8').trim() === 'sleep');
    const snap: NamespaceSnapshot = await new NamespaceScanner().scan();
    const p = snap.processes.find((x) => x.pid === inner)!;
    expect(p.nspid.length).toBe(3);
    expect(p.nspid[2]).toBe(1);
    const user = snap.types.user.find((n) => n.inode === p.ns.user)!;
    expect(user.isHost).toBe(false);
    expect(user.uidMap).toEqual([{ inside: 0, outside: 0, count: 1 }]);
    expect(snap.processes.find((x) => x.pid === mid)!.nspid).toEqual([mid, 1]);
    const l1 = snap.pidTree!.children.find((c) => c.children.some((g) => g.inode === p.ns.pid));
    expect(l1).toBeTruthy();
    expect(l1!.children.find((g) => g.inode === p.ns.pid)!.level).toBe(2);
  });
});

// ---------------------------------------------------------------- through the engine

// The engine is part of the project: if it cannot be loaded the tests below must fail, not skip.
let engineMod: typeof import('../../server/engine/engine.js');
try {
  engineMod = await import('../../server/engine/engine.js');
} catch (e) {
  throw new Error(`inspect tests: server/engine/engine.ts cannot be loaded, so the inspectors cannot be checked on real containers: ${(e as Error).message}`, { cause: e });
}

describe('inspectors on containers made by the engine', () => {
  type Engine = import('../../server/engine/engine.js').Engine;
  let engine: Engine;
  let base: string;
  let hub: InspectHub;
  let opened = false;

  beforeAll(async () => {
    base = mkdtempSync('/tmp/gbi-');
    try {
      engine = await engineMod.Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r'), network: false });
    } catch (e) {
      throw new Error(`inspect tests: the engine cannot open on this host (root, cgroups, overlayfs and namespaces are needed): ${(e as Error).message}`, { cause: e });
    }
    opened = true;
    hub = new InspectHub(engine, { sampleMs: 250 });
  }, 120_000);
  afterAll(async () => {
    hub?.close();
    if (opened) {
      for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
      await engine.close();
    }
    rmSync(base, { recursive: true, force: true });
  }, 60_000);

  const long = { image: 'base', cmd: ['sleep', '300'] };

  it('shows a new container in its own namespaces, with the inodes of its init', async () => {
    const rec = await engine.run({ ...long, namespaces: { pid: true, mnt: true, uts: true, ipc: true, net: true } });
    const snap = await hub.snapshot('namespaces');
    const init = snap.processes.find((p) => p.pid === rec.state.pid)!;
    expect(init.containerId).toBe(rec.id);
    expect(init.role).toBe('init');
    expect(init.nspid[init.nspid.length - 1]).toBe(1);
    for (const t of ['pid', 'mnt', 'uts', 'ipc', 'net'] as const) {
      expect(init.ns[t]).toBe(inode(rec.state.pid, t));
      const node = snap.types[t].find((n) => n.inode === init.ns[t])!;
      expect(node.owners).toEqual([rec.id]);
    }
    expect(snap.containers.map((c) => c.id)).toContain(rec.id);
  });

  it('draws one node for a namespace two containers share', async () => {
    const a = await engine.run({ ...long, namespaces: { pid: true, mnt: true, uts: true, net: false } });
    const b = await engine.run({ ...long, namespaces: { pid: true, mnt: true, uts: true, net: false } });
    const snap = await hub.snapshot('namespaces');
    const hostNet = snap.types.net.find((n) => n.isHost)!;
    expect(hostNet.owners).toEqual(expect.arrayContaining(['host', a.id, b.id]));
    const pidA = snap.processes.find((p) => p.pid === a.state.pid)!.ns.pid;
    const pidB = snap.processes.find((p) => p.pid === b.state.pid)!.ns.pid;
    expect(pidA).not.toBe(pidB);
  });

  it('shows an exec session while it runs, and drops it when it exits', async () => {
    const rec = engine.list().find((r) => r.config.namespaces?.ipc)!;
    const seen: NamespaceSnapshot[] = [];
    const off = hub.subscribe('namespaces', (s) => seen.push(s));
    const ex = await engine.exec(rec.id, { cmd: ['sleep', '2'] });
    const during = await waitFor(() => seen.find((s) => s.processes.some((p) => p.containerId === rec.id && p.comm === 'sleep' && p.role === 'member' && p.ns.pid === inode(rec.state.pid, 'pid'))), 3000);
    const member = during.processes.find((p) => p.containerId === rec.id && p.role === 'member' && p.comm === 'sleep')!;
    expect(member.nspid[member.nspid.length - 1]).toBeGreaterThan(1);
    await new Promise<void>((r) => ex.onExit(() => r()));
    await waitFor(() => {
      const last = seen[seen.length - 1];
      return !last.processes.some((p) => p.pid === member.pid);
    }, 3000);
    off();
  });

  it('shows a copy-up with its size, a new file and a whiteout in the layer stack; whichLayer explains them', async () => {
    const rec = await engine.run({ ...long });
    const big = 3 * 1024 * 1024;
    const sh = async (cmd: string) => {
      const ex = await engine.exec(rec.id, { cmd: ['sh', '-c', cmd] });
      await new Promise<void>((r) => ex.onExit(() => r()));
    };
    // a file in a lower layer: the image's /etc/passwd, touched in place → copy-up of the whole file
    await sh(`dd if=/dev/zero of=/new.bin bs=1024 count=${big / 1024} 2>/dev/null; echo >> /etc/passwd; rm -f /etc/hostname /etc/group`);
    const snap = await hub.snapshot('layers', rec.id);
    expect(snap.state).toBe('ok');
    expect(snap.layers.length).toBeGreaterThan(0);
    const byPath = new Map(snap.upper!.changes.map((c) => [c.path, c]));
    expect(byPath.get('/new.bin')).toMatchObject({ kind: 'added', copiedBytes: big });
    const passwd = byPath.get('/etc/passwd')!;
    expect(passwd.kind).toBe('modified');
    expect(passwd.copyUp).toBe(true);
    expect(passwd.copiedBytes).toBeGreaterThan(0);
    expect(byPath.get('/etc/group')?.kind).toBe('deleted');
    expect(snap.totals.copiedUpBytes).toBeGreaterThanOrEqual(passwd.copiedBytes);
    const w = await hub.whichLayer(rec.id, '/etc/passwd');
    expect(w.visible?.layer).toBe('upper');
    expect(w.hides.length).toBeGreaterThan(0);
    const g = await hub.whichLayer(rec.id, '/etc/group');
    expect(g.visible).toBeNull();
    expect(g.hits[0]).toMatchObject({ layer: 'upper', type: 'whiteout' });
    expect(g.explanation).toMatch(/whiteout/);
  });

  it('marks a fork refused by pids.max and an OOM kill on the cgroup timeline', async () => {
    const rec = await engine.run({ ...long, limits: { pids: 8, memory: 32 * 1024 * 1024, memorySwap: 32 * 1024 * 1024 } });
    await hub.cgroups.tick();
    const ex = await engine.exec(rec.id, { cmd: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; wait'] });
    await waitFor(async () => {
      await hub.cgroups.tick();
      return hub.cgroups.snapshot(rec.id).containers[0]?.events.some((e) => e.kind === 'fork-refused');
    }, 8000);
    ex.kill('SIGKILL');
    const oom = await engine.exec(rec.id, { cmd: ['sh', '-c', 'x=a; while :; do x=$x$x; done'] });
    await new Promise<void>((r) => oom.onExit(() => r()));
    const s = await waitFor(async () => {
      await hub.cgroups.tick();
      const c = hub.cgroups.snapshot(rec.id).containers[0];
      return c?.events.some((e) => e.kind === 'oom-kill' || e.kind === 'oom') ? c : null;
    }, 20_000); // a one-CPU guest under the whole suite can take a while to show the event
    expect(s.samples.length).toBeGreaterThan(1);
    expect(s.samples[s.samples.length - 1].pidsLimit).toBe(8);
    // a limit changed from outside shows too
    await engine.update(rec.id, { pids: 16 });
    await waitFor(async () => {
      await hub.cgroups.tick();
      return hub.cgroups.snapshot(rec.id).containers[0].events.some((e) => e.kind === 'limit-changed');
    }, 4000);
  });

  it('cleans the paths it made', () => {
    expect(existsSync(base)).toBe(true);
  });
});
