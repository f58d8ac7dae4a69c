// bench:idle — the server's own CPU with N running containers (default 200, `sleep`) and nothing
// happening: first with no viewer, then with a socket.io client subscribed as the dashboard is
// when it shows the list and one container's diagrams (the "containers" channel's list and stats,
// and the container's cgroups and namespaces diagrams). CPU is the server process's utime+stime
// from /proc/PID/stat over BENCH_IDLE_SECONDS (default 30), as a share of one core.
// The server is the production one (npm start's build: node dist/server/main.js) unless
// GLASSBOX_E2E_SERVER names another script.
//   flock /tmp/gb-test.lock npm run bench:idle        (BENCH_CONTAINERS=200 BENCH_IDLE_SECONDS=30)
// Last line: idle cpu no-viewer=X% viewer=Y% containers=N
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { io as ioClient, type Socket } from 'socket.io-client';
import { api, cleanupDirs, removeAll, repo, startServer, type RunningServer } from '../e2e/dashboard-support';
import { useTestPrefix } from '../prefix.js';
import { ensureServerBuilt, SERVER_ENTRY } from '../../scripts/server-build.mjs';
import { join } from 'node:path';

useTestPrefix();

const N = Number(process.env.BENCH_CONTAINERS ?? 200);
const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const CLK_TCK = 100;

/** utime + stime of a process, in seconds */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

async function measure(pid: number, seconds: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
}

function connect(srv: RunningServer, nsp: string): Promise<Socket> {
  const s = ioClient(srv.base + nsp, { transports: ['websocket'], extraHeaders: { origin: srv.base, authorization: `Bearer ${srv.token}` }, auth: { token: srv.token }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

export async function benchIdle(): Promise<string> {
  if (!process.env.GLASSBOX_E2E_SERVER) {
    if ((await ensureServerBuilt(repo)) !== 0) throw new Error('the server build failed');
    process.env.GLASSBOX_E2E_SERVER = join(repo, SERVER_ENTRY);
  }
  const srv = await startServer();
  const sockets: Socket[] = [];
  try {
    const ids: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const r = await api<{ id: string }>(srv, '/api/containers', { body: { image: 'base', cmd: ['sleep', '3600'] } });
      if (r.status >= 300) throw new Error(`create ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      ids.push(r.body.id);
    }
    console.log(`${N} containers running (${((performance.now() - t0) / 1000).toFixed(1)} s to start them); settling 5 s`);
    await new Promise((r) => setTimeout(r, 5000));
    const quiet = await measure(srv.pid, SECONDS);
    console.log(`no viewer: ${quiet.toFixed(2)}% of a core over ${SECONDS} s`);

    // the dashboard: the list (containers channel), then one container's diagrams (default
    // namespace): its cgroups chart and its namespaces view. Measured after each step, the last
    // one being the whole dashboard.
    const list = await connect(srv, '/containers');
    sockets.push(list);
    let ticks = 0;
    list.on('stats', (t: unknown[]) => (ticks += t.length));
    await new Promise((r) => setTimeout(r, 2000));
    const listOnly = await measure(srv.pid, SECONDS);
    console.log(`viewer, list only: ${listOnly.toFixed(2)}% of a core over ${SECONDS} s (${ticks} stats ticks received)`);
    const diagrams = await connect(srv, '/');
    sockets.push(diagrams);
    let pushes = 0;
    const steps: string[] = [];
    let watched = 0;
    for (const kind of ['cgroups', 'namespaces']) {
      diagrams.on(`diagram:${kind}`, () => pushes++);
      const ack = await new Promise<{ ok: boolean; error?: string }>((r) => diagrams.emit('diagram:subscribe', { kind, containerId: ids[0] }, r));
      if (!ack.ok) throw new Error(`diagram:subscribe ${kind}: ${ack.error}`);
      steps.push(kind);
      await new Promise((r) => setTimeout(r, 3000));
      pushes = 0;
      watched = await measure(srv.pid, SECONDS);
      console.log(`viewer, list + one container's ${steps.join(' and ')} diagram${steps.length > 1 ? 's' : ''}: ${watched.toFixed(2)}% of a core over ${SECONDS} s (${pushes} diagram pushes received)`);
    }
    const line = `idle cpu no-viewer=${quiet.toFixed(2)}% viewer=${watched.toFixed(2)}% containers=${N}`;
    console.log(line);
    return line;
  } finally {
    for (const s of sockets) s.close();
    await removeAll(srv).catch(() => {});
    await srv.stop();
    await cleanupDirs(srv);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchIdle().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
