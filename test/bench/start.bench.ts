// bench:start — create + start + wait of /bin/true with every namespace, cgroup limits and an
// overlay root, median of N runs; beside runc and crun running the same bundle where installed.
// Last line: glassbox=X ms crun=Y ms runc=Z ms
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../../server/engine/engine.js';
import { mountOverlay, unmountOverlay } from '../../server/engine/rootfs/overlay.js';
import { shiftedLayerDir } from '../../server/engine/rootfs/shift.js';
import type { ContainerConfig } from '../../server/engine/types.js';
import { useTestPrefix } from '../prefix.js';

// its own bridge, chains and cgroups: a serving Glassbox on this host is not touched
useTestPrefix();

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const CONFIG: ContainerConfig = {
  image: 'base',
  cmd: ['/bin/true'],
  namespaces: { pid: true, mnt: true, net: true, uts: true, ipc: true, user: true, cgroup: true, time: true },
  limits: { memory: 64 * 1024 * 1024, cpus: 1, pids: 64 },
  // a new network namespace with only lo, as the peers get: bridge wiring is the networking bench's
  network: 'none',
};

/** Run the peer on a copy of a Glassbox bundle: same config.json, same layers, own overlay. */
function benchPeer(runtime: string, args: (id: string, bundle: string) => string[], source: { config: Record<string, unknown>; lowers: string[]; hostUid: number; hostGid: number }, dir: string, timeNs: boolean): number[] | string {
  const bundle = join(dir, runtime.split('/').pop()!);
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  const upper = join(bundle, 'upper');
  const work = join(bundle, 'work');
  mkdirSync(upper, { recursive: true });
  mkdirSync(work, { recursive: true });
  execFileSync('chown', [`${source.hostUid}:${source.hostGid}`, upper]);
  mountOverlay({ lowers: source.lowers, upper, work, target: join(bundle, 'rootfs') });
  try {
    const times: number[] = [];
    for (let i = 0; i < RUNS + WARMUP; i++) {
      const id = `gbbench-${process.pid}-${i}`;
      const cfg = structuredClone(source.config) as { linux: { cgroupsPath: string; namespaces: { type: string }[]; timeOffsets?: unknown } };
      cfg.linux.cgroupsPath = `/gbbench/${id}`;
      if (!timeNs) {
        cfg.linux.namespaces = cfg.linux.namespaces.filter((n) => n.type !== 'time');
        delete cfg.linux.timeOffsets;
      }
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(cfg));
      const t = performance.now();
      const r = spawnSync(runtime, args(id, bundle), { encoding: 'utf8' });
      const ms = performance.now() - t;
      if (r.status !== 0) return `failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
      if (i >= WARMUP) times.push(ms);
    }
    return times;
  } finally {
    unmountOverlay(join(bundle, 'rootfs'));
    for (const h of ['memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'freezer', 'cpuset', 'devices', 'systemd', '']) {
      const p = join('/sys/fs/cgroup', h, 'gbbench');
      if (existsSync(p)) spawnSync('find', [p, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
    }
  }
}

export async function benchStart(): Promise<string> {
  const base = mkdtempSync('/tmp/gbb-');
  chmodSync(base, 0o711); // the user-namespaced root (uid 100000) walks to its rootfs
  // no bridge: the peers get none either (network mode none below)
  const engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r'), network: false });
  try {
    const times: number[] = [];
    for (let i = 0; i < RUNS + WARMUP; i++) {
      const t = performance.now();
      const rec = await engine.run(CONFIG);
      const w = await engine.wait(rec.id);
      const ms = performance.now() - t;
      if (w.exitCode !== 0) throw new Error(`/bin/true exited ${w.exitCode}: ${engine.get(rec.id).state.error}`);
      if (i >= WARMUP) times.push(ms);
      await engine.remove(rec.id);
    }
    const gb = median(times);
    console.log(`glassbox: median ${gb.toFixed(2)} ms, min ${Math.min(...times).toFixed(2)} ms over ${times.length} runs`);

    // One more container gives the bundle (config.json + layers) the peers run.
    const rec = await engine.run({ ...CONFIG, cmd: ['/bin/true'] });
    await engine.wait(rec.id);
    const config = JSON.parse(readFileSync(join(rec.paths.bundle, 'config.json'), 'utf8')) as { linux: { uidMappings: { hostID: number }[]; gidMappings: { hostID: number }[] } };
    // Glassbox sees the layers through idmapped mounts; the peers are given copies shifted to the
    // same range, which is what the config.json's uid/gid maps expect on disk
    const hostUid = config.linux.uidMappings[0].hostID;
    const hostGid = config.linux.gidMappings[0].hostID;
    const image = engine.images.resolve(rec.image.id);
    const source = {
      config: config as unknown as Record<string, unknown>,
      lowers: await Promise.all(image.layers.map((l) => shiftedLayerDir(engine.images, l.diffId, hostUid, hostGid))),
      hostUid,
      hostGid,
    };
    // The bind mounts of /etc/hosts etc. point into the container's dir: keep it until the peers ran.
    const peers: Record<string, string> = {};
    const crun = which('crun');
    const runc = which('runc');
    for (const [name, path, args] of [
      // crun's cgroup manager cannot drive a hybrid host: disabled, as the issue says.
      ['crun', crun, (id: string, b: string) => ['--cgroup-manager=disabled', 'run', '--bundle', b, id]],
      ['runc', runc, (id: string, b: string) => ['run', '--bundle', b, id]],
    ] as const) {
      if (!path) {
        peers[name] = 'n/a';
        continue;
      }
      // runc learned time namespaces in 1.2: an older one runs the bundle without it (said below)
      const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
      const timeNs = !(name === 'runc' && /version 1\.[01]\./.test(version));
      const r = benchPeer(path, args, source, base, timeNs);
      if (!timeNs) console.log(`${name}: ${version.trim()} has no time namespace support: its runs leave that one namespace out`);
      if (typeof r === 'string') {
        console.log(`${name}: ${r}`);
        peers[name] = 'n/a';
      } else {
        console.log(`${name}: median ${median(r).toFixed(2)} ms, min ${Math.min(...r).toFixed(2)} ms over ${r.length} runs`);
        peers[name] = median(r).toFixed(2);
      }
    }
    await engine.remove(rec.id);
    const ratio = peers.crun !== 'n/a' ? ` (glassbox/crun = ${(gb / Number(peers.crun)).toFixed(2)})` : '';
    console.log(`start: create+start+wait of /bin/true, all 8 namespaces, memory/cpu/pids limits, overlay root${ratio}`);
    return `glassbox=${gb.toFixed(2)} ms crun=${peers.crun}${peers.crun === 'n/a' ? '' : ' ms'} runc=${peers.runc}${peers.runc === 'n/a' ? '' : ' ms'}`;
  } finally {
    for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
    await engine.close();
    rmSync(base, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchStart());
}
