// Healthchecks (Docker's HEALTHCHECK, --health-*): while a container runs, its test command is
// exec'd every interval (a real process in its namespaces and cgroup, as `docker exec` makes);
// exit 0 is healthy, anything else (or a timeout) a failure, and `retries` failures in a row make
// it unhealthy. Failures within the start period do not count. The status and the last five
// results are in the record (inspect's State.Health), each change is a `health_status` event.
import type { ContainerConfig, ContainerRecord } from '../types.js';
import { containerEvent, type EngineContext } from './context.js';
import { execInContainer } from './exec.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';
export interface HealthLogEntry {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}
export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  log: HealthLogEntry[];
}

type Check = NonNullable<ContainerConfig['healthcheck']>;
interface Effective {
  argv: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

const DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 };
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/** Docker's image Healthcheck (durations in ns) → the engine's form. */
function fromImage(h: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number } | undefined): Check | undefined {
  if (!h?.Test?.length) return undefined;
  const ms = (ns?: number) => (ns ? Math.round(ns / 1e6) : undefined);
  return { test: h.Test, intervalMs: ms(h.Interval), timeoutMs: ms(h.Timeout), startPeriodMs: ms(h.StartPeriod), retries: h.Retries || undefined };
}

/** The container's own settings over the image's, field by field (as Docker merges them); null: none. */
export function effectiveHealthcheck(own: Check | undefined, image: Parameters<typeof fromImage>[0]): Effective | null {
  const img = fromImage(image);
  const test = own?.test?.length ? own.test : img?.test;
  if (!test?.length || test[0] === 'NONE') return null;
  const argv = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test[0] === 'CMD' ? test.slice(1) : test;
  if (!argv.length) return null;
  const pick = <K extends keyof typeof DEFAULTS>(k: K) => own?.[k] ?? img?.[k] ?? DEFAULTS[k];
  return { argv, intervalMs: pick('intervalMs'), timeoutMs: pick('timeoutMs'), startPeriodMs: pick('startPeriodMs'), retries: pick('retries') };
}

const timers = new WeakMap<EngineContext, Map<string, NodeJS.Timeout>>();
const timersOf = (ctx: EngineContext) => {
  let m = timers.get(ctx);
  if (!m) timers.set(ctx, (m = new Map()));
  return m;
};

/** At each start: status "starting", the first check after one interval. */
export function startHealthchecks(ctx: EngineContext, rec: ContainerRecord): void {
  stopHealthchecks(ctx, rec.id);
  let imageHealth;
  try {
    imageHealth = (ctx.images.resolve(rec.image.id).config.config as { Healthcheck?: Parameters<typeof fromImage>[0] } | undefined)?.Healthcheck;
  } catch {
    imageHealth = undefined;
  }
  const hc = effectiveHealthcheck(rec.config.healthcheck, imageHealth);
  if (!hc) {
    delete rec.state.health;
    return;
  }
  rec.state.health = { status: 'starting', failingStreak: 0, log: [] };
  ctx.records.save(rec);
  const startedAt = Date.now();
  const schedule = () => {
    const t = setTimeout(() => void tick(), hc.intervalMs);
    t.unref();
    timersOf(ctx).set(rec.id, t);
  };
  const tick = async () => {
    const cur = ctx.records.all().find((r) => r.id === rec.id);
    if (!cur || cur.state.status !== 'running' || ctx.isClosed()) return stopHealthchecks(ctx, rec.id);
    const result = await runCheck(ctx, cur.id, hc);
    const now = ctx.records.all().find((r) => r.id === rec.id);
    if (!now || now.state.status !== 'running' || !now.state.health) return;
    const h = now.state.health;
    h.log = [...h.log, result].slice(-MAX_LOG);
    const before = h.status;
    if (result.exitCode === 0) {
      h.failingStreak = 0;
      h.status = 'healthy';
    } else if (Date.now() - startedAt >= hc.startPeriodMs || before !== 'starting') {
      h.failingStreak++;
      if (h.failingStreak >= hc.retries) h.status = 'unhealthy';
    }
    ctx.records.save(now);
    if (h.status !== before) ctx.emit(containerEvent('health_status', now, { healthStatus: h.status }));
    schedule();
  };
  schedule();
}

export function stopHealthchecks(ctx: EngineContext, id: string): void {
  const t = timersOf(ctx).get(id);
  if (t) clearTimeout(t);
  timersOf(ctx).delete(id);
}

/** One run of the test: its exit code and (the start of) its output; a timeout is a failure. */
async function runCheck(ctx: EngineContext, id: string, hc: Effective): Promise<HealthLogEntry> {
  const start = new Date().toISOString();
  let output = '';
  try {
    const p = await execInContainer(ctx, id, { cmd: hc.argv });
    const add = (d: Buffer) => {
      if (output.length < MAX_OUTPUT) output += d.toString('utf8').slice(0, MAX_OUTPUT - output.length);
    };
    p.onData(add);
    p.onStderr(add);
    p.end();
    const code = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        output = `Health check exceeded timeout (${hc.timeoutMs / 1000}s)`;
        resolve(-1);
      }, hc.timeoutMs);
      timer.unref();
      p.onExit((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    ctx.execs.delete(p.execId); // not one of the user's exec sessions: nothing to inspect later
    return { start, end: new Date().toISOString(), exitCode: code, output };
  } catch (e) {
    return { start, end: new Date().toISOString(), exitCode: -1, output: (e as Error).message };
  }
}
