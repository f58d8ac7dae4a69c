// bench:boot — the time from `npm start` (node scripts/start.mjs) to "dashboard ready" on a built tree (dist/ and .next
// up to date: the first `npm start` builds them, which this bench does once, untimed), beside the
// same server run from its TypeScript sources through tsx (what `npm start` ran before dist/).
// Each start gets its own state dirs and the run's test prefix; the server is stopped by its pid.
//   flock /tmp/gb-test.lock npm run bench:boot        (BENCH_RUNS=5)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../helpers.js';
import { useTestPrefix } from '../prefix.js';
import { repo } from '../e2e/dashboard-support';
import { ensureServerBuilt } from '../../scripts/server-build.mjs';
import { ensureDashboardBuilt } from '../../scripts/dashboard-build.mjs';

useTestPrefix();
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** ms from spawning argv to the "dashboard ready" line; then SIGTERM and wait for the exit */
async function bootMs(argv: string[]): Promise<number> {
  const root = mkdtempSync('/tmp/gb-boot-root-');
  const run = mkdtempSync('/tmp/gbw-');
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawn(argv[0], [...argv.slice(1), '--port', String(port)], {
    cwd: repo,
    env: { ...process.env, GLASSBOX_ROOT: root, GLASSBOX_RUN: run, GLASSBOX_DOCKER_SOCK: join(run, 'docker.sock'), NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in 60 s:\n${out}`)), 60_000);
      proc.stderr!.on('data', (d) => (out += d));
      proc.stdout!.on('data', (d) => {
        out += d;
        if (/dashboard ready at/.test(out)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      proc.once('exit', (code) => reject(new Error(`exited (${code}):\n${out}`)));
    });
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      await exited;
    }
    const { NetworkManager } = await import('../../server/engine/network/index.js');
    await new NetworkManager({ root, runRoot: run }).teardown({ removeState: true }).catch(() => {});
    rmSync(root, { recursive: true, force: true });
    rmSync(run, { recursive: true, force: true });
  }
}

export async function benchBoot(): Promise<string> {
  if (ensureDashboardBuilt(repo) !== 0 || (await ensureServerBuilt(repo)) !== 0) throw new Error('build failed');
  // what `npm start` runs (npm itself adds its own start-up, ~0.2 s, and does not wait for the
  // server's exit when signalled: start.mjs forwards the signal and exits with the server)
  const npmStart = [process.execPath, join(repo, 'scripts', 'start.mjs')];
  const tsx = [join(repo, 'node_modules', '.bin', 'tsx'), join(repo, 'server', 'main.ts')];
  const a: number[] = [];
  const b: number[] = [];
  await bootMs(npmStart); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    a.push(await bootMs(npmStart));
    b.push(await bootMs(tsx));
  }
  const line = `npm start → ready (built tree, node dist/server/main.js): median ${median(a).toFixed(0)} ms [${a.map((x) => x.toFixed(0)).join(', ')}]; from the sources through tsx: median ${median(b).toFixed(0)} ms [${b.map((x) => x.toFixed(0)).join(', ')}]`;
  console.log(line);
  return line;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchBoot().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
