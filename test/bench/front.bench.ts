// bench:front — what the classroom front (server/front/) adds to a request and to a socket.io
// connection: one real Glassbox node (server/main.ts, a test prefix) and the front before it, the
// same requests made straight to the node and through the front, one after the other.
// Last line: http p50 direct=X ms front=Y ms added=Z ms; p95 ...; socket connect p50 direct=… front=…
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { io as connectClient } from 'socket.io-client';
import { NetworkManager } from '../../server/engine/network/index.js';
import { runScript, stopScript, type ScriptProc } from '../cluster-support.js';
import { ensureBuilt, repo } from '../e2e/dashboard-support.js';
import { freePort } from '../helpers.js';
import { useTestPrefix } from '../prefix.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 100);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => x.toFixed(3);

async function timeRequests(base: string, token: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const r = await fetch(`${base}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`GET /api/whoami: ${r.status}`);
    out.push(performance.now() - t);
  }
  return out;
}

async function timeSockets(base: string, token: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SOCKETS; i++) {
    const t = performance.now();
    await new Promise<void>((resolve, reject) => {
      const s = connectClient(`${base}/containers`, { transports: ['websocket'], auth: { token }, query: { token }, extraHeaders: { origin: base }, reconnection: false, forceNew: true });
      s.once('list', () => {
        out.push(performance.now() - t);
        s.close();
        resolve();
      });
      s.once('connect_error', reject);
    });
  }
  return out;
}

export async function benchFront(): Promise<string> {
  useTestPrefix();
  ensureBuilt();
  const root = mkdtempSync('/tmp/gb-bench-front-root-');
  const run = mkdtempSync('/tmp/gbw-');
  const state = mkdtempSync('/tmp/gb-bench-front-state-');
  const token = randomBytes(24).toString('base64url');
  writeFileSync(join(run, 'teacher-token'), token, { mode: 0o600 });
  let node: ScriptProc | undefined;
  let front: ScriptProc | undefined;
  try {
    const nodePort = await freePort();
    node = await runScript('node', join(repo, 'server', 'main.ts'), ['--port', String(nodePort)], { GLASSBOX_ROOT: root, GLASSBOX_RUN: run, GLASSBOX_DOCKER_SOCK: join(run, 'docker.sock'), GLASSBOX_TOKEN_FILE: join(run, 'teacher-token') }, /dashboard ready at/, nodePort);
    const frontPort = await freePort();
    front = await runScript('front', join(repo, 'server', 'front', 'main.ts'), ['--nodes', node.base, '--port', String(frontPort), '--state', state], {}, /listening on/, frontPort);
    // warm both paths (JIT, keep-alive pools), then measure them in turn
    await timeRequests(node.base, token);
    await timeRequests(front.base, token);
    const direct = await timeRequests(node.base, token);
    const via = await timeRequests(front.base, token);
    const sDirect = await timeSockets(node.base, token);
    const sVia = await timeSockets(front.base, token);
    const line =
      `http GET /api/whoami x${REQUESTS}: p50 direct=${ms(pct(direct, 50))} ms front=${ms(pct(via, 50))} ms added=${ms(pct(via, 50) - pct(direct, 50))} ms; ` +
      `p95 direct=${ms(pct(direct, 95))} ms front=${ms(pct(via, 95))} ms added=${ms(pct(via, 95) - pct(direct, 95))} ms; ` +
      `socket.io connect→first list x${SOCKETS}: p50 direct=${ms(pct(sDirect, 50))} ms front=${ms(pct(sVia, 50))} ms`;
    console.log(line);
    return line;
  } finally {
    await stopScript(front);
    await stopScript(node);
    await new NetworkManager({ root, runRoot: run }).teardown({ removeState: true }).catch(() => {});
    for (const d of [root, run, state]) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchFront().then(
    () => process.exit(0),
    (e: Error) => {
      console.error(e);
      process.exit(1);
    },
  );
}
