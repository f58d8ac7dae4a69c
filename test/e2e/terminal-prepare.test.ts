// The dashboard's one-request create: POST /api/containers with `terminal` makes and starts the
// container and starts its shell; a page's terminal that awaited the session id gets the prompt
// live, one that asks later gets it in the replay. Bad terminal requests make nothing. Against the
// real server (server/main.ts) and real containers; no browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { api, cleanupDirs, removeAll, startServer, type RunningServer } from './dashboard-support';
import { requireHost } from '../helpers.js';

requireHost('terminal prepared by the create request', { root: true, commands: ['ip'] });

let srv: RunningServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  srv = await startServer();
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  if (srv) {
    await removeAll(srv).catch(() => {});
    await srv.stop();
    await cleanupDirs(srv);
  }
}, 60_000);

const terminalSocket = (): Promise<Socket> => {
  const s = ioClient(`${srv.base}/terminal`, { transports: ['websocket'], extraHeaders: { origin: srv.base }, query: { token: srv.token }, auth: { token: srv.token }, reconnection: false, forceNew: true });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
};

let n = 0;
const sessionId = () => `gbdsprep${Date.now().toString(36)}${n++}`;
type Reply = { ok: boolean; error?: string; replay?: string; containerId?: string };
// (ash asks the terminal for the cursor position, ESC [6n, right after its prompt)
const PROMPT = /:\/# /;

/** the output of `id` on socket `s` until `until` matches it */
const output = (s: Socket, id: string, until: RegExp, timeout = 20_000): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`no ${until} in ${JSON.stringify(text)}`)), timeout);
    s.on('data', (m: { sessionId: string; data: string }) => {
      if (m.sessionId !== id) return;
      text += m.data;
      if (until.test(text)) {
        clearTimeout(t);
        resolve(text);
      }
    });
  });

const containerCount = async () => (await api<unknown[]>(srv, '/api/containers?all=1')).body.length;

describe('POST /api/containers with a terminal', () => {
  it('a terminal that awaited its session gets the prompt live, without a replay', async () => {
    const s = await terminalSocket();
    const id = sessionId();
    const prompt = output(s, id, PROMPT);
    const replyP = new Promise<Reply>((r) => s.emit('await', { sessionId: id, cols: 100, rows: 30 }, r));
    // (the await is registered before the create request: same order as the page, whose xterm is up first)
    await new Promise((r) => setTimeout(r, 100));
    const made = await api<{ id: string; state: { status: string } }>(srv, '/api/containers', { body: { image: 'base', tty: true, openStdin: true, terminal: { sessionId: id, cols: 80, rows: 24 } } });
    expect(made.status).toBe(201);
    expect(made.body.state.status).toBe('running');
    const reply = await replyP;
    expect(reply).toMatchObject({ ok: true, containerId: made.body.id, replay: '' });
    await prompt;
    // the shell is the awaiting page's: input reaches it, at the size the page asked for
    const out = output(s, id, /30 100/);
    s.emit('input', { sessionId: id, data: 'stty size\r' });
    await out;
  });

  it('a terminal that asks after the create request attaches and gets the prompt in the replay', async () => {
    const id = sessionId();
    const made = await api<{ id: string }>(srv, '/api/containers', { body: { image: 'base', tty: true, openStdin: true, terminal: { sessionId: id, cols: 80, rows: 24 } } });
    expect(made.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1500)); // the shell has printed its prompt, to nobody
    const s = await terminalSocket();
    const reply = await new Promise<Reply>((r) => s.emit('open', { sessionId: id, containerId: made.body.id, cols: 80, rows: 24 }, r));
    expect(reply.ok).toBe(true);
    expect(reply.replay).toMatch(PROMPT);
  });

  it('refuses a bad terminal request before making anything', async () => {
    const s = await terminalSocket();
    const taken = sessionId();
    const opened = await api<{ id: string }>(srv, '/api/containers', { body: { image: 'base', tty: true, openStdin: true, terminal: { sessionId: taken, cols: 80, rows: 24 } } });
    expect(opened.status).toBe(201);
    const before = await containerCount();
    const bad: [unknown, number, RegExp][] = [
      [{ sessionId: 'short', cols: 80, rows: 24 }, 400, /bad session id/],
      [{ sessionId: taken, cols: 80, rows: 24 }, 409, /already exists/],
      [{ sessionId: sessionId(), cols: 0, rows: 24 }, 400, /terminal\.cols/],
      [{ sessionId: sessionId(), cols: 80, rows: 24, shell: '/bin/bash' }, 400, /terminal/],
    ];
    for (const [terminal, status, message] of bad) {
      const r = await api<{ error: string }>(srv, '/api/containers', { body: { image: 'base', tty: true, terminal } });
      expect(r.status, JSON.stringify(terminal)).toBe(status);
      expect(r.body.error).toMatch(message);
    }
    const noStart = await api<{ error: string }>(srv, '/api/containers', { body: { image: 'base', start: false, terminal: { sessionId: sessionId(), cols: 80, rows: 24 } } });
    expect(noStart.status).toBe(400);
    expect(noStart.body.error).toMatch(/needs the container started/);
    expect(await containerCount()).toBe(before);
    // an await never answered by a create ends when the page leaves (detach): nothing is left waiting
    const id = sessionId();
    const replyP = new Promise<Reply>((r) => s.emit('await', { sessionId: id, cols: 80, rows: 24 }, r));
    s.emit('close', { sessionId: id });
    const late = await api(srv, '/api/containers', { body: { image: 'base', tty: true, openStdin: true, terminal: { sessionId: id, cols: 80, rows: 24 } } });
    expect(late.status).toBe(201);
    const r = await Promise.race([replyP, new Promise((res) => setTimeout(() => res('no answer'), 1000))]);
    expect(r).toBe('no answer');
  });

  it('a start that fails names the container it left, as docker run leaves it', async () => {
    const name = `gbds-nostart-${Date.now().toString(36)}`;
    const r = await api<{ error: string; container?: { id: string; name: string; status: string } }>(srv, '/api/containers', {
      body: { image: 'base', name, cmd: ['/no/such/binary'], terminal: { sessionId: sessionId(), cols: 80, rows: 24 } },
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body.container?.name).toBe(name);
    const rec = (await api<{ id: string; state: { status: string } }>(srv, `/api/containers/${name}`)).body;
    expect(r.body.container).toEqual({ id: rec.id, name, status: rec.state.status });
    expect(['created', 'exited']).toContain(rec.state.status);
    // with --rm it is gone, and the answer says so
    const gone = await api<{ container?: { status: string } }>(srv, '/api/containers', { body: { image: 'base', cmd: ['/no/such/binary'], autoRemove: true } });
    expect(gone.body.container?.status).toBe('removed');
  });
});
