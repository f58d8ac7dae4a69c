// The peers a benchmark measures Glassbox against, each started privately and removed afterwards:
//   dockerd  Debian's docker.io on its own socket, data-root, exec-root and pidfile under a mkdtemp
//            dir, on a bridge made here (gbpd0, 10.231.0.0/16), --iptables=false --ip-masq=false;
//   podman   with runc, its own root/runroot/config, a CNI bridge made here (gbpp0, 10.232.0.0/24,
//            no masquerade, no firewall plugin) and nofile/nproc ulimits this sandbox accepts;
//   runc     raw `runc run` of a bundle unpacked from the same `base` image (network: none).
// Every peer gets the same `base` image, saved by Glassbox (`docker save`) and loaded into it.
// A peer that cannot start is returned as { name, error } and printed as `n/a` with that error.
// Each is stopped by the PID it started, never by name.
//
// The shared printing: figure() prints one line per figure (Glassbox median and p90, each peer's,
// the ratios) and remembers it; table() prints them all at the end. interleave() runs the engines
// in one loop with a shuffled order per round, so drift on the machine hits all of them alike.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DOCKER_CLI = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p)) ?? 'docker';
export const DOCKERD = '/usr/sbin/dockerd';
export const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => existsSync(p));

/** A running peer: how to run its CLI, which network it uses, how to stop it. */
export interface Peer {
  name: 'dockerd' | 'podman' | 'runc';
  /** the network its `run` uses, printed beside the figures */
  network: string;
  /** argv of the peer's CLI for a docker-style subcommand (run, ps, load, rm ...) */
  cli(args: string[]): [string, string[]];
  /** `run --rm base <cmd>` (or its runc equivalent), awaited */
  runRm(cmd: string[]): Promise<void>;
  /** start one detached long-running container (sleep), returns a handle for removeAll */
  runDetached(cmd: string[]): Promise<void>;
  /** remove every container this peer made */
  removeAll(): Promise<void>;
  /** pids of the peer's own daemons (for RSS), if any */
  daemonPids(): number[];
  stop(): Promise<void>;
}
export interface PeerFailure {
  name: Peer['name'];
  error: string;
}
export type PeerResult = Peer | PeerFailure;
export const isPeer = (p: PeerResult): p is Peer => !('error' in p);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const errText = (e: unknown) => {
  const x = e as { stderr?: string; message?: string };
  return (x.stderr?.trim() || x.message || String(e)).split('\n').filter(Boolean).slice(-2).join(' / ');
};

/** SIGTERM, then SIGKILL after a grace period: by pid, ours only. */
async function stopPid(child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Unmount everything below dir (deepest first) so it can be removed. */
function unmountBelow(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/** Remove a cgroup parent a peer made (docker/, libpod_parent/) in every hierarchy, if empty. */
function removeCgroupParent(name: string): void {
  for (const h of ['', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'freezer', 'cpuset', 'devices', 'systemd', 'net_cls', 'perf_event', 'hugetlb', 'unified']) {
    const p = join('/sys/fs/cgroup', h, name);
    if (existsSync(p)) spawnSync('find', [p, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' });
  }
}

function makeBridge(name: string, cidr: string): void {
  spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  const steps = [
    ['link', 'add', name, 'type', 'bridge'],
    ['addr', 'add', cidr, 'dev', name],
    ['link', 'set', name, 'up'],
  ];
  for (const s of steps) {
    const r = spawnSync('ip', s, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${s.join(' ')}: ${r.stderr.trim()}`);
  }
}
const deleteBridge = (name: string) => spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });

/** Delete veths whose master is the bridge (a peer killed mid-run may leave some). */
function deleteBridgePorts(bridge: string): void {
  const r = spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' });
  for (const line of r.stdout?.split('\n') ?? []) {
    const name = line.split(': ')[1]?.split('@')[0];
    if (name) spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  }
}

// ---------------------------------------------------------------------------------------------
// dockerd

export async function startDockerd(opts: { bridge?: string; cidr?: string } = {}): Promise<PeerResult> {
  const name = 'dockerd' as const;
  if (!existsSync(DOCKERD)) return { name, error: `${DOCKERD} not installed` };
  const bridge = opts.bridge ?? 'gbpd0';
  const dir = mkdtempSync('/tmp/gbpeer-dockerd-');
  const sock = join(dir, 'docker.sock');
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    await stopPid(child);
    // the managed containerd is dockerd's child and goes with it; its shims are reaped by rm above
    unmountBelow(dir);
    deleteBridgePorts(bridge);
    deleteBridge(bridge);
    removeCgroupParent('docker');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // a /16 (the gateway 10.231.0.1): room for 500 containers, as Docker's own 172.17.0.0/16
    makeBridge(bridge, opts.cidr ?? '10.231.0.1/16');
    writeFileSync(join(dir, 'daemon.json'), '{}');
    child = spawn(
      DOCKERD,
      [
        `--host=unix://${sock}`,
        `--data-root=${join(dir, 'data')}`,
        `--exec-root=${join(dir, 'exec')}`,
        `--pidfile=${join(dir, 'docker.pid')}`,
        `--config-file=${join(dir, 'daemon.json')}`,
        `--bridge=${bridge}`,
        '--iptables=false',
        '--ip-masq=false',
        '--ip-forward=false',
        '--userland-proxy=false',
        '--exec-opt=native.cgroupdriver=cgroupfs',
        '--storage-driver=overlay2',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: false },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    const cli = (args: string[]): [string, string[]] => [DOCKER_CLI, ['-H', `unix://${sock}`, ...args]];
    const end = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode}: ${stderr.trim().split('\n').slice(-2).join(' / ')}`);
      const [c, a] = cli(['version', '--format', '{{.Server.Version}}']);
      const r = await run(c, a).catch(() => null);
      if (r) break;
      if (Date.now() > end) throw new Error(`dockerd did not answer in 30 s: ${stderr.trim().split('\n').pop()}`);
      await sleep(200);
    }
    const peer: Peer = {
      name,
      network: `default bridge ${bridge} (10.231.0.0/16, made here)`,
      cli,
      async runRm(cmd) {
        const [c, a] = cli(['run', '--rm', 'base', ...cmd]);
        await run(c, a);
      },
      async runDetached(cmd) {
        const [c, a] = cli(['run', '-d', '--label', 'gbpeer=1', 'base', ...cmd]);
        await run(c, a);
      },
      async removeAll() {
        const [c, a] = cli(['ps', '-aq']);
        const ids = (await run(c, a)).stdout.split('\n').filter(Boolean);
        for (let i = 0; i < ids.length; i += 50) {
          const [c2, a2] = cli(['rm', '-f', ...ids.slice(i, i + 50)]);
          await run(c2, a2, { maxBuffer: 1 << 24 }).catch(() => {});
        }
      },
      daemonPids: () => daemonTree(child!.pid!),
      async stop() {
        await peer.removeAll().catch(() => {});
        await cleanup();
      },
    };
    return peer;
  } catch (e) {
    await cleanup().catch(() => {});
    return { name, error: errText(e) };
  }
}

/** pid and every descendant of it (dockerd → containerd → shims) */
export function daemonTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of spawnSync('ls', ['/proc'], { encoding: 'utf8' }).stdout.split('\n')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(d));
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

// ---------------------------------------------------------------------------------------------
// podman

/** nofile/nproc this sandbox lets a container have: our own hard limits, never above */
function sandboxUlimits(): string[] {
  const hard = (flag: string) => spawnSync('sh', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).stdout.trim();
  const n = hard('n');
  const u = hard('u');
  const lim: string[] = [];
  if (/^\d+$/.test(n)) lim.push(`nofile=${n}:${n}`);
  // runc sets these with prlimit() on its init, whose hard nproc can sit below ours: stay well under
  if (/^\d+$/.test(u)) lim.push(`nproc=${Math.min(Number(u), 4096)}:${Math.min(Number(u), 4096)}`);
  return lim;
}

export async function startPodman(opts: { bridge?: string; subnet?: string } = {}): Promise<PeerResult> {
  const name = 'podman' as const;
  const bin = spawnSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) return { name, error: 'podman not installed (apt-get install -y podman)' };
  if (!RUNC) return { name, error: 'runc not installed' };
  const bridge = opts.bridge ?? 'gbpp0';
  const subnet = opts.subnet ?? '10.232.0';
  const dir = mkdtempSync('/tmp/gbpeer-podman-');
  const netDir = join(dir, 'cni');
  mkdirSync(netDir);
  mkdirSync(join(dir, 'tmp'));
  const netName = 'gbpeer';
  // A CNI bridge with no masquerade and no firewall/portmap plugin: podman touches no iptables.
  writeFileSync(
    join(netDir, `${netName}.conflist`),
    JSON.stringify({
      cniVersion: '0.4.0',
      name: netName,
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: `${subnet}.0/24`, gateway: `${subnet}.1` }]], dataDir: join(dir, 'cni-ipam') },
        },
      ],
    }),
  );
  const ulimits = sandboxUlimits();
  // podman's own defaults ask for more than this sandbox grants (no CAP_SYS_RESOURCE): say it per run
  const limitFlags = ulimits.flatMap((u) => ['--ulimit', u]);
  writeFileSync(
    join(dir, 'containers.conf'),
    [
      '[containers]',
      `default_ulimits = [${ulimits.map((u) => JSON.stringify(u)).join(', ')}]`,
      'log_driver = "k8s-file"',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `runtime = "runc"`,
      `tmp_dir = "${join(dir, 'tmp')}"`,
      `static_dir = "${join(dir, 'static')}"`,
      `volume_path = "${join(dir, 'volumes')}"`,
      '[engine.runtimes]',
      `runc = ["${RUNC}"]`,
      '[network]',
      'network_backend = "cni"',
      `network_config_dir = "${netDir}"`,
      `default_network = "${netName}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'storage.conf'), ['[storage]', 'driver = "overlay"', `graphroot = "${join(dir, 'root')}"`, `runroot = "${join(dir, 'runroot')}"`, ''].join('\n'));
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf') };
  writeFileSync(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--runtime', RUNC, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--network-config-dir', netDir];
  const cli = (args: string[]): [string, string[]] => [bin, [...base, ...args]];
  const pm = (args: string[]) => {
    const [c, a] = cli(args);
    return run(c, a, { env, maxBuffer: 1 << 24 });
  };
  const cleanup = async () => {
    await pm(['rm', '-af', '-t', '0']).catch(() => {});
    await pm(['system', 'reset', '-f']).catch(() => {});
    unmountBelow(dir);
    deleteBridgePorts(bridge);
    deleteBridge(bridge);
    removeCgroupParent('libpod_parent');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pm(['info', '--format', '{{.Host.OCIRuntime.Name}}']);
    const peer: Peer = {
      name,
      network: `CNI bridge ${bridge} (${subnet}.0/24, made here, no masquerade)`,
      cli,
      async runRm(cmd) {
        await pm(['run', '--rm', ...limitFlags, '--network', netName, 'base', ...cmd]);
      },
      async runDetached(cmd) {
        await pm(['run', '-d', ...limitFlags, '--network', netName, 'base', ...cmd]);
      },
      async removeAll() {
        await pm(['rm', '-af', '-t', '0']);
      },
      // podman has no daemon: conmon per container is its per-container cost (see monitorPids)
      daemonPids: () => [],
      async stop() {
        await cleanup();
      },
    };
    (peer as Peer & { env: NodeJS.ProcessEnv }).env = env;
    return peer;
  } catch (e) {
    await cleanup().catch(() => {});
    return { name, error: errText(e) };
  }
}

/** podman's CLI needs its private config in the environment */
export function peerEnv(p: Peer): NodeJS.ProcessEnv {
  return (p as Peer & { env?: NodeJS.ProcessEnv }).env ?? process.env;
}

// ---------------------------------------------------------------------------------------------
// raw runc

/** Unpack a docker-save archive's layers, in order, into rootfs (busybox-sized images only). */
function unpackSaved(tar: string, into: string, rootfs: string): void {
  mkdirSync(into, { recursive: true });
  let r = spawnSync('tar', ['-xf', tar, '-C', into]);
  if (r.status !== 0) throw new Error(`tar -xf ${tar}: ${r.stderr}`);
  const manifest = JSON.parse(readFileSync(join(into, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  mkdirSync(rootfs, { recursive: true });
  for (const layer of manifest[0].Layers) {
    r = spawnSync('tar', ['-xf', join(into, layer), '-C', rootfs]);
    if (r.status !== 0) throw new Error(`tar -xf ${layer}: ${r.stderr}`);
  }
}

export async function startRunc(savedTar: string): Promise<PeerResult> {
  const name = 'runc' as const;
  if (!RUNC) return { name, error: 'runc not installed' };
  const dir = mkdtempSync('/tmp/gbpeer-runc-');
  const state = join(dir, 'state');
  const bundle = join(dir, 'bundle');
  let seq = 0;
  const ids = new Set<string>();
  const cleanup = async () => {
    for (const id of ids) spawnSync(RUNC, ['--root', state, 'delete', '-f', id], { stdio: 'ignore' });
    unmountBelow(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    unpackSaved(savedTar, join(dir, 'image'), join(bundle, 'rootfs'));
    await run(RUNC, ['spec'], { cwd: bundle });
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.root.readonly = true; // one rootfs shared by every container of the run
    spec.linux.cgroupsPath = undefined;
    const write = (args: string[]) => {
      spec.process.args = args;
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    };
    let lastArgs = '';
    const ensure = (args: string[]) => {
      const k = JSON.stringify(args);
      if (k !== lastArgs) write(args);
      lastArgs = k;
    };
    const peer: Peer = {
      name,
      network: 'none (a new netns with lo only: runc wires no bridge)',
      cli: (args) => [RUNC, ['--root', state, ...args]],
      async runRm(cmd) {
        ensure(cmd);
        const id = `gbpeer-${process.pid}-${seq++}`;
        await run(RUNC, ['--root', state, 'run', '--bundle', bundle, id]);
      },
      async runDetached(cmd) {
        ensure(cmd);
        const id = `gbpeer-${process.pid}-${seq++}`;
        ids.add(id);
        // -d with terminal false: runc hands the container our stdio; give it /dev/null
        await new Promise<void>((resolve, reject) => {
          const c = spawn(RUNC, ['--root', state, 'run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
          c.once('error', reject);
          c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run -d exited ${code}`))));
        });
      },
      async removeAll() {
        for (const id of ids) await run(RUNC, ['--root', state, 'delete', '-f', id]).catch(() => {});
        ids.clear();
      },
      daemonPids: () => [],
      async stop() {
        await cleanup();
      },
    };
    return peer;
  } catch (e) {
    await cleanup().catch(() => {});
    return { name, error: errText(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// the shared image

/** `docker save base` from Glassbox's socket into a file under dir. */
export async function saveBase(glassboxSock: string, dir: string, image = 'base'): Promise<string> {
  const out = join(dir, `${image.replace(/[^a-z0-9]/gi, '_')}.tar`);
  await run(DOCKER_CLI, ['-H', `unix://${glassboxSock}`, 'save', '-o', out, image]);
  return out;
}

/** Load the saved archive into a daemon peer (runc unpacked it at start). */
export async function loadInto(p: Peer, tar: string): Promise<void> {
  if (p.name === 'runc') return;
  const [c, a] = p.cli(['load', '-i', tar]);
  await run(c, a, { env: peerEnv(p), maxBuffer: 1 << 24 });
}

/**
 * Start the peers asked for (all by default), load `base` into each. A peer that fails at any step
 * is stopped and returned as a failure with its own error.
 */
export async function startPeers(glassboxSock: string, want: Peer['name'][] = ['dockerd', 'podman', 'runc']): Promise<{ peers: PeerResult[]; stopAll: () => Promise<void> }> {
  const dir = mkdtempSync('/tmp/gbpeer-image-');
  const tar = await saveBase(glassboxSock, dir);
  const peers: PeerResult[] = [];
  for (const name of want) {
    let p = name === 'dockerd' ? await startDockerd() : name === 'podman' ? await startPodman() : await startRunc(tar);
    if (isPeer(p)) {
      try {
        await loadInto(p, tar);
      } catch (e) {
        await p.stop().catch(() => {});
        p = { name, error: `load base: ${errText(e)}` };
      }
    }
    console.log(isPeer(p) ? `peer ${p.name}: network ${p.network}` : `peer ${p.name}: n/a (${p.error})`);
    peers.push(p);
  }
  const stopAll = async () => {
    for (const p of peers) if (isPeer(p)) await p.stop().catch((e) => console.error(`stopping ${p.name}: ${errText(e)}`));
    rmSync(dir, { recursive: true, force: true });
  };
  return { peers, stopAll };
}

// ---------------------------------------------------------------------------------------------
// running and printing

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
export const median = (xs: number[]) => quantile(xs, 0.5);
export const p90 = (xs: number[]) => quantile(xs, 0.9);

/** A copy in random order (Fisher-Yates): each round runs the engines in a new order. */
export function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** samples in ms per engine, or the error that stopped that engine */
export type Samples = Record<string, number[] | string>;

/**
 * `rounds` rounds; in each, every engine runs once in a freshly shuffled order. An engine whose run
 * throws is dropped from later rounds and its error kept (printed as n/a).
 */
export async function interleave(rounds: number, engines: Record<string, () => Promise<unknown>>, warmup = 1): Promise<Samples> {
  const out: Samples = {};
  for (const k of Object.keys(engines)) out[k] = [];
  for (let r = 0; r < rounds + warmup; r++) {
    for (const k of shuffle(Object.keys(engines))) {
      if (typeof out[k] === 'string') continue;
      const t = performance.now();
      try {
        await engines[k]();
      } catch (e) {
        out[k] = errText(e);
        continue;
      }
      if (r >= warmup) (out[k] as number[]).push(performance.now() - t);
    }
  }
  return out;
}

interface Row {
  figure: string;
  cells: Record<string, string>;
}
const rows: Row[] = [];
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/**
 * One line for a figure: Glassbox median/p90, each peer's median/p90 and glassbox/peer ratio of
 * medians; `glassbox` is the key of Glassbox's samples. Returns the ratios by peer.
 */
export function figure(name: string, samples: Samples, glassbox = 'glassbox'): Record<string, number> {
  const gb = samples[glassbox];
  const gbMed = typeof gb === 'string' ? NaN : median(gb);
  const parts: string[] = [];
  const cells: Record<string, string> = {};
  const ratios: Record<string, number> = {};
  for (const [k, v] of Object.entries(samples)) {
    if (typeof v === 'string' || !v.length) {
      const why = typeof v === 'string' ? v : 'no samples';
      parts.push(`${k} n/a (${why})`);
      cells[k] = 'n/a';
      continue;
    }
    const m = median(v);
    const text = `${fmt(m)} (p90 ${fmt(p90(v))})`;
    if (k === glassbox) {
      parts.unshift(`${k} ${text}`);
      cells[k] = text;
    } else {
      const ratio = gbMed / m;
      ratios[k] = ratio;
      parts.push(`${k} ${text} → ${ratio.toFixed(2)}×`);
      cells[k] = `${text} ${ratio.toFixed(2)}×`;
    }
  }
  const n = Math.max(0, ...Object.values(samples).map((v) => (typeof v === 'string' ? 0 : v.length)));
  console.log(`${name} [n=${n}]: ${parts.join(' | ')}`);
  rows.push({ figure: name, cells });
  return ratios;
}

/** A figure measured once (not sampled): a plain value per engine, with unit. */
export function value(name: string, values: Record<string, number | string>, unit: string, glassbox = 'glassbox'): void {
  const cells: Record<string, string> = {};
  const gb = values[glassbox];
  const parts: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'string') {
      cells[k] = 'n/a';
      parts.push(`${k} n/a (${v})`);
    } else {
      const ratio = typeof gb === 'number' && k !== glassbox ? ` → ${(gb / v).toFixed(2)}×` : '';
      cells[k] = `${v.toFixed(1)} ${unit}${ratio}`;
      parts.push(`${k} ${v.toFixed(1)} ${unit}${ratio}`);
    }
  }
  console.log(`${name}: ${parts.join(' | ')}`);
  rows.push({ figure: name, cells });
}

/** The table of every figure printed so far (markdown), engines as columns. */
export function table(): string {
  const engines: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.cells)) if (!engines.includes(k)) engines.push(k);
  const lines = [`| figure | ${engines.join(' | ')} |`, `|---|${engines.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.figure} | ${engines.map((e) => r.cells[e] ?? '–').join(' | ')} |`);
  const text = lines.join('\n');
  console.log(`\n${text}`);
  return text;
}
