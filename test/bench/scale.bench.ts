// bench:scale — `docker run --rm base true` on the default bridge while 10 → 500 containers run,
// Glassbox beside dockerd, podman and raw runc (test/bench/peers.ts), interleaved per round.
// At each level: latency (median, p90, ratio to each peer), Glassbox's server RSS, the peers' own
// daemon RSS. At the top level (500 by default): host memory per container beyond its own
// processes (Glassbox's monitor vs containerd-shim vs conmon, PSS), `rm -f` of them all, and the
// topology frame (one network diagram snapshot).
//   flock /tmp/gb-test.lock npm run bench:scale -- --levels 10,50,100,200 --rounds 15 --peers dockerd,podman,runc
// The server runs in this process (the docker CLI is awaited asynchronously), so "server RSS" is
// this process's RSS: engine, Docker API and the bench's own few MB.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startDockerApi } from '../../server/api/docker/server.js';
import { NetworkInspector } from '../../server/engine/inspect/network.js';
import { useTestPrefix } from '../prefix.js';
import { DOCKER_CLI, errText, figure, interleave, isPeer, median, peerEnv, startPeers, table, value, type Peer } from './peers.js';

// its own bridge, chains and cgroups: a serving Glassbox on this host is not touched
useTestPrefix();
const run = promisify(execFile);

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : (process.env[`BENCH_${name.toUpperCase()}`] ?? def);
}

const rssMB = (pid: number | 'self') => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
/** proportional set size: shared pages (the helper binary, libc) counted once across processes */
const pssMB = (pid: number) => {
  try {
    const m = /Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};
const allPids = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);

/** Per-container processes that are not the container's own: one kind per engine. */
function perContainerOverhead(match: (c: string) => boolean, n: number): number | string {
  const pids = allPids().filter((p) => match(comm(p)));
  if (!pids.length || !n) return 'no such processes';
  return pids.reduce((s, p) => s + pssMB(p), 0) / n;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function benchScale(): Promise<string> {
  const levels = arg('levels', '10,50,100,200,500').split(',').map(Number).filter((n) => n > 0).sort((a, b) => a - b);
  const rounds = Number(arg('rounds', '15'));
  const wantPeers = arg('peers', 'dockerd,podman,runc').split(',').filter(Boolean) as Peer['name'][];
  const { Engine } = await import('../../server/engine/engine.js');
  const base = mkdtempSync('/tmp/gbb-');
  const engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r') });
  const sock = join(base, 'docker.sock');
  const api = await startDockerApi(engine, { socketPath: sock });
  const { peers, stopAll } = await startPeers(sock, wantPeers.filter((p) => ['dockerd', 'podman', 'runc'].includes(p)));
  const live = peers.filter(isPeer);
  /** a peer that could not hold a level is out from there on, with its reason */
  const out = new Map<string, string>();
  for (const p of peers) if (!isPeer(p)) out.set(p.name, p.error);
  const gbRun = () => run(DOCKER_CLI, ['-H', `unix://${sock}`, 'run', '--rm', 'base', 'true']);
  let gbRunning = 0;
  const peerRunning = new Map<string, number>(live.map((p) => [p.name, 0]));
  const at10: number[] = [];
  const summary: string[] = [];
  console.log(`glassbox: default bridge ${engine.network?.names.bridge ?? '?'} (made by the engine)`);
  try {
    for (const level of levels) {
      // fill: Glassbox through its engine (the figure is the run, not the fill), peers by their CLI
      const t0 = performance.now();
      try {
        while (gbRunning < level) {
          const batch = Math.min(8, level - gbRunning);
          await Promise.all(Array.from({ length: batch }, () => engine.run({ image: 'base', cmd: ['sleep', '1d'] })));
          gbRunning += batch;
        }
      } catch (e) {
        // e.g. a default bridge that got a /24 because the /16 candidates were taken on this host
        console.log(`glassbox could not hold ${level} running (${errText(e)}; default network ${engine.network?.inspectNetwork('bridge').subnet}): stopping the climb`);
        gbRunning = engine.list().length;
        break;
      }
      const gbFill = performance.now() - t0;
      for (const p of live) {
        if (out.has(p.name)) continue;
        try {
          while (peerRunning.get(p.name)! < level) {
            const have = peerRunning.get(p.name)!;
            const batch = Math.min(4, level - have);
            await Promise.all(Array.from({ length: batch }, () => p.runDetached(['sleep', '1d'])));
            peerRunning.set(p.name, have + batch);
          }
        } catch (e) {
          out.set(p.name, `could not hold ${level} running: ${errText(e)}`);
        }
      }
      console.log(`\n-- ${level} running (glassbox filled in ${(gbFill / 1000).toFixed(1)} s)`);
      const engines: Record<string, () => Promise<unknown>> = { glassbox: gbRun };
      for (const p of live) if (!out.has(p.name)) engines[p.name] = () => p.runRm(['true']);
      const samples = await interleave(rounds, engines);
      for (const [k, why] of out) samples[k] = why;
      const ratios = figure(`run --rm true @${level}`, samples);
      const gbMed = typeof samples.glassbox === 'string' ? NaN : median(samples.glassbox);
      at10.push(gbMed);
      if (at10.length > 1) console.log(`flatness: glassbox @${level} / @${levels[0]} = ${(gbMed / at10[0]).toFixed(2)}`);
      const rss: Record<string, number | string> = { glassbox: rssMB('self') };
      for (const p of live) if (p.daemonPids().length) rss[p.name] = p.daemonPids().reduce((s, pid) => s + rssMB(pid), 0);
      value(`server RSS @${level}`, rss, 'MB');
      summary.push(`@${level} glassbox=${gbMed.toFixed(1)} ms${ratios.dockerd ? ` (${ratios.dockerd.toFixed(2)}× dockerd)` : ''} rss=${(rss.glassbox as number).toFixed(0)} MB`);
    }

    const top = gbRunning;
    console.log(`\n-- at ${top} running: per-container cost, topology frame, rm -f of all`);
    // host memory per container beyond its own processes
    value(
      `per-container host process PSS @${top}`,
      {
        // each container's monitor (gb-helper), found by the pid its record holds
        glassbox: engine.list().reduce((sum, r) => sum + pssMB(r.state.monitorPid), 0) / Math.max(1, gbRunning),
        ...(live.some((p) => p.name === 'dockerd') && !out.has('dockerd') ? { dockerd: perContainerOverhead((c) => c.startsWith('containerd-shim'), peerRunning.get('dockerd')!) } : {}),
        ...(live.some((p) => p.name === 'podman') && !out.has('podman') ? { podman: perContainerOverhead((c) => c === 'conmon', peerRunning.get('podman')!) } : {}),
      },
      'MB',
    );
    // the topology frame: one network diagram snapshot (kernel read + manager's topology)
    const inspector = new NetworkInspector(engine.network);
    await inspector.snapshot(engine.list(), engine);
    const frames: number[] = [];
    for (let i = 0; i < 5; i++) frames.push(await timed(() => inspector.snapshot(engine.list(), engine)));
    value(`topology frame @${top}`, { glassbox: median(frames) }, 'ms');
    // rm -f of all, each engine by its CLI
    const rmAll: Record<string, number | string> = {};
    const ids = (await run(DOCKER_CLI, ['-H', `unix://${sock}`, 'ps', '-q', '--no-trunc'], { maxBuffer: 1 << 24 })).stdout.split('\n').filter(Boolean);
    try {
      rmAll.glassbox = await timed(() => run(DOCKER_CLI, ['-H', `unix://${sock}`, 'rm', '-f', ...ids], { maxBuffer: 1 << 24 }));
    } catch (e) {
      // the CLI sends the removals in parallel: a refused connection is a figure too, not a crash
      const left = engine.list({ all: true }).length;
      rmAll.glassbox = `${errText(e).slice(0, 200)} (${left} of ${ids.length} left)`;
    }
    gbRunning = 0;
    for (const p of live) {
      if (p.name === 'runc') continue;
      try {
        const [c, a] = p.cli(['ps', '-q']);
        const pids = (await run(c, a, { env: peerEnv(p), maxBuffer: 1 << 24 })).stdout.split('\n').filter(Boolean);
        const [c2, a2] = p.cli(['rm', '-f', ...pids]);
        rmAll[p.name] = await timed(() => run(c2, a2, { env: peerEnv(p), maxBuffer: 1 << 24 }));
      } catch (e) {
        rmAll[p.name] = errText(e);
      }
    }
    value(`rm -f of all ${top}`, Object.fromEntries(Object.entries(rmAll).map(([k, v]) => [k, typeof v === 'number' ? v / 1000 : v])), 's');
    summary.push(`rm -f ${top}: ${typeof rmAll.glassbox === 'number' ? `${(rmAll.glassbox / 1000).toFixed(1)} s` : 'failed'}; topology ${median(frames).toFixed(1)} ms`);
    table();
  } finally {
    for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
    await stopAll();
    await api.close();
    // the bench's bridge and chains go too (close() alone keeps them, as a serving engine does)
    await engine.network?.teardown({ removeState: true });
    await engine.close();
    rmSync(base, { recursive: true, force: true });
  }
  return summary.join('; ');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchScale());
}
