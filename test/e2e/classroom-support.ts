// Shared by the classroom tests and bench:classroom: a class made by the teacher, learners who join
// it through POST /api/join, and a learner's sockets as their browser opens them (the page cookie
// from the join, Origin = the server, the learner's token in the handshake's auth), with a
// terminal that types one key at a time and times its echo.
import { io as ioClient, type Socket } from 'socket.io-client';
import { api, type RunningServer } from './dashboard-support';

export const MiB = 1024 * 1024;

export interface ClassQuota {
  memory: number;
  cpus: number;
  pids: number;
  containers: number;
  disk: number;
  idleMinutes: number;
}

export const DEFAULT_QUOTA: ClassQuota = { memory: 512 * MiB, cpus: 1, pids: 512, containers: 3, disk: 512 * MiB, idleMinutes: 60 };

export interface ClassInfo {
  id: string;
  code: string;
  endsAt: string;
  joinPath: string;
}

export async function createClass(srv: RunningServer, opts: { name?: string; seats?: number; quota?: Partial<ClassQuota>; endsInMs?: number; portBase?: number } = {}): Promise<ClassInfo> {
  const r = await api<ClassInfo & { error?: string }>(srv, '/api/classes', {
    body: {
      name: opts.name ?? 'class',
      seats: opts.seats ?? 4,
      quota: { ...DEFAULT_QUOTA, ...opts.quota },
      endsAt: new Date(Date.now() + (opts.endsInMs ?? 3600_000)).toISOString(),
      ...(opts.portBase ? { portBase: opts.portBase } : {}),
    },
  });
  if (r.status !== 201) throw new Error(`POST /api/classes: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface Learner {
  id: string;
  token: string;
  /** the learner's page cookie (name=value), as the browser keeps it */
  cookie: string;
}

export async function joinClass(srv: RunningServer, code: string, name: string): Promise<Learner> {
  const res = await fetch(`${srv.base}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json', origin: srv.base }, body: JSON.stringify({ code, name }) });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /api/join: ${res.status} ${text}`);
  const body = JSON.parse(text) as { token: string; learner: { id: string } };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  if (!cookie) throw new Error('POST /api/join set no page cookie');
  return { id: body.learner.id, token: body.token, cookie };
}

/** A learner's container, made and started through POST /api/containers. Returns its id. */
export async function createContainer(srv: Pick<RunningServer, 'base' | 'token'>, token: string, body: Record<string, unknown>): Promise<string> {
  const r = await api<{ id: string; error?: string }>(srv, '/api/containers', { token, body: { image: 'base:latest', cmd: ['sleep', '86400'], ...body } });
  if (r.status !== 201 && r.status !== 200) throw new Error(`POST /api/containers: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

/** A socket of namespace nsp as the learner's page opens it (or the teacher's, with no cookie). */
/**
 * A connected socket. `before` gets it before it connects: a listener for what the server sends on
 * connection (the container list) must be on by then, since the connect packet and the first
 * event can arrive in one read and be handled in one go.
 */
export function connect(srv: Pick<RunningServer, 'base'>, nsp: '/containers' | '/terminal', who: { token: string; cookie?: string }, before?: (s: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { origin: srv.base };
    // the page cookie lets the WebSocket upgrade through; the namespaces want the token itself
    if (who.cookie) headers.cookie = who.cookie;
    else headers.authorization = `Bearer ${who.token}`;
    const s = ioClient(srv.base + nsp, { transports: ['websocket'], extraHeaders: headers, auth: { token: who.token }, reconnection: false, timeout: 10_000, forceNew: true });
    before?.(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => {
      s.close();
      reject(new Error(`${nsp}: ${e.message}`));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sessionCounter = 0;
/** the end of a shell prompt, with the cursor query busybox sends after it */
const PROMPT = /[#$] (\x1b\[6n)?$/;

/**
 * A terminal tab: one exec session (/bin/sh) in a container over the /terminal namespace. It acks
 * what it receives (as xterm's write callback does), keeps the text, and times a key's echo.
 */
export class Terminal {
  readonly sessionId = `bench${process.pid}x${(sessionCounter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  text = '';
  /** characters dropped from the front of text (it keeps the last 64 KiB) */
  private dropped = 0;
  exited: { code: number | null; reason: string } | null = null;
  private waiters: { test: (text: string, chunk: string) => boolean; resolve: () => void }[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (m: { sessionId: string; data: string }) => {
      if (m.sessionId !== this.sessionId) return;
      const all = this.text + m.data;
      const cut = Math.max(0, all.length - 64 * 1024);
      this.dropped += cut;
      this.text = all.slice(cut);
      socket.emit('ack', { sessionId: this.sessionId, chars: m.data.length });
      // busybox's line editor asks where the cursor is after each prompt: xterm answers it
      if (m.data.includes('\x1b[6n')) this.input('\x1b[1;1R');
      for (const w of [...this.waiters]) {
        if (w.test(this.text, m.data)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    socket.on('exit', (m: { sessionId: string; code: number | null; reason: string }) => {
      if (m.sessionId === this.sessionId) this.exited = { code: m.code, reason: m.reason };
    });
  }

  async open(containerId: string, opts: { cols?: number; rows?: number } = {}): Promise<void> {
    const r = (await this.socket.timeout(20_000).emitWithAck('open', { sessionId: this.sessionId, containerId, cols: opts.cols ?? 120, rows: opts.rows ?? 30 })) as { ok: boolean; error?: string };
    if (!r.ok) throw new Error(`terminal open: ${r.error}`);
    await this.waitFor((t) => PROMPT.test(t), 15_000, 'the shell prompt');
  }

  /** Resolves when test(text so far, last chunk) holds, or fails after ms. */
  waitFor(test: (text: string, chunk: string) => boolean, ms = 10_000, what = 'terminal output'): Promise<void> {
    if (test(this.text, '')) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { test, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no ${what} in ${ms} ms; the terminal shows: ${JSON.stringify(this.text.slice(-300))}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  input(data: string): void {
    this.socket.emit('input', { sessionId: this.sessionId, data });
  }

  /** Runs a command line and waits for the shell's next prompt after `marker` is printed. */
  async run(line: string, ms = 15_000): Promise<string> {
    const mark = `m${Math.random().toString(36).slice(2, 10)}`;
    const from = this.dropped + this.text.length;
    this.input(`${line}; echo ${mark}-$((6*7))\r`);
    await this.waitFor((t) => t.includes(`${mark}-42`) && PROMPT.test(t), ms, `the end of ${JSON.stringify(line)}`);
    return this.text.slice(Math.max(0, from - this.dropped));
  }

  /**
   * One key at the prompt: the time (ms) from sending it to its echo arriving. The shell's line
   * editor echoes it (a process in the container, so a busy container would show here).
   */
  async key(ch: string, timeoutMs = 10_000): Promise<number> {
    const t0 = performance.now();
    const seen = this.waitFor((_t, chunk) => chunk.includes(ch), timeoutMs, `echo of ${JSON.stringify(ch)}`);
    this.input(ch);
    await seen;
    return performance.now() - t0;
  }

  /** Erases the last character typed (Backspace) and waits for the line editor to do it. */
  async erase(timeoutMs = 10_000): Promise<void> {
    const seen = this.waitFor((_t, chunk) => chunk.includes('\b'), timeoutMs, 'the echo of a backspace');
    this.input('\x7f');
    await seen;
  }

  async close(): Promise<void> {
    if (this.socket.connected) this.socket.emit('close', { sessionId: this.sessionId });
    await sleep(20);
  }
}

/**
 * Types `count` keys at the prompt with `pauseMs` (± a third, at random, as a typist's) between
 * them and returns each key's echo time. Each key is erased again (not timed), so the command
 * line stays empty and the echo is the character alone, never a redraw of the line.
 */
export async function typeKeys(term: Terminal, count: number, pauseMs: number, opts: { until?: () => boolean; record?: (sentAt: number, ms: number) => void } = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count && !(opts.until?.() ?? false); i++) {
    const at = performance.now();
    const ms = await term.key(String.fromCharCode(97 + (i % 26)));
    opts.record?.(at, ms);
    out.push(ms);
    await term.erase();
    await sleep(pauseMs * (2 / 3 + Math.random() * (2 / 3)));
  }
  return out;
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : NaN;
}
