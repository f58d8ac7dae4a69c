// The idle inspector: the cgroup sampler reads only what a subscriber watches, the containers
// nobody watches still get their OOM kills and refused forks on the timeline (the cheap check),
// and the counter files are re-read from open descriptors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CounterFiles } from '../../server/engine/cgroups/counter-files.js';
import type { CgroupEventCounts, CgroupStats } from '../../server/engine/cgroups/types.js';
import { CgroupSampler } from '../../server/engine/inspect/cgroups.js';
import { InspectHub } from '../../server/engine/inspect/hub.js';
import type { InspectEngine } from '../../server/engine/inspect/source.js';
import type { ContainerRecord, EngineEvent } from '../../server/engine/types.js';

const tmp = mkdtempSync('/tmp/gbu-idle-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

function record(id: string): ContainerRecord {
  return {
    id,
    name: `c-${id[0]}`,
    created: '2024-01-01T00:00:00Z',
    config: { image: 'base' },
    image: { ref: 'base', id: 'sha256:img' },
    path: 'sh',
    args: [],
    limits: { memory: 64 << 20, memorySwap: null, cpus: null, cpuShares: null, pids: 8, io: [] },
    state: { status: 'running', pid: 100, pidStartTime: null, monitorPid: 99, monitorStartTime: null, exitCode: 0, signal: null, oomKilled: false, error: '', startedAt: null, finishedAt: null, restartCount: 0 },
    timeline: [],
    paths: { bundle: '', rootfs: '', upper: '', work: '', lowers: [], log: '', cgroups: {} },
    network: { mode: 'none' },
  };
}

function stats(time: number): CgroupStats {
  return {
    time,
    memory: { current: 10, limit: 100, swapLimit: null, peak: null, stat: {}, events: { max: 0, oom: 0, oomKill: 0 } },
    cpu: { usageNs: time * 1e5, userNs: 0, systemNs: 0, nrPeriods: 0, nrThrottled: 0, throttledNs: 0, cpus: null, weight: 100, shares: 1024 },
    pids: { current: 1, limit: 8, refused: 0 },
    io: { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 },
    frozen: false,
  };
}

/** A fake engine that counts its stats() reads per container and serves event counters. */
function fakeEngine(records: ContainerRecord[], counts: Map<string, CgroupEventCounts>) {
  const reads = new Map<string, number>();
  const cbs = new Set<(e: EngineEvent) => void>();
  let t = 0;
  const engine: InspectEngine & { fire(e: EngineEvent): void } = {
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
    stats: async (id: string) => {
      reads.set(id, (reads.get(id) ?? 0) + 1);
      return { ...stats((t += 1000)), networks: {} };
    },
    eventCounts: (id: string) => counts.get(id) ?? { oomKill: 0, forksRefused: 0 },
    usage: (id: string) => (records.some((r) => r.id === id) ? { time: Date.now(), memory: 5, cpuUsageNs: 1, pids: 3 } : null),
  };
  return { engine, reads };
}

describe('idle cgroup sampler', () => {
  it('reads nothing while nobody watches, then only the watched container', async () => {
    const { engine, reads } = fakeEngine([record(ID_A), record(ID_B)], new Map());
    const sampler = new CgroupSampler(engine, { intervalMs: 1000, windowMs: 5000 });
    sampler.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(reads.size).toBe(0);
    const unwatch = sampler.watch(ID_A.slice(0, 12)); // a prefix, as the page may send
    await sampler.tickWatched(); // the reading watch() started
    await sampler.tickWatched();
    expect(reads.get(ID_A)).toBeGreaterThanOrEqual(2);
    expect(reads.get(ID_B)).toBeUndefined();
    expect(sampler.snapshot(ID_A).containers[0].samples.length).toBeGreaterThanOrEqual(2);
    unwatch();
    const before = reads.get(ID_A)!;
    await sampler.tickWatched();
    expect(reads.get(ID_A)).toBe(before);
    sampler.stop();
  });

  it('marks an OOM kill and refused forks of a container nobody watches, from its counters alone', () => {
    const counts = new Map<string, CgroupEventCounts>([[ID_B, { oomKill: 0, forksRefused: 0 }]]);
    const { engine, reads } = fakeEngine([record(ID_A), record(ID_B)], counts);
    const sampler = new CgroupSampler(engine, { intervalMs: 1000, windowMs: 60_000 });
    sampler.start();
    sampler.checkEvents(); // the baseline
    counts.set(ID_B, { oomKill: 2, forksRefused: 3 });
    sampler.checkEvents();
    sampler.checkEvents(); // unchanged: no second event
    const b = sampler.snapshot(ID_B).containers[0];
    expect(b.events.map((e) => e.kind).sort()).toEqual(['fork-refused', 'oom-kill']);
    expect(b.events.find((e) => e.kind === 'oom-kill')!.detail).toMatch(/killed 2 processes .*64\.0 MiB/);
    expect(b.events.find((e) => e.kind === 'fork-refused')!.detail).toMatch(/3 forks refused: pids.max = 8/);
    expect(sampler.snapshot(ID_A).containers).toHaveLength(0);
    expect(reads.size).toBe(0); // no full reading for any of it
    sampler.stop();
  });

  it('a container that starts counts from zero: its first kill is an event', () => {
    const counts = new Map<string, CgroupEventCounts>();
    const rec = record(ID_A);
    const { engine } = fakeEngine([rec], counts);
    const sampler = new CgroupSampler(engine, { intervalMs: 1000, windowMs: 60_000 });
    sampler.start();
    engine.fire({ type: 'container', action: 'start', id: ID_A, name: rec.name, image: 'base', time: Date.now() });
    counts.set(ID_A, { oomKill: 1, forksRefused: 0 });
    sampler.checkEvents();
    expect(sampler.snapshot(ID_A).containers[0].events.map((e) => e.kind)).toContain('oom-kill');
    sampler.stop();
  });

  it('the hub samples for a cgroups channel only while it has a subscriber', async () => {
    const { engine, reads } = fakeEngine([record(ID_A), record(ID_B)], new Map());
    const hub = new InspectHub(engine, { sampleMs: 1000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(reads.size).toBe(0);
    const got: number[] = [];
    const off = hub.subscribe('cgroups', (s) => got.push(s.containers.length), ID_A);
    await new Promise((r) => setTimeout(r, 100));
    expect(reads.get(ID_A)).toBeGreaterThanOrEqual(1);
    expect(reads.get(ID_B)).toBeUndefined();
    off();
    const n = reads.get(ID_A)!;
    await new Promise((r) => setTimeout(r, 1200));
    expect(reads.get(ID_A)).toBe(n);
    hub.close();
  });
});

describe('CounterFiles', () => {
  it('re-reads a file from its open descriptor, and forgets a directory', () => {
    const dir = join(tmp, 'cg');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const f = join(dir, 'memory.events');
    writeFileSync(f, 'low 0\noom 1\noom_kill 4\n');
    const c = new CounterFiles();
    expect(c.key(f, 'oom_kill')).toBe(4);
    expect(c.key(f, 'oom')).toBe(1);
    writeFileSync(f, 'low 0\noom 2\noom_kill 9\n'); // same inode, new text
    expect(c.key(f, 'oom_kill')).toBe(9);
    expect(c.size).toBe(1);
    expect(c.int(join(dir, 'missing'))).toBeNull();
    c.forget(dir);
    expect(c.size).toBe(0);
  });
});
