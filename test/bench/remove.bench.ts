// bench:remove — the top of bench:scale on its own: N running containers on the default bridge,
// the topology frame (one network diagram snapshot, and its parts), then `docker rm -f` of them
// all through the real docker CLI against Glassbox's socket, as a user types it. Prints the time,
// every error line the CLI printed (a connection reset is one), the server's RSS and what is left
// behind (records, cgroups, veths): a removal that "succeeded" but left a veth is not a success.
//   flock /tmp/gb-bench.lock npm run bench:remove -- --n 500 --frames 10
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startDockerApi } from '../../server/api/docker/server.js';
import { hostNames } from '../../server/engine/host/naming.js';
import { NetworkInspector, readKernelNetwork } from '../../server/engine/inspect/network.js';
import { useTestPrefix } from '../prefix.js';
import { DOCKER_CLI, median } from './peers.js';

const prefix = useTestPrefix();
const run = promisify(execFile);

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : (process.env[`BENCH_${name.toUpperCase()}`] ?? def);
}
const rssMB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

/** --prof <dir>: a CPU profile of each timed phase (topology.cpuprofile, rm.cpuprofile), for DevTools */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = arg('prof', '');
  if (!dir) return fn();
  const s = new Session();
  s.connect();
  await s.post('Profiler.enable');
  await s.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await s.post('Profiler.stop');
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    s.disconnect();
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** This run's veths and container cgroups still on the host (its prefix only). */
function leftovers(): { veths: string[]; cgroups: string[] } {
  const names = hostNames(prefix);
  const veths = readdirSync('/sys/class/net').filter((n) => names.vethRe.test(n));
  const cgroups: string[] = [];
  for (const root of ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    try {
      for (const d of readdirSync(join(root, names.cgroupParent))) if (/^[0-9a-f]{64}$/.test(d)) cgroups.push(`${root}/${d}`);
    } catch {
      /* no such hierarchy or parent */
    }
  }
  return { veths, cgroups };
}

export async function benchRemove(): Promise<string> {
  const n = Number(arg('n', '500'));
  const frames = Number(arg('frames', '10'));
  const { Engine } = await import('../../server/engine/engine.js');
  const base = mkdtempSync('/tmp/gbb-');
  const engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r') });
  const sock = join(base, 'docker.sock');
  const api = await startDockerApi(engine, { socketPath: sock });
  const out: string[] = [];
  try {
    const t0 = performance.now();
    for (let have = 0; have < n; ) {
      const batch = Math.min(8, n - have);
      await Promise.all(Array.from({ length: batch }, () => engine.run({ image: 'base', cmd: ['sleep', '1d'] })));
      have += batch;
    }
    console.log(`${n} running in ${((performance.now() - t0) / 1000).toFixed(1)} s; server RSS ${rssMB().toFixed(0)} MB`);

    // the topology frame, as bench:scale times it, and its two parts
    const inspector = new NetworkInspector(engine.network);
    await inspector.snapshot(engine.list(), engine);
    const whole: number[] = [];
    const kernel: number[] = [];
    const manager: number[] = [];
    await profiled('topology', async () => {
      for (let i = 0; i < frames; i++) {
        whole.push(await timed(() => inspector.snapshot(engine.list(), engine)));
        kernel.push(await timed(() => readKernelNetwork()));
        manager.push(await timed(async () => engine.network?.topology()));
      }
    });
    const f = (xs: number[]) => `${median(xs).toFixed(1)} ms`;
    console.log(`topology frame @${n}: ${f(whole)} (kernel read alone ${f(kernel)}, manager topology alone ${f(manager)})`);
    out.push(`topology ${f(whole)}`);

    const ids = (await run(DOCKER_CLI, ['-H', `unix://${sock}`, 'ps', '-q', '--no-trunc'], { maxBuffer: 1 << 24 })).stdout.split('\n').filter(Boolean);
    let stderr = '';
    // how long the event loop was held at a time while removing: a held loop answers no one
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const t1 = performance.now();
    await profiled('rm', async () => {
      try {
        await run(DOCKER_CLI, ['-H', `unix://${sock}`, 'rm', '-f', ...ids], { maxBuffer: 1 << 24 });
      } catch (e) {
        stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message);
      }
    });
    const rmS = (performance.now() - t1) / 1000;
    lag.disable();
    console.log(`event loop delay while removing: p50 ${(lag.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ${(lag.max / 1e6).toFixed(0)} ms`);
    const errors = stderr.split('\n').filter(Boolean);
    const left = engine.list({ all: true }).length;
    const host = leftovers();
    console.log(`rm -f of ${ids.length}: ${rmS.toFixed(1)} s; ${errors.length} CLI errors; left: ${left} records, ${host.cgroups.length} cgroups, ${host.veths.length} veths; server RSS ${rssMB().toFixed(0)} MB`);
    for (const e of errors.slice(0, 10)) console.log(`  ${e}`);
    out.push(`rm -f ${ids.length}: ${rmS.toFixed(1)} s, ${errors.length} errors, ${left} left`);
  } finally {
    for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
    await api.close();
    await engine.network?.teardown({ removeState: true });
    await engine.close();
    rmSync(base, { recursive: true, force: true });
  }
  return out.join('; ');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchRemove());
}
