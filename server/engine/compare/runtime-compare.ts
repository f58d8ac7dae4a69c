// compareRuntimes: the same image and command under 2–5 runtimes, measured by the engine.
//
// Each round runs every ticked runtime once, one at a time (the order rotates per round, so no
// runtime always goes first on a warm or a cold machine), and for each:
//   1. the command itself: create → start resolved (the command exec'd) → wait resolved (it
//      exited), its exit code, its first lines of output and the record's timeline;
//   2. the probe (probe.ts): what the processes see inside (uname -r, ps, dmesg, CapEff) and,
//      while it idles, the memory of the container's host processes beside what the processes
//      inside count as theirs: the difference is the runtime's own cost.
// Every container is removed as soon as it has been read; the figures and timelines are kept in
// the comparison (store.ts). A runtime that cannot run here fails its run with the engine's own
// error, which the result carries; it is never replaced by another one.
import { randomBytes } from 'node:crypto';
import { release } from 'node:os';
import type { EngineApi, LogEntry } from '../api.js';
import { Conflict, type ContainerConfig, type TimelineStep } from '../types.js';
import { containerProcesses } from './host-memory.js';
import { parseProbe, PROBE_READY, PROBE_SCRIPT } from './probe.js';
import { checkCompareRequest } from './request.js';
import type { ComparisonStore } from './store.js';
import type { CommandRun, MemoryFigure, ProbeRun, RuntimeAvailability, RuntimeComparison, RuntimeResult } from './types.js';

/** The label on every container a comparison makes (its value: the comparison's id). */
export const COMPARE_LABEL = 'glassbox.runtime-compare';

const OUTPUT_LIMIT = 4096;
/** A UML guest boots in about 3 s here; gVisor in a fraction of one. */
const PROBE_TIMEOUT_MS = 60_000;

export type CompareEngine = Pick<EngineApi, 'create' | 'start' | 'wait' | 'logs' | 'get' | 'kill' | 'remove' | 'inspectImage'>;

export interface CompareDeps {
  engine: CompareEngine;
  runtimes(): RuntimeAvailability[] | Promise<RuntimeAvailability[]>;
  /** the pids of the container's cgroup (the monitor's included) */
  cgroupPids(id: string): Promise<number[]>;
  store: ComparisonStore;
}

/** One comparison at a time per engine: two at once would measure each other. */
const busy = new WeakSet<ComparisonStore>();

export async function compareRuntimes(deps: CompareDeps, input: unknown): Promise<RuntimeComparison> {
  const listed = await deps.runtimes();
  const req = checkCompareRequest(input, listed);
  const image = deps.engine.inspectImage(req.image); // NotFound for an image this engine lacks
  if (busy.has(deps.store)) throw new Conflict('a runtime comparison is running already: wait for it to finish');
  busy.add(deps.store);
  const t0 = performance.now();
  try {
    const id = randomBytes(6).toString('hex');
    const results: RuntimeResult[] = req.runtimes.map((name) => {
      const l = listed.find((x) => x.name === name)!;
      return { runtime: name, available: l.available, description: l.description, ...(l.error ? { error: l.error } : {}), runs: [], probes: [], startMs: null, exitMs: null, overheadKb: null, inside: null };
    });
    const base: ContainerConfig = { image: image.id, network: 'none', labels: { [COMPARE_LABEL]: id } };
    for (let round = 0; round < req.rounds; round++) {
      for (let k = 0; k < results.length; k++) {
        const r = results[(k + round) % results.length];
        // a runtime that failed to start once fails the same way again: one error is enough
        if (r.runs.some((x) => x.startMs === null)) continue;
        const run = await commandRun(deps.engine, { ...base, runtime: r.runtime, entrypoint: [], cmd: req.cmd }, round);
        r.runs.push(run);
        if (run.startMs === null) {
          r.error = run.error;
          continue;
        }
        r.probes.push(await probeRun(deps, { ...base, runtime: r.runtime, entrypoint: ['sh', '-c', PROBE_SCRIPT], cmd: [] }, round));
      }
    }
    for (const r of results) summarize(r);
    const comparison: RuntimeComparison = {
      id,
      created: new Date().toISOString(),
      image: req.image,
      imageId: image.id,
      cmd: req.cmd,
      rounds: req.rounds,
      hostKernel: release(),
      results,
      totalMs: performance.now() - t0,
    };
    deps.store.save(comparison);
    return comparison;
  } finally {
    busy.delete(deps.store);
  }
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summarize(r: RuntimeResult): void {
  const ok = r.runs.filter((x) => x.startMs !== null);
  r.startMs = median(ok.map((x) => x.startMs!));
  r.exitMs = median(ok.filter((x) => x.exitMs !== null).map((x) => x.exitMs!));
  r.overheadKb = median(r.probes.filter((p) => p.memory).map((p) => p.memory!.overheadKb));
  r.inside = [...r.probes].reverse().find((p) => p.inside)?.inside ?? null;
  // a probe that failed everywhere says why, unless the runtime has its own error already
  if (!r.error && r.probes.length && r.probes.every((p) => p.error)) r.error = r.probes[r.probes.length - 1].error;
}

async function collectOutput(engine: CompareEngine, id: string): Promise<string> {
  let out = '';
  try {
    for await (const e of engine.logs(id)) {
      if (out.length < OUTPUT_LIMIT) out += e.log;
    }
  } catch {
    /* a log driver that keeps nothing: no output to show */
  }
  return out.slice(0, OUTPUT_LIMIT);
}

function timelineOf(engine: CompareEngine, id: string): TimelineStep[] {
  try {
    return engine.get(id).timeline;
  } catch {
    return [];
  }
}

async function cleanup(engine: CompareEngine, id: string | null): Promise<void> {
  if (id) await engine.remove(id, { force: true, volumes: true }).catch(() => {});
}

/** The command: create → running → exited, timed by the engine's own calls (bench:runtimes uses it too). */
export async function commandRun(engine: CompareEngine, config: ContainerConfig, round: number): Promise<CommandRun> {
  let id: string | null = null;
  const t = performance.now();
  try {
    id = (await engine.create(config)).id;
    await engine.start(id);
    const startMs = performance.now() - t;
    const w = await engine.wait(id);
    const exitMs = performance.now() - t;
    return { round, startMs, exitMs, exitCode: w.exitCode, ...(w.error ? { error: w.error } : {}), output: await collectOutput(engine, id), timeline: timelineOf(engine, id) };
  } catch (e) {
    return { round, startMs: null, exitMs: null, exitCode: null, error: (e as Error).message, output: id ? await collectOutput(engine, id) : '', timeline: id ? timelineOf(engine, id) : [] };
  } finally {
    await cleanup(engine, id);
  }
}

/** Follow the logs until the probe says it is ready (true), or it ended or timed out first (false). */
async function untilReady(engine: CompareEngine, id: string, sink: { text: string }): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), PROBE_TIMEOUT_MS);
  try {
    const follow = (async () => {
      for await (const e of engine.logs(id, { follow: true, signal: abort.signal }) as AsyncIterable<LogEntry>) {
        if (sink.text.length < 64 * 1024) sink.text += e.log;
        if (sink.text.includes(PROBE_READY)) return true;
      }
      return sink.text.includes(PROBE_READY);
    })();
    return await follow;
  } catch {
    return sink.text.includes(PROBE_READY);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

export async function probeRun(deps: Pick<CompareDeps, 'engine' | 'cgroupPids'>, config: ContainerConfig, round: number): Promise<ProbeRun> {
  const { engine } = deps;
  let id: string | null = null;
  try {
    id = (await engine.create(config)).id;
    await engine.start(id);
    const sink = { text: '' };
    const ready = await untilReady(engine, id, sink);
    const parsed = ready ? parseProbe(sink.text) : null;
    let memory: MemoryFigure | null = null;
    if (parsed) {
      const rec = engine.get(id);
      const processes = containerProcesses({ cgroupPids: await deps.cgroupPids(id).catch(() => []), monitorPid: rec.state.monitorPid });
      const hostKb = processes.reduce((s, p) => s + p.kb, 0);
      memory = { hostKb, guestKb: parsed.guestKb, guestMeasure: parsed.guestMeasure, overheadKb: Math.max(0, hostKb - parsed.guestKb), processes };
    }
    await engine.kill(id, 'KILL').catch(() => {});
    await engine.wait(id).catch(() => {});
    const timeline = timelineOf(engine, id);
    if (!parsed) {
      const tail = (sink.text || (await collectOutput(engine, id))).trim().split('\n').slice(-3).join(' / ');
      return { round, error: `the probe did not finish (it needs /bin/sh, uname, ps, dmesg, head and sleep in the image)${tail ? `: ${tail}` : ''}`, inside: null, memory: null, timeline };
    }
    return { round, inside: parsed.inside, memory, timeline };
  } catch (e) {
    return { round, error: (e as Error).message, inside: null, memory: null, timeline: id ? timelineOf(engine, id) : [] };
  } finally {
    await cleanup(engine, id);
  }
}
