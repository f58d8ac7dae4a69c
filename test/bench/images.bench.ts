// bench:images — `docker load` and `docker save` of a ~100 MB image, then `docker ps` and
// `docker stats --no-stream` with N running containers, Glassbox (the production server, node
// dist/server/main.js, its Docker API socket) beside the peers (test/bench/peers.ts: dockerd by
// default; BENCH_PEERS=dockerd,podman). The engines are interleaved, shuffled per round; one line
// per figure (median, p90, ratio to each peer), then a table.
//   flock /tmp/gb-test.lock npm run bench:images     (BENCH_ROUNDS=5 BENCH_RUNNING=200 BENCH_IMAGE_MB=100
//                                                    BENCH_SECTIONS=load,save,running)
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { cleanupDirs, removeAll, repo, startServer } from '../e2e/dashboard-support';
import { useTestPrefix } from '../prefix.js';
import { ensureServerBuilt, SERVER_ENTRY } from '../../scripts/server-build.mjs';
import { DOCKER_CLI, figure, isPeer, peerEnv, shuffle, startPeers, table, type Peer, type Samples } from './peers.js';

useTestPrefix();
const run = promisify(execFile);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUNNING = Number(process.env.BENCH_RUNNING ?? 200);
const IMAGE_MB = Number(process.env.BENCH_IMAGE_MB ?? 100);
const PEERS = (process.env.BENCH_PEERS ?? 'dockerd').split(',').filter(Boolean) as Peer['name'][];
/** which figures: load,save,running (ps and stats with BENCH_RUNNING containers); default all */
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'load,save,running').split(','));

type Cli = (args: string[]) => Promise<{ stdout: string }>;

/** Like peers.interleave, with an untimed step before each timed one (rmi before a load). */
async function rounds(engines: Record<string, Cli>, timed: (cli: Cli) => Promise<unknown>, before?: (cli: Cli) => Promise<unknown>): Promise<Samples> {
  const out: Samples = {};
  for (const k of Object.keys(engines)) out[k] = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const k of shuffle(Object.keys(engines))) {
      if (typeof out[k] === 'string') continue;
      try {
        if (before) await before(engines[k]);
        const t = performance.now();
        await timed(engines[k]);
        if (r > 0) (out[k] as number[]).push(performance.now() - t);
      } catch (e) {
        out[k] = ((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').slice(-1)[0];
      }
    }
  }
  return out;
}

export async function benchImages(): Promise<string> {
  if (!process.env.GLASSBOX_E2E_SERVER) {
    if ((await ensureServerBuilt(repo)) !== 0) throw new Error('the server build failed');
    process.env.GLASSBOX_E2E_SERVER = join(repo, SERVER_ENTRY);
  }
  const srv = await startServer();
  const sock = join(srv.run, 'docker.sock');
  const dir = mkdtempSync('/tmp/gbimg-bench-');
  const gb: Cli = (args) => run(DOCKER_CLI, ['-H', `unix://${sock}`, ...args], { maxBuffer: 1 << 26 });
  const { peers, stopAll } = await startPeers(sock, PEERS);
  const engines: Record<string, Cli> = { glassbox: gb };
  for (const p of peers) {
    if (!isPeer(p)) continue;
    engines[p.name] = (args) => {
      const [c, a] = p.cli(args);
      return run(c, a, { env: peerEnv(p), maxBuffer: 1 << 26 });
    };
  }
  const failed = Object.fromEntries(peers.filter((p) => !isPeer(p)).map((p) => [p.name, (p as { error: string }).error]));
  try {
    // ---- the image: base + one layer of IMAGE_MB of random bytes, made in Glassbox, saved once
    await gb(['run', '--name', 'gbimgbench', 'base', 'sh', '-c', `head -c ${IMAGE_MB * 1000 * 1000} /dev/urandom > /big`]);
    await gb(['commit', 'gbimgbench', 'gbbig:1']);
    await gb(['rm', '-f', 'gbimgbench']);
    const tar = join(dir, 'big.tar');
    await gb(['save', '-o', tar, 'gbbig:1']);
    console.log(`image gbbig:1: ${(statSync(tar).size / 1e6).toFixed(1)} MB archive`);
    for (const [k, cli] of Object.entries(engines)) if (k !== 'glassbox') await cli(['load', '-i', tar]);

    if (SECTIONS.has('load')) {
      const load = await rounds(
        engines,
        (cli) => cli(['load', '-i', tar]),
        (cli) => cli(['rmi', '-f', 'gbbig:1']).catch(() => {}),
      );
      figure(`docker load, ${IMAGE_MB} MB image`, { ...load, ...failed });
    }
    const saved = join(dir, 'out.tar');
    if (SECTIONS.has('save')) {
      const save = await rounds(
        engines,
        (cli) => cli(['save', '-o', saved, 'gbbig:1']),
        async () => rmSync(saved, { force: true }),
      );
      figure(`docker save, ${IMAGE_MB} MB image`, { ...save, ...failed });
      rmSync(saved, { force: true });
    }
    if (!SECTIONS.has('running')) return table();

    // ---- RUNNING sleeping containers in each engine, then ps and stats
    const t0 = performance.now();
    await Promise.all(
      Object.entries(engines).map(async ([, cli]) => {
        for (let i = 0; i < RUNNING; i++) await cli(['run', '-d', '--network', 'none', 'base', 'sleep', '3600']);
      }),
    );
    console.log(`${RUNNING} running in each engine (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    const ps = await rounds(engines, (cli) => cli(['ps']));
    figure(`docker ps, ${RUNNING} running`, { ...ps, ...failed });
    const stats = await rounds(engines, (cli) => cli(['stats', '--no-stream']));
    figure(`docker stats --no-stream, ${RUNNING} running`, { ...stats, ...failed });
    return table();
  } finally {
    for (const [k, cli] of Object.entries(engines)) {
      if (k === 'glassbox') continue;
      const ids = (await cli(['ps', '-aq']).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
      for (let i = 0; i < ids.length; i += 50) await cli(['rm', '-f', ...ids.slice(i, i + 50)]).catch(() => {});
    }
    await stopAll();
    await removeAll(srv).catch(() => {});
    await gb(['rmi', '-f', 'gbbig:1']).catch(() => {});
    await srv.stop();
    await cleanupDirs(srv);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchImages().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
