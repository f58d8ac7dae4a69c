// Shared by the dashboard e2e test and its benchmark: start server/main.ts on a free port with
// private state dirs, read its token, drive Chromium, clean up everything afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers.js';
import { useTestPrefix } from '../prefix.js';
export { freePort };
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureDashboardBuilt } from '../../scripts/dashboard-build.mjs';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** The dashboard's build, made again when a source is newer (the same rule as npm start). */
export function ensureBuilt(): void {
  // under `npm test` the build runs beside the kernel tests (scripts/test.mjs): wait for it
  const status = process.env.GLASSBOX_TEST_DASHBOARD_BUILD;
  if (status) {
    const deadline = Date.now() + 10 * 60_000;
    while (!existsSync(status) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    if (!existsSync(status)) throw new Error('the dashboard build started by scripts/test.mjs did not finish in 10 minutes');
    if (readFileSync(status, 'utf8').trim() !== '0') throw new Error('next build failed (its output is at the end of npm test)');
  }
  if (ensureDashboardBuilt(repo) !== 0) throw new Error('next build failed');
}

export interface RunningServer {
  proc: ChildProcess;
  pid: number;
  port: number;
  base: string;
  token: string;
  url: string;
  root: string;
  run: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * server/main.ts on a free port. With `reuse`, on the state dirs of an earlier server (a restart:
 * its containers and classroom.json are found again); otherwise on new ones.
 */
export async function startServer(reuse?: { root: string; run: string }): Promise<RunningServer> {
  ensureBuilt();
  useTestPrefix(); // the server gets its own bridge, chains and cgroups (and cleanupDirs the same names)
  const root = reuse?.root ?? mkdtempSync('/tmp/gb-e2e-root-');
  const run = reuse?.run ?? mkdtempSync('/tmp/gbw-'); // short: unix socket paths live under it
  const port = await freePort();
  const script = process.env.GLASSBOX_E2E_SERVER ?? join(repo, 'server', 'main.ts');
  // the compiled server (dist/, as npm start runs it) needs no TypeScript loader
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  // node's own flags for the server (a benchmark's --cpu-prof), which NODE_OPTIONS refuses
  const nodeArgs = (process.env.GLASSBOX_E2E_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, ...loader, script, '--port', String(port), '--host', '127.0.0.1'], {
    cwd: repo,
    env: { ...process.env, GLASSBOX_ROOT: root, GLASSBOX_RUN: run, GLASSBOX_DOCKER_SOCK: join(run, 'docker.sock'), PORT: String(port), NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 90 s:\n${out}`)), 90_000);
    const check = () => {
      const m = /(http:\/\/\S+\/\?token=[A-Za-z0-9_-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}):\n${out}`));
    });
  });
  const token = new URL(url).searchParams.get('token')!;
  const base = new URL(url).origin;
  return {
    proc,
    pid: proc.pid!,
    port,
    base,
    token,
    url,
    root,
    run,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        process.kill(proc.pid!, 'SIGTERM');
        const t = setTimeout(() => proc.exitCode === null && process.kill(proc.pid!, 'SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export async function api<T = unknown>(srv: Pick<RunningServer, 'base' | 'token'>, path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  const token = init?.token === undefined ? srv.token : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const method = init?.method ?? (init?.body !== undefined ? 'POST' : 'GET');
  // every write is JSON (the server refuses anything else)
  if (init?.body !== undefined || (method !== 'GET' && method !== 'HEAD')) headers['content-type'] = 'application/json';
  const res = await fetch(srv.base + path, { method, headers, body: init?.body !== undefined ? JSON.stringify(init.body) : undefined });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* html */
  }
  return { status: res.status, body: body as T };
}

export async function removeAll(srv: RunningServer): Promise<void> {
  // classes first: ending one removes its learners' containers, lab sessions and quota cgroups
  const classes = await api<{ id: string; endedAt: string | null }[]>(srv, '/api/classes').catch(() => null);
  if (classes && Array.isArray(classes.body)) for (const c of classes.body) if (!c.endedAt) await api(srv, `/api/classes/${c.id}/end`, { method: 'POST' }).catch(() => {});
  const l = await api<{ id: string }[]>(srv, '/api/containers?all=1').catch(() => null);
  if (!l || !Array.isArray(l.body)) return;
  for (const c of l.body) await api(srv, `/api/containers/${c.id}?force=1`, { method: 'DELETE' }).catch(() => {});
}

export async function browser(extraArgs: string[] = []): Promise<{ ctx: BrowserContext; page: Page; close(): Promise<void> }> {
  const dataDir = mkdtempSync('/tmp/gb-e2e-chromium-');
  const ctx = await chromium.launchPersistentContext(dataDir, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], viewport: { width: 1600, height: 1000 } });
  // tsx (esbuild keepNames) wraps named functions passed to page.evaluate in __name(...)
  await ctx.addInitScript('globalThis.__name = globalThis.__name || ((f) => f)');
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  // Chromium aborts a navigation with ERR_NETWORK_CHANGED when an interface comes or goes, and
  // this suite makes and removes veths all the time: such a navigation is tried once more.
  const goto = page.goto.bind(page);
  page.goto = async (url, opts) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await goto(url, opts);
      } catch (e) {
        if (attempt === 4 || !/ERR_NETWORK_CHANGED|interrupted by another navigation to "chrome-error/.test((e as Error).message)) throw e;
        // let Chromium finish drawing its error page first, or that navigation interrupts ours
        await page.waitForLoadState('load').catch(() => {});
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
  };
  return {
    ctx,
    page,
    async close() {
      await ctx.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The visible text of the active terminal (xterm's DOM renderer rows). */
export async function screenText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.querySelector('[data-session][data-active=true]');
    const rows = el?.querySelector('.xterm-rows') as HTMLElement | null;
    return [...(rows?.children ?? [])].map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n');
  });
}

/** Resolves when the last non-empty line of the active terminal ends in a prompt ("# " or "$ "). */
export async function waitForPrompt(page: Page, opts: { timeout?: number; after?: string } = {}): Promise<void> {
  await page.waitForFunction(
    (after) => {
      const el = document.querySelector('[data-session][data-active=true]');
      const rows = el?.querySelector('.xterm-rows') as HTMLElement | null;
      if (!rows) return false;
      const lines = [...rows.children].map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).filter((l) => l.length);
      if (!lines.length) return false;
      const text = lines.join('\n');
      if (after && !text.includes(after)) return false;
      return /[#$]$/.test(lines[lines.length - 1]) && !(after && lines[lines.length - 1].includes(after));
    },
    opts.after ?? null,
    { timeout: opts.timeout ?? 15_000, polling: 'raf' },
  );
}

/** The end of a dashboard test file: its containers, the browser, the server and its state, in that order. */
export async function stopAll(srv: RunningServer | undefined, b: { close(): Promise<void> } | undefined): Promise<void> {
  if (srv) await removeAll(srv).catch(() => {});
  if (b) await b.close();
  if (srv) {
    await srv.stop();
    await cleanupDirs(srv);
  }
}

export async function cleanupDirs(srv: RunningServer): Promise<void> {
  // The server leaves its bridge and iptables chains up for its containers (they outlive it);
  // the test is done with them: take them down so the host is as it was.
  // (the server ran with this process's GLASSBOX_PREFIX: the manager below uses the same names)
  const { NetworkManager } = await import('../../server/engine/network/index.js');
  await new NetworkManager({ root: srv.root, runRoot: srv.run }).teardown({ removeState: true }).catch(() => {});
  for (const d of [srv.root, srv.run]) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      /* a mount left behind would show here: the test reports it */
    }
  }
}

export function readCgroupMemoryLimit(cgroupDirs: Record<string, string>): { file: string; value: string } {
  const dirs = Object.values(cgroupDirs);
  const mem = cgroupDirs.memory ?? dirs.find((d) => d.includes('/memory/')) ?? dirs.find((d) => existsSync(join(d, 'memory.max')));
  if (!mem) throw new Error(`no memory cgroup in ${JSON.stringify(cgroupDirs)}`);
  for (const f of ['memory.limit_in_bytes', 'memory.max']) {
    const p = join(mem, f);
    if (existsSync(p)) return { file: p, value: readFileSync(p, 'utf8').trim() };
  }
  throw new Error(`no memory limit file in ${mem}`);
}


