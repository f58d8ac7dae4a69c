// bench:inspect — what one /proc namespace scan costs with N "containers" (default 200), each a
// real pid+mount+uts+ipc+net namespace made with unshare(1), its processes in a real
// pids:/glassbox/<id> cgroup, and a record pointing at its init, as the engine would hand over.
// Reports CPU time per scan (user+system of this process) and the share of one core at one scan a
// second; the budget is 10%.
// Last line: scan=X ms cpu=Y ms/scan core=Z% processes=P containers=N
import { spawn, type ChildProcess } from 'node:child_process';
import { childOf } from '../helpers.js';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { NamespaceScanner } from '../../server/engine/inspect/namespaces.js';
import { readKernelNetwork } from '../../server/engine/inspect/network.js';
import type { ContainerRecord } from '../../server/engine/types.js';

const N = Number(process.env.BENCH_CONTAINERS ?? 200);
const SCANS = Number(process.env.BENCH_SCANS ?? 20);
const CG = '/sys/fs/cgroup/pids/glassbox';

function fakeRecord(id: string, pid: number, monitorPid: number): ContainerRecord {
  return {
    id,
    name: `bench-${id.slice(0, 6)}`,
    created: new Date().toISOString(),
    config: { image: 'bench' },
    image: { ref: 'bench', id: 'sha256:bench' },
    path: 'sleep',
    args: ['600'],
    limits: { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] },
    state: { status: 'running', pid, pidStartTime: null, monitorPid, monitorStartTime: null, exitCode: 0, signal: null, oomKilled: false, error: '', startedAt: null, finishedAt: null, restartCount: 0 },
    timeline: [],
    paths: { bundle: '', rootfs: '', upper: '', work: '', lowers: [], log: '', cgroups: { pids: `${CG}/${id}` } },
    network: { mode: 'none' },
  };
}

export async function benchInspect(): Promise<string> {
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  const records: ContainerRecord[] = [];
  try {
    mkdirSync(CG, { recursive: true });
    for (let i = 0; i < N; i++) {
      const id = (`be${process.pid.toString(16)}${i.toString(16).padStart(4, '0')}`.padEnd(64, '0')).slice(0, 64).replace(/[^0-9a-f]/g, 'b');
      const cp = spawn('unshare', ['--fork', '--pid', '--mount-proc', '--uts', '--ipc', '--net', 'sleep', '600'], { stdio: 'ignore' });
      procs.push(cp);
      const init = await childOf(cp.pid!, 200);
      const dir = `${CG}/${id}`;
      mkdirSync(dir);
      dirs.push(dir);
      writeFileSync(`${dir}/cgroup.procs`, String(init));
      records.push(fakeRecord(id, init, cp.pid!));
    }
    const scanner = new NamespaceScanner();
    await scanner.scan({ containers: records }); // warm the cmdline cache, as a running hub would be
    const wall: number[] = [];
    const cpu0 = process.cpuUsage();
    let last = await scanner.scan({ containers: records });
    for (let i = 0; i < SCANS; i++) {
      const t = performance.now();
      last = await scanner.scan({ containers: records });
      wall.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuPerScan = (cpu.user + cpu.system) / 1000 / (SCANS + 1);
    // the network inspector's per-second kernel read (one /proc/net/dev read + one `ip -json` call)
    const n0 = process.cpuUsage();
    const tn = performance.now();
    for (let i = 0; i < 5; i++) await readKernelNetwork();
    const netWall = (performance.now() - tn) / 5;
    const nc = process.cpuUsage(n0);
    const netCpu = (nc.user + nc.system) / 1000 / 5;
    const matched = last.processes.filter((p) => p.containerId).length;
    const sorted = [...wall].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const pct = (cpuPerScan / 1000) * 100;
    console.log(`containers=${N} processes listed=${last.processes.length} in containers=${matched} pid namespaces=${last.types.pid.length}`);
    console.log(`namespace scan: median ${median.toFixed(1)} ms wall, ${cpuPerScan.toFixed(1)} ms CPU per scan → ${pct.toFixed(1)}% of one core at 1 scan/s`);
    console.log(`network kernel read: ${netWall.toFixed(1)} ms wall, ${netCpu.toFixed(1)} ms CPU in this process (ip(1) runs as a child)`);
    if (last.types.pid.length < N + 1) throw new Error(`expected ${N + 1} pid namespaces, saw ${last.types.pid.length}`);
    const line = `scan=${median.toFixed(1)} ms cpu=${cpuPerScan.toFixed(1)} ms/scan core=${pct.toFixed(1)}% processes=${last.processes.length} containers=${N}`;
    console.log(line);
    if (pct >= 10) throw new Error(`namespace scan costs ${pct.toFixed(1)}% of a core (budget 10%)`);
    return line;
  } finally {
    for (const cp of procs) {
      try {
        if (cp.pid) process.kill(cp.pid, 'SIGKILL'); // unshare --fork: its child (the ns init) dies with the namespace
      } catch {
        /* gone */
      }
    }
    // inits are killed when the unshare parent dies? no: kill each pid namespace's init explicitly
    for (const r of records) {
      try {
        process.kill(r.state.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const d of dirs) {
      for (let i = 0; i < 100; i++) {
        try {
          rmdirSync(d);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
    try {
      if (existsSync(CG)) rmdirSync(CG);
    } catch {
      /* other glassbox cgroups live there */
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchInspect().then(
    () => {},
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
