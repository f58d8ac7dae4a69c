// bench:classroom — one real server (server/main.ts) serving a class on this machine: N simulated
// learners (socket.io clients, as their browsers connect), each joined through POST /api/join,
// each with 3 containers and a terminal in one of them typing a key every ~200 ms, each with the
// dashboard's /containers socket open (the list and the stats ticks). Measured:
//   - key → echo: from the `input` message to the shell's echo arriving (p50/p95/p99), all
//     learners typing, and a quiet baseline first: one learner alone on the server;
//   - the teacher's roster: the teacher polls GET /api/classes/:id; every few seconds a learner
//     makes a container and the time until the roster lists it is taken (from the create request);
//   - the server's CPU (utime+stime from /proc, of the server and of its helpers — the gb-helper
//     monitors and exec sessions, its children — as % of one core) and RSS (the server's VmRSS,
//     the helpers' together and per container).
// There is no peer to run beside it (no other playground serves a class on one host here): the
// figures are Glassbox's alone.
// Run alone: npm run bench:classroom -- --learners 30 --seconds 60 (npm run bench runs it with
// the defaults below).
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Socket } from 'socket.io-client';
import { api, cleanupDirs, removeAll, startServer, type RunningServer } from '../e2e/dashboard-support';
import { connect, createClass, createContainer, joinClass, percentile, Terminal, typeKeys, type Learner } from '../e2e/classroom-support';
import { useTestPrefix } from '../prefix.js';

// its own bridge, chains and cgroups: a serving Glassbox on this host is not touched
useTestPrefix();

export interface ClassroomBenchOptions {
  learners: number;
  seconds: number;
  /** ms between a learner's keys (± a third, at random) */
  keyEveryMs: number;
  /** ms between the teacher's roster requests */
  pollEveryMs: number;
  containersEach: number;
}

const DEFAULTS: ClassroomBenchOptions = { learners: 30, seconds: 60, keyEveryMs: 200, pollEveryMs: 250, containersEach: 3 };

/** --learners 30 --seconds 60 --key-ms 200 --poll-ms 250; a bad flag names itself. */
export function parseFlags(argv: string[]): ClassroomBenchOptions {
  const o = { ...DEFAULTS };
  const names: Record<string, keyof ClassroomBenchOptions> = { '--learners': 'learners', '--seconds': 'seconds', '--key-ms': 'keyEveryMs', '--poll-ms': 'pollEveryMs' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const key = names[flag];
    if (!key) throw new Error(`bench:classroom: unknown option ${flag} (known: ${Object.keys(names).join(', ')})`);
    const raw = inline ?? argv[++i];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`bench:classroom: ${flag} wants a whole number of at least 1, got ${JSON.stringify(raw)}`);
    o[key] = n;
  }
  if (o.learners > 200) throw new Error(`bench:classroom: --learners at most 200 (got ${o.learners})`);
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** [pid, ppid, comm, utime+stime (ticks), rss pages] of every process, from /proc. */
function processTable(): { pid: number; ppid: number; comm: string; ticks: number }[] {
  const out: { pid: number; ppid: number; comm: string; ticks: number }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // comm may hold spaces and parentheses: the fields after it start at the last ')'
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      out.push({ pid: Number(d), ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      /* gone */
    }
  }
  return out;
}

function descendants(root: number, table: ReturnType<typeof processTable>): Set<number> {
  const kids = new Map<number, number[]>();
  for (const p of table) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p.pid]);
  const out = new Set<number>();
  const walk = (pid: number) => {
    for (const k of kids.get(pid) ?? []) {
      if (out.has(k)) continue;
      out.add(k);
      walk(k);
    }
  };
  walk(root);
  return out;
}

const rssKiB = (pid: number) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

/**
 * CPU time of the server and of its descendants, split into the server itself, the helpers
 * (gb-helper: container monitors and exec sessions) and the containers' own processes, added
 * up per pid between samples (a process that ends loses its last partial second only).
 */
class CpuMeter {
  private last = new Map<number, number>();
  ticks = { server: 0, helpers: 0, containers: 0 };
  private started = 0;
  private stopped = 0;
  rss = { serverPeakKiB: 0, serverLastKiB: 0, helpersLastKiB: 0, helpersCount: 0 };
  constructor(private readonly serverPid: number) {}

  start(): void {
    this.sample(false);
    this.started = performance.now();
  }

  sample(count = true): void {
    const table = processTable();
    const mine = descendants(this.serverPid, table);
    mine.add(this.serverPid);
    let helpersRss = 0;
    let helpers = 0;
    for (const p of table) {
      if (!mine.has(p.pid)) continue;
      const prev = this.last.get(p.pid);
      this.last.set(p.pid, p.ticks);
      const kind = p.pid === this.serverPid ? 'server' : p.comm === 'gb-helper' ? 'helpers' : 'containers';
      if (kind === 'helpers') {
        helpers++;
        helpersRss += rssKiB(p.pid);
      }
      // a process first seen now: its whole CPU time falls within the run (it started during it)
      if (count) this.ticks[kind] += p.ticks - (prev ?? 0);
    }
    const srv = rssKiB(this.serverPid);
    this.rss.serverLastKiB = srv;
    this.rss.serverPeakKiB = Math.max(this.rss.serverPeakKiB, srv);
    this.rss.helpersLastKiB = helpersRss;
    this.rss.helpersCount = helpers;
  }

  stop(): void {
    this.sample();
    this.stopped = performance.now();
  }

  /** % of one core over the run */
  percent(kind: keyof CpuMeter['ticks']): number {
    return (this.ticks[kind] / CLK / ((this.stopped - this.started) / 1000)) * 100;
  }
}

interface LearnerRig {
  learner: Learner;
  containers: string[];
  list: Socket;
  term: Terminal;
}

/** A learner as the bench plays them: joined, their containers made, sockets open, terminal at a prompt. */
async function rigLearner(srv: RunningServer, code: string, i: number, containersEach: number): Promise<LearnerRig> {
  const learner = await joinClass(srv, code, `learner ${i}`);
  const containers: string[] = [];
  for (let c = 0; c < containersEach; c++) {
    // one container runs a shell as its main process, the others sleep
    const cmd = c === 1 ? ['sh', '-c', 'while :; do sleep 3600; done'] : ['sleep', '86400'];
    containers.push(await createContainer(srv, learner.token, { name: `c${c}`, cmd }));
  }
  const list = await connect(srv, '/containers', learner);
  const term = new Terminal(await connect(srv, '/terminal', learner));
  await term.open(containers[0]);
  return { learner, containers, list, term };
}

/** Runs fn over items, at most `width` at a time. */
async function pool<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const stats = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: xs.length ? Math.max(...xs) : NaN });

export async function benchClassroom(argv: string[] = []): Promise<string> {
  const o = parseFlags(argv);
  console.log(`classroom: ${o.learners} learners × ${o.containersEach} containers, a terminal each typing a key every ~${o.keyEveryMs} ms for ${o.seconds} s; the teacher polls the roster every ${o.pollEveryMs} ms`);
  const srv = await startServer();
  const rigs: LearnerRig[] = [];
  const t0 = performance.now();
  try {
    // one container more than the bench keeps: the roster probe's
    const cls = await createClass(srv, { name: 'bench', seats: o.learners, quota: { containers: o.containersEach + 1, pids: 4096, memory: 1024 * 1024 * 1024, disk: 1024 * 1024 * 1024 } });

    // ---- quiet baseline: one learner alone on the server
    rigs.push(await rigLearner(srv, cls.code, 0, o.containersEach));
    await typeKeys(rigs[0].term, 10, o.keyEveryMs); // warm-up
    const quietKeys = Math.max(50, Math.min(150, Math.round((o.seconds * 1000) / o.keyEveryMs / 2)));
    const quiet = await typeKeys(rigs[0].term, quietKeys, o.keyEveryMs);
    const q = stats(quiet);
    console.log(`quiet baseline (1 learner, ${q.n} keys): key→echo p50 ${fmt(q.p50, 2)} ms, p95 ${fmt(q.p95, 2)} ms, p99 ${fmt(q.p99, 2)} ms`);

    // ---- the class arrives
    const tSetup = performance.now();
    rigs.push(...(await pool(Array.from({ length: o.learners - 1 }, (_, i) => i + 1), 3, (i) => rigLearner(srv, cls.code, i, o.containersEach))));
    const setupS = (performance.now() - tSetup) / 1000;
    console.log(`setup: ${o.learners - 1} more learners joined, ${(o.learners - 1) * o.containersEach} containers made and a terminal each opened in ${fmt(setupS)} s`);
    await sleep(2000); // let the creates' aftermath settle

    // ---- the run: everyone types, the teacher polls, a learner now and then makes a container
    const meter = new CpuMeter(srv.pid);
    meter.start();
    const sampler = setInterval(() => meter.sample(), 1000);
    const end = performance.now() + o.seconds * 1000;
    const over = () => performance.now() >= end;

    const rosterMs: number[] = [];
    let latestRoster: { at: number; ids: Set<string> } = { at: 0, ids: new Set() };
    const rosterGetMs: number[] = [];
    const poller = (async () => {
      while (!over()) {
        const t = performance.now();
        const r = await api<{ learners: { containers: { id: string }[] }[] }>(srv, `/api/classes/${cls.id}`);
        rosterGetMs.push(performance.now() - t);
        if (r.status === 200) latestRoster = { at: performance.now(), ids: new Set(r.body.learners.flatMap((l) => l.containers.map((c) => c.id))) };
        await sleep(Math.max(0, o.pollEveryMs - (performance.now() - t)));
      }
    })();
    const createMs: number[] = [];
    /** when a probe's create was in flight: keys sent then wait for the server's create work */
    const creating: [number, number][] = [];
    const prober = (async () => {
      let k = 0;
      await sleep(1000);
      while (performance.now() < end - 5000) {
        const rig = rigs[k++ % rigs.length];
        const t = performance.now();
        const id = await createContainer(srv, rig.learner.token, { name: 'probe' });
        createMs.push(performance.now() - t);
        creating.push([t, performance.now()]);
        while (!latestRoster.ids.has(id) && performance.now() - t < 15_000) await sleep(5);
        if (latestRoster.ids.has(id)) rosterMs.push(latestRoster.at - t);
        await api(srv, `/api/containers/${id}?force=1`, { method: 'DELETE', token: rig.learner.token });
        await sleep(2000);
      }
    })();
    const sent: { at: number; ms: number }[] = [];
    const typed = await Promise.all(
      rigs.map(async (rig, i) => {
        await sleep((i / rigs.length) * o.keyEveryMs); // not all in step
        return typeKeys(rig.term, Number.MAX_SAFE_INTEGER, o.keyEveryMs, { until: over, record: (at, ms) => sent.push({ at, ms }) });
      }),
    );
    await Promise.all([poller, prober]);
    clearInterval(sampler);
    meter.stop();

    const all = stats(typed.flat());
    const during = (k: { at: number; ms: number }) => creating.some(([a, b]) => k.at < b && k.at + k.ms > a);
    const inCreate = stats(sent.filter(during).map((k) => k.ms));
    const notInCreate = stats(sent.filter((k) => !during(k)).map((k) => k.ms));
    const load = loadavg()[0];
    const perLearnerP95 = typed.map((t) => percentile(t, 95));
    const r = stats(rosterMs);
    const g = stats(rosterGetMs);
    const c = stats(createMs);
    const containers = o.learners * o.containersEach;
    const rows: [string, string][] = [
      ['learners / containers / terminals', `${o.learners} / ${containers} / ${o.learners}`],
      ['key→echo, quiet (1 learner) p50 / p95 / p99', `${fmt(q.p50, 2)} / ${fmt(q.p95, 2)} / ${fmt(q.p99, 2)} ms  (${q.n} keys)`],
      [`key→echo, ${o.learners} typing p50 / p95 / p99 / max`, `${fmt(all.p50, 2)} / ${fmt(all.p95, 2)} / ${fmt(all.p99, 2)} / ${fmt(all.max, 1)} ms  (${all.n} keys, ${fmt(all.n / o.seconds, 0)}/s)`],
      ['  keys not overlapping a container create', `p50 ${fmt(notInCreate.p50, 2)} / p95 ${fmt(notInCreate.p95, 2)} / p99 ${fmt(notInCreate.p99, 2)} ms  (${notInCreate.n} keys)`],
      ['  keys overlapping a create (roster probe)', `p50 ${fmt(inCreate.p50, 2)} / p95 ${fmt(inCreate.p95, 2)} / p99 ${fmt(inCreate.p99, 2)} ms  (${inCreate.n} keys)`],
      ['  worst learner\'s p95', `${fmt(Math.max(...perLearnerP95), 2)} ms`],
      ['  p95 loaded / quiet', `${fmt(all.p95 / q.p95, 2)}×`],
      ['roster shows a new container p50 / p95 / max', `${fmt(r.p50, 0)} / ${fmt(r.p95, 0)} / ${fmt(r.max, 0)} ms after the create was sent  (${r.n} probes, polled every ${o.pollEveryMs} ms)`],
      ['  container create (POST) p50 / p95', `${fmt(c.p50, 0)} / ${fmt(c.p95, 0)} ms`],
      ['  roster GET p50 / p95', `${fmt(g.p50, 1)} / ${fmt(g.p95, 1)} ms  (${g.n} requests)`],
      ['server CPU (node)', `${fmt(meter.percent('server'))} % of one core`],
      ['helpers CPU (gb-helper monitors + exec)', `${fmt(meter.percent('helpers'))} % of one core`],
      ['containers\' processes CPU', `${fmt(meter.percent('containers'))} % of one core`],
      ['server RSS (VmRSS) end / peak', `${fmt(meter.rss.serverLastKiB / 1024, 0)} / ${fmt(meter.rss.serverPeakKiB / 1024, 0)} MiB`],
      ['machine load average (1 min) at the end', `${fmt(load, 2)} on ${cpus().length} cores (other work on the machine counts too)`],
      ['helpers RSS all / per container', `${fmt(meter.rss.helpersLastKiB / 1024, 0)} MiB in ${meter.rss.helpersCount} helpers / ${fmt(meter.rss.helpersLastKiB / 1024 / containers, 2)} MiB per container (exec sessions' helpers included)`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nclassroom bench (${o.learners} learners, ${o.seconds} s, 2-core figures; no peer to compare with):`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
    console.log(`total ${fmt((performance.now() - t0) / 1000, 0)} s`);
    return `${o.learners} learners: key→echo p95 ${fmt(all.p95, 1)} ms (quiet ${fmt(q.p95, 1)} ms), roster ${fmt(r.p50, 0)}/${fmt(r.p95, 0)} ms p50/p95, server CPU ${fmt(meter.percent('server'), 0)} % + helpers ${fmt(meter.percent('helpers'), 0)} %, RSS ${fmt(meter.rss.serverPeakKiB / 1024, 0)} MiB + ${fmt(meter.rss.helpersLastKiB / 1024 / containers, 2)} MiB/container`;
  } finally {
    for (const rig of rigs) {
      await rig.term.close().catch(() => {});
      rig.term.socket.close();
      rig.list.close();
    }
    await removeAll(srv).catch(() => {});
    await srv.stop();
    await cleanupDirs(srv);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await benchClassroom(process.argv.slice(2)));
}
