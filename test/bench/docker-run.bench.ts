// `time docker run --rm base true` against Glassbox (the figure a user feels), beside `runc run`
// of an equivalent bundle (runc spec; rootfs = a copy of base's layers). Median of N runs each.
//   npx tsx test/bench/docker-run.bench.ts        (root)
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDockerApi } from '../../server/api/docker/server.js';
import { useTestPrefix } from '../prefix.js';

// its own bridge, chains and cgroups: a serving Glassbox on this host is not touched
useTestPrefix();

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => existsSync(p));
const N = Number(process.env.BENCH_RUNS ?? 20);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function benchDockerRun(): Promise<string> {
  const { Engine } = await import('../../server/engine/engine.js');
  const base = mkdtempSync('/tmp/gbb-');
  const engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r'), network: false });
  const sock = join(base, 'docker.sock');
  const api = await startDockerApi(engine, { socketPath: sock });
  let glassbox = NaN;
  let runc = NaN;
  try {
    // The server runs in this process: the CLI is awaited asynchronously, never spawnSync'd.
    const docker = () => run(DOCKER, ['-H', `unix://${sock}`, 'run', '--rm', 'base', 'true']);
    await docker(); // warm-up
    const gb: number[] = [];
    for (let i = 0; i < N; i++) gb.push(await timeIt(docker));
    glassbox = median(gb);
    console.log(`glassbox: docker run --rm base true  median ${glassbox.toFixed(1)} ms  (min ${Math.min(...gb).toFixed(1)}, max ${Math.max(...gb).toFixed(1)}, n=${N})`);

    if (RUNC) {
      const bundle = join(base, 'bundle');
      const rootfs = join(bundle, 'rootfs');
      mkdirSync(rootfs, { recursive: true });
      for (const l of engine.inspectImage('base').layerDetails) cpSync(l.dir, rootfs, { recursive: true, verbatimSymlinks: true, force: true });
      await run(RUNC, ['spec'], { cwd: bundle });
      const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
      spec.process.terminal = false;
      spec.process.args = ['true'];
      spec.root.readonly = false;
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
      const runcRun = (i: number) => () => run(RUNC, ['--root', join(base, 'runc-state'), 'run', '--bundle', bundle, `gbbench${process.pid}-${i}`]);
      await runcRun(-1)();
      const rc: number[] = [];
      for (let i = 0; i < N; i++) rc.push(await timeIt(runcRun(i)));
      runc = median(rc);
      console.log(`runc:     runc run (same rootfs)       median ${runc.toFixed(1)} ms  (min ${Math.min(...rc).toFixed(1)}, max ${Math.max(...rc).toFixed(1)}, n=${N})`);
    } else {
      console.log('runc: not installed');
    }
  } finally {
    for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
    await api.close();
    await engine.close();
    rmSync(base, { recursive: true, force: true });
  }
  const line = `docker-run glassbox=${glassbox.toFixed(1)} ms runc=${Number.isNaN(runc) ? 'n/a' : `${runc.toFixed(1)} ms`}`;
  console.log(line);
  return line;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchDockerRun().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
