// bench:runtimes — every runtime the engine lists, in one interleaved run (a shuffled order per
// round, so drift on the machine hits all of them alike): the start of `true` (create → running,
// and create → exited; median and p90 over N runs) and the runtime's own memory (the host PSS of
// the container's processes beyond what the processes inside count as theirs; median of M probes).
// The measuring is the engine's own (server/engine/compare/), the same as the /runtimes page's.
// An unavailable runtime is printed n/a with its own error, never replaced by another one.
// Last line: builtin=X ms runc=Y ms … (create → running, medians)
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../../server/engine/engine.js';
import { commandRun, COMPARE_LABEL, probeRun } from '../../server/engine/compare/runtime-compare.js';
import { PROBE_SCRIPT } from '../../server/engine/compare/probe.js';
import type { ContainerConfig } from '../../server/engine/types.js';
import { useTestPrefix } from '../prefix.js';
import { figure, median, shuffle, table, value, type Samples } from './peers.js';

// its own bridge, chains and cgroups: a serving Glassbox on this host is not touched
useTestPrefix();

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const MEM_RUNS = Number(process.env.BENCH_MEM_RUNS ?? 3);
const WARMUP = 1;
const BASELINE = 'builtin';

export async function benchRuntimes(): Promise<string> {
  const base = mkdtempSync('/tmp/gbb-');
  chmodSync(base, 0o711); // a user-namespaced root walks to its rootfs
  const engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r'), network: false });
  try {
    const listed = await engine.comparableRuntimes();
    const deps = { engine, cgroupPids: (id: string) => engine.cgroups.pids(id) };
    const config = (runtime: string): ContainerConfig => ({ image: 'base', runtime, network: 'none', labels: { [COMPARE_LABEL]: 'bench' } });
    const start: Samples = {};
    const exit: Samples = {};
    const memory: Record<string, number[] | string> = {};
    for (const l of listed) {
      const why = `unavailable: ${l.error ?? 'no reason given'}`;
      // three arrays of its own (one shared array would mix the figures)
      start[l.name] = l.available ? [] : why;
      exit[l.name] = l.available ? [] : why;
      memory[l.name] = l.available ? [] : why;
    }
    const live = () => listed.map((l) => l.name).filter((n) => typeof start[n] !== 'string');
    for (let round = 0; round < RUNS + WARMUP; round++) {
      for (const name of shuffle(live())) {
        const run = await commandRun(engine, { ...config(name), entrypoint: [], cmd: ['true'] }, round);
        if (run.startMs === null || run.exitMs === null || run.exitCode !== 0) {
          // the runtime's own error (an engine refusal, a failed start, `true` not exiting 0)
          start[name] = exit[name] = memory[name] = run.error ?? `true exited ${run.exitCode}`;
          continue;
        }
        if (round >= WARMUP) {
          (start[name] as number[]).push(run.startMs);
          (exit[name] as number[]).push(run.exitMs);
        }
        if (round >= WARMUP && round < WARMUP + MEM_RUNS) {
          const p = await probeRun(deps, { ...config(name), entrypoint: ['sh', '-c', PROBE_SCRIPT], cmd: [] }, round);
          if (p.memory) (memory[name] as number[]).push(p.memory.overheadKb / 1024);
          else memory[name] = p.error ?? 'no memory sample';
        }
      }
    }
    figure('start: create → running, `true` (ms)', start, BASELINE);
    figure('exit: create → exited, `true` (ms)', exit, BASELINE);
    value('memory: the runtime’s own (host PSS − inside), median', Object.fromEntries(Object.entries(memory).map(([k, v]) => [k, typeof v === 'string' ? v : v.length ? median(v) : 'no sample'])), 'MB', BASELINE);
    table();
    const left = engine.list({ all: true }).length;
    if (left) throw new Error(`${left} containers were left behind`);
    return listed.map((l) => `${l.name}=${typeof start[l.name] === 'string' ? 'n/a' : `${median(start[l.name] as number[]).toFixed(1)} ms`}`).join(' ');
  } finally {
    for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
    await engine.close();
    rmSync(base, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchRuntimes());
}
