// The real docker CLI against a Glassbox Docker API socket, for the e2e tests: running it, one
// request on the socket, a fresh engine and API per test file and their cleanup.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDockerApi } from '../../server/api/docker/server.js';
import { Engine } from '../../server/engine/engine.js';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';

const run = promisify(execFile);
export const DOCKER = '/usr/local/bin/docker';

export interface DockerResult {
  code: number;
  out: string;
  err: string;
}

/**
 * `docker` resolves with the exit code and output; `ok` throws unless the command succeeded.
 * Always async: the API server runs in the test's own process, a sync spawn would deadlock it.
 */
export function dockerClient(socket: () => string, opts: { timeoutMs?: number; maxBuffer?: number } = {}) {
  async function docker(...args: string[]): Promise<DockerResult> {
    try {
      const r = await run(DOCKER, ['-H', `unix://${socket()}`, ...args], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: opts.maxBuffer ?? 16 << 20 });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (e) {
      const x = e as { code: number | string; stdout: string; stderr: string };
      return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? String(e) };
    }
  }
  async function ok(...args: string[]): Promise<string> {
    const r = await docker(...args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} → ${r.code}: ${r.err}${r.out}`);
    return r.out;
  }
  return { docker, ok };
}

/** One request on a Docker API unix socket; the answer's body as JSON where it is JSON. */
export function socketRequest(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; json: unknown; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {
          /* plain text */
        }
        resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A fresh engine on its own root and the Docker API on a socket beside it, for one test file. */
export interface DockerTestEnv {
  /** the mkdtemp directory holding root/, r/ (the run root) and d.sock */
  base: string;
  engine: Engine;
  sock: string;
  api: Awaited<ReturnType<typeof startDockerApi>>;
}

/**
 * Open one: `prefix` names the temporary directory (/tmp/<prefix>XXXXXX, 0711 so that a
 * user-namespaced container's root, a host uid of its range, walks to its rootfs).
 */
export async function openDockerEnv(prefix: string, opts: { network?: boolean } = {}): Promise<DockerTestEnv> {
  const base = mkdtempSync(`/tmp/${prefix}`);
  chmodSync(base, 0o711);
  const engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r'), network: opts.network ?? false });
  const sock = join(base, 'd.sock');
  const api = await startDockerApi(engine, { socketPath: sock });
  return { base, engine, sock, api };
}

/**
 * Remove what the tests made (containers, volumes, user networks, every image but the built-in
 * base), close the API and the engine (its bridge and chains torn down), delete the directory.
 * Returns what was left for the caller to assert empty: containers that would not go, and mounts
 * under the directory.
 */
export async function closeDockerEnv(env: DockerTestEnv | undefined): Promise<{ containers: number; mounts: string[] }> {
  if (!env) return { containers: 0, mounts: [] };
  const { engine } = env;
  for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
  for (const v of engine.listVolumes()) engine.removeVolume(v.name, { force: true });
  for (const n of engine.listNetworks()) if (!n.builtin) await engine.removeNetwork(n.id).catch(() => {});
  for (const i of engine.listImages()) if (!i.repoTags.includes('base:latest')) engine.removeImage(i.id, { force: true });
  const containers = engine.list({ all: true }).length;
  await env.api.close();
  await engine.close();
  await engine.network?.teardown({ removeState: true });
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(env.base));
  rmSync(env.base, { recursive: true, force: true });
  return { containers, mounts };
}

/** docker under a pty (`script -e` keeps the exit code), feeding each input after a delay. */
export function dockerTty(sock: string, args: string[], input: string[], timeoutMs = 30_000): Promise<{ code: number; out: string }> {
  const cmd = [DOCKER, '-H', `unix://${sock}`, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const p = spawn('script', ['-eqfc', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    let i = 0;
    const feed = () => {
      if (i >= input.length) return;
      p.stdin.write(input[i++]);
      setTimeout(feed, 700);
    };
    setTimeout(feed, 1500);
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

const names = hostNames(prefixFromEnv());

/** This test prefix's links on the host: its bridge, user-network bridges and veths. */
export const gbLinks = (): string[] => readdirSync('/sys/class/net').filter((n) => n === names.bridge || n.startsWith(`${names.prefix}r-`) || names.vethRe.test(n));

/** For requireHost's check: links of this prefix left by a crashed run make the results unreliable. */
export function noLeftoverLinks(): string | null {
  const links = gbLinks();
  return links.length ? `links of prefix ${names.prefix} already exist (an earlier run crashed?): ${links.join(', ')}` : null;
}
