// socket.io channel "terminal": browser terminals (xterm.js) <-> exec sessions in a container.
//
// One exec session per terminal tab: engine.exec(id, { cmd: shell, tty: true }). Output is batched
// for 2 ms, kept in a bounded ring buffer (replayed when a reloaded page re-attaches) and sent with
// watermark flow control: the browser acks what xterm has drawn, the server pauses the process
// above HIGH_WATERMARK unacked characters and resumes it below LOW_WATERMARK.
// A session outlives its socket for DETACH_GRACE_MS (a page reload), then it is closed; closing a
// session kills its process, and a session ends when its container ends. There is no host shell.
// A session may also be made by the REST request that makes and starts its container (`prepare`):
// its shell starts the moment the container runs. The page's terminal, mounted before the
// container exists, has asked for that session id already (`await`): the session is attached to
// it at once and the prompt flows to it live, with no round trip after the REST answer. A page
// that asks later attaches as a reloaded one does and gets the prompt in the replay.
//
// A session belongs to the principal that opened it (the teacher, or one learner): its id is looked
// up only among that principal's sessions, so another's id is "no such session" whatever it is,
// and its shell starts through that principal's engine (a learner's reaches only their containers).
// `watch(owner)` lets the classroom channel read an owner's output (follow, broadcast): it gets
// what the ring gets, and has no way to write to the session.
import { StringDecoder } from 'node:string_decoder';
import { principalKey, type Principal } from '../classroom/principal.js';
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import type { EngineApi, ExecProcess } from '../engine/index.js';
import { Batcher, FlowControl, RingBuffer } from './flow-control.js';

export const DETACH_GRACE_MS = 60_000;
export const REPLAY_BYTES = 256 * 1024;
/** engine.io drops messages over 1 MB: the client sends pastes in pieces below this */
const MAX_INPUT = 512 * 1024;
const KILL_GRACE_MS = 1_000;

const SHELL = ['/bin/sh'];
const SHELL_ENV = ['TERM=xterm-256color', 'PS1=\\h:\\w\\$ '];

/** a terminal session's id, as the page makes it (also checked by the REST create that prepares one) */
export const terminalSessionId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'bad session id');
const sessionId = terminalSessionId;
const openMsg = z.object({
  sessionId,
  containerId: z.string().min(1).max(128),
  cols: z.number().int().min(1).max(1000).default(80),
  rows: z.number().int().min(1).max(500).default(24),
});
const inputMsg = z.object({ sessionId, data: z.string().max(MAX_INPUT) });
const resizeMsg = z.object({ sessionId, cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(500) });
const ackMsg = z.object({ sessionId, chars: z.number().int().min(0) });
const awaitMsg = openMsg.omit({ containerId: true });
/** how long a page's `await` waits for the create request that prepares its session */
export const AWAIT_MS = 60_000;
/** `await`s one socket may have outstanding (each is a timer and a map entry) */
const MAX_AWAITS_PER_SOCKET = 8;
const idMsg = z.object({ sessionId });

type AckFn = (res: unknown) => void;

/** A page's terminal waiting for `prepare` of its session id. */
interface Waiter {
  socket: Socket;
  cols: number;
  rows: number;
  /** the session is made: attach it to this socket (the connection's own bookkeeping) */
  adopt: (s: Session) => void;
  reply: AckFn;
  timer: NodeJS.Timeout;
}

interface Session {
  id: string;
  /** principalKey of whoever opened it */
  owner: string;
  engine: EngineApi;
  containerId: string;
  proc: ExecProcess | null;
  /** resolves when the exec process is started (or failed) */
  ready: Promise<void>;
  socket: Socket | null;
  flow: FlowControl;
  ring: RingBuffer;
  batcher: Batcher;
  decoder: StringDecoder;
  expire: NodeJS.Timeout | null;
  closed: boolean;
  exitCode: number | null;
}

/** A session as a watcher sees it. */
export interface WatchedSession {
  sessionId: string;
  containerId: string;
}

/**
 * Someone reading one owner's terminals without taking part (the teacher's "follow", the
 * broadcast): gets the output of every session of that owner, never a way to write to them.
 */
export interface TerminalWatcher {
  /** a session exists: those already open when watching began (with their replay), then each new one ('') */
  open(s: WatchedSession, replay: string): void;
  data(s: WatchedSession, data: string): void;
  exit(s: WatchedSession, reason: string): void;
}

export interface TerminalChannel {
  /** number of live sessions (tests, /api/info) */
  count(): number;
  /** Watch every session of `owner` (a principalKey); returns the stop function. */
  watch(owner: string, w: TerminalWatcher): () => void;
  /** the replay ring of one session of `owner`, or null when there is no such session */
  replay(owner: string, sessionId: string): string | null;
  /**
   * An id already in use by `principal` (or a bad one): the message; null when `prepare` may use
   * it (asked before the container is made, so a refused terminal makes nothing).
   */
  refusePrepare(principal: Principal, sessionId: string): string | null;
  /**
   * Starts `principal`'s session `sessionId` in the running container now, detached (kept for
   * DETACH_GRACE_MS like a reloaded page's): the page's `open` of the same id attaches to it.
   * Returns at once; the shell starts after the caller's current task (its answer goes out first).
   */
  prepare(principal: Principal, t: { sessionId: string; containerId: string; cols: number; rows: number }): void;
  close(): Promise<void>;
}

/** Sessions are keyed by owner and id: two principals may pick the same id without meeting. */
const keyOf = (owner: string, id: string) => `${owner}\n${id}`;

/**
 * @param engine the whole engine: its events end the sessions of a container that ended
 * @param principalOf the principal the server's auth middleware gave the socket
 */
export function terminalChannel(io: Server, engine: EngineApi, principalOf: (socket: Socket) => Principal): TerminalChannel {
  const nsp: Namespace = io.of('/terminal');
  const sessions = new Map<string, Session>();
  /** pages' terminals awaiting their session, by keyOf(owner, id) */
  const waiters = new Map<string, Waiter>();
  const dropWaiter = (key: string, socket: Socket, reason: string | null) => {
    const w = waiters.get(key);
    if (!w || w.socket !== socket) return;
    waiters.delete(key);
    clearTimeout(w.timer);
    if (reason) w.reply({ ok: false, error: reason });
  };
  /** read-only watchers by owner (see TerminalWatcher) */
  const watchers = new Map<string, Set<TerminalWatcher>>();
  /** tells an owner's watchers; a watcher that throws is its own problem, never the terminal's */
  const tell = (s: Session, f: (w: TerminalWatcher, ws: WatchedSession) => void) => {
    const set = watchers.get(s.owner);
    if (!set?.size) return;
    const ws = { sessionId: s.id, containerId: s.containerId };
    for (const w of set) {
      try {
        f(w, ws);
      } catch (e) {
        console.error(`glassbox: terminal watcher: ${(e as Error).message}`);
      }
    }
  };

  const send = (s: Session, data: string) => {
    const action = s.flow.sent(data.length);
    s.socket?.emit('data', { sessionId: s.id, data });
    if (action === 'pause') s.proc?.pause();
  };

  const end = (s: Session, reason: string, code: number | null = null) => {
    if (s.closed) return;
    s.closed = true;
    s.batcher.drain();
    s.batcher.dispose();
    if (s.expire) clearTimeout(s.expire);
    sessions.delete(keyOf(s.owner, s.id));
    s.socket?.emit('exit', { sessionId: s.id, code, reason });
    tell(s, (w, ws) => w.exit(ws, reason));
    const proc = s.proc;
    if (proc && s.exitCode === null) {
      // closing the terminal hangs up the shell; whatever ignores SIGHUP is killed a second later
      try {
        proc.resume();
        proc.kill('SIGHUP');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        if (s.exitCode === null) {
          try {
            proc.kill('SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }, KILL_GRACE_MS);
      t.unref();
      proc.onExit(() => clearTimeout(t));
    }
  };

  const detach = (s: Session) => {
    s.socket = null;
    if (s.expire) clearTimeout(s.expire);
    s.expire = setTimeout(() => end(s, 'detached too long'), DETACH_GRACE_MS);
    s.expire.unref();
  };

  const attach = (s: Session, socket: Socket) => {
    if (s.socket && s.socket !== socket) s.socket.emit('exit', { sessionId: s.id, code: null, reason: 'attached elsewhere' });
    s.socket = socket;
    if (s.expire) clearTimeout(s.expire);
    s.expire = null;
  };

  const start = (s: Session, cols: number, rows: number) => {
    s.ready = (async () => {
      const proc = await s.engine.exec(s.containerId, { cmd: SHELL, tty: true, cols, rows, env: SHELL_ENV });
      s.proc = proc;
      proc.onData((buf) => {
        const text = s.decoder.write(buf);
        if (!text) return;
        s.ring.push(text);
        s.batcher.push(text);
        tell(s, (w, ws) => w.data(ws, text));
      });
      proc.onExit((code) => {
        s.exitCode = code;
        const rest = s.decoder.end();
        if (rest) {
          s.ring.push(rest);
          s.batcher.push(rest);
          tell(s, (w, ws) => w.data(ws, rest));
        }
        end(s, 'the shell exited', code);
      });
      if (s.closed) proc.kill('SIGKILL');
    })();
    return s.ready;
  };

  /** a session of `principal` in the container, not yet attached nor started */
  const newSession = (principal: Principal, id: string, containerId: string): Session => {
    const owner = principalKey(principal);
    const created: Session = {
      id,
      owner,
      engine: principal.engine,
      containerId,
      proc: null,
      ready: Promise.resolve(),
      socket: null,
      flow: new FlowControl(),
      ring: new RingBuffer(REPLAY_BYTES),
      batcher: null as unknown as Batcher,
      decoder: new StringDecoder('utf8'),
      expire: null,
      closed: false,
      exitCode: null,
    };
    created.batcher = new Batcher((data) => send(created, data), 2);
    sessions.set(keyOf(owner, id), created);
    tell(created, (w, ws) => w.open(ws, ''));
    return created;
  };

  const offEngine = engine.onEvent((e) => {
    if (e.type !== 'container' || (e.action !== 'die' && e.action !== 'destroy' && e.action !== 'stop')) return;
    for (const s of [...sessions.values()]) {
      if (s.containerId === e.id) end(s, 'the container ended');
    }
  });

  nsp.on('connection', (socket) => {
    const mine = new Set<string>();
    /** ids this socket awaits (see 'await') */
    const awaiting = new Set<string>();
    const principal = principalOf(socket);
    const owner = principalKey(principal);
    /** this principal's session by id; another's does not exist here */
    const sessionOf = (id: string) => sessions.get(keyOf(owner, id));

    socket.on('open', async (raw: unknown, ack?: AckFn) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const p = openMsg.safeParse(raw);
      if (!p.success) return reply({ ok: false, error: p.error.issues.map((i) => i.message).join('; ') });
      const { sessionId: id, cols, rows } = p.data;
      let containerId: string;
      try {
        const rec = principal.engine.get(p.data.containerId);
        if (rec.state.status !== 'running') return reply({ ok: false, error: `container ${rec.name} is ${rec.state.status}, not running` });
        containerId = rec.id;
      } catch (e) {
        return reply({ ok: false, error: (e as Error).message });
      }
      let s = sessionOf(id);
      if (s && s.containerId !== containerId) return reply({ ok: false, error: 'session belongs to another container' });
      if (!s) {
        dropWaiter(keyOf(owner, id), socket, 'opened instead');
        s = newSession(principal, id, containerId);
        attach(s, socket);
        mine.add(id);
        try {
          await start(s, cols, rows);
        } catch (e) {
          end(s, (e as Error).message);
          return reply({ ok: false, error: (e as Error).message });
        }
        return reply({ ok: true, sessionId: id, reattached: false, replay: '' });
      }
      await reattach(s, cols, rows, reply);
    });

    /** the page's own session, open already (a reload, or prepared before the page asked): attach and replay */
    const reattach = async (s: Session, cols: number, rows: number, reply: AckFn) => {
      const id = s.id;
      attach(s, socket);
      mine.add(id);
      try {
        await s.ready;
      } catch (e) {
        return reply({ ok: false, error: (e as Error).message });
      }
      if (s.closed) return reply({ ok: false, error: 'session closed' });
      // what the batcher still holds is part of the ring: drop it, the replay carries it
      s.batcher.dispose();
      const replay = s.ring.contents();
      const action = s.flow.reset(replay.length);
      if (action === 'pause') s.proc?.pause();
      if (action === 'resume') s.proc?.resume();
      s.proc?.resize(cols, rows);
      reply({ ok: true, sessionId: id, containerId: s.containerId, reattached: true, replay });
    };

    // a terminal shown before its container exists: attach to session `sessionId` once the create
    // request prepares it (at once when it did already); the answer comes when its shell runs
    socket.on('await', async (raw: unknown, ack?: AckFn) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const p = awaitMsg.safeParse(raw);
      if (!p.success) return reply({ ok: false, error: p.error.issues.map((i) => i.message).join('; ') });
      const { sessionId: id, cols, rows } = p.data;
      const s = sessionOf(id);
      if (s) return reattach(s, cols, rows, reply);
      const key = keyOf(owner, id);
      const other = waiters.get(key);
      if (other) dropWaiter(key, other.socket, 'awaited elsewhere');
      if ([...waiters.values()].filter((w) => w.socket === socket).length >= MAX_AWAITS_PER_SOCKET) return reply({ ok: false, error: `at most ${MAX_AWAITS_PER_SOCKET} terminals may await their container` });
      waiters.set(key, {
        socket,
        cols,
        rows,
        reply,
        adopt: (made) => {
          attach(made, socket);
          mine.add(id);
          awaiting.delete(id);
        },
        timer: setTimeout(() => dropWaiter(key, socket, 'no container was made for this terminal'), AWAIT_MS).unref(),
      });
      awaiting.add(id);
    });

    socket.on('input', (raw: unknown) => {
      const p = inputMsg.safeParse(raw);
      if (!p.success) return;
      const s = sessionOf(p.data.sessionId);
      if (s && s.socket === socket && s.proc) s.proc.write(p.data.data);
    });

    socket.on('resize', (raw: unknown) => {
      const p = resizeMsg.safeParse(raw);
      if (!p.success) return;
      const s = sessionOf(p.data.sessionId);
      if (s && s.socket === socket && s.proc) s.proc.resize(p.data.cols, p.data.rows);
    });

    socket.on('ack', (raw: unknown) => {
      const p = ackMsg.safeParse(raw);
      if (!p.success) return;
      const s = sessionOf(p.data.sessionId);
      if (!s || s.socket !== socket) return;
      if (s.flow.ack(p.data.chars) === 'resume') s.proc?.resume();
    });

    socket.on('detach', (raw: unknown) => {
      const p = idMsg.safeParse(raw);
      if (!p.success) return;
      dropWaiter(keyOf(owner, p.data.sessionId), socket, null);
      awaiting.delete(p.data.sessionId);
      const s = sessionOf(p.data.sessionId);
      if (s && s.socket === socket) detach(s);
    });

    socket.on('close', (raw: unknown) => {
      const p = idMsg.safeParse(raw);
      if (!p.success) return;
      dropWaiter(keyOf(owner, p.data.sessionId), socket, null);
      awaiting.delete(p.data.sessionId);
      const s = sessionOf(p.data.sessionId);
      if (s) end(s, 'closed');
      mine.delete(p.data.sessionId);
    });

    socket.on('disconnect', () => {
      for (const id of awaiting) dropWaiter(keyOf(owner, id), socket, null);
      awaiting.clear();
      for (const id of mine) {
        const s = sessionOf(id);
        if (s && s.socket === socket) detach(s);
      }
      mine.clear();
    });
  });

  const refusePrepare = (principal: Principal, id: string): string | null => {
    const p = sessionId.safeParse(id);
    if (!p.success) return p.error.issues.map((i) => i.message).join('; ');
    return sessions.has(keyOf(principalKey(principal), id)) ? `terminal session ${id} already exists` : null;
  };

  return {
    count: () => sessions.size,
    watch(owner, w) {
      let set = watchers.get(owner);
      if (!set) watchers.set(owner, (set = new Set()));
      set.add(w);
      for (const s of sessions.values()) if (s.owner === owner && !s.closed) w.open({ sessionId: s.id, containerId: s.containerId }, s.ring.contents());
      return () => {
        set.delete(w);
        if (!set.size && watchers.get(owner) === set) watchers.delete(owner);
      };
    },
    refusePrepare,
    prepare(principal, t) {
      const problem = refusePrepare(principal, t.sessionId);
      if (problem) throw new Error(problem);
      const key = keyOf(principalKey(principal), t.sessionId);
      const w = waiters.get(key);
      const s = newSession(principal, t.sessionId, t.containerId);
      if (w) {
        // the page's terminal is waiting: its own size, and the prompt goes straight to it
        waiters.delete(key);
        clearTimeout(w.timer);
        w.adopt(s);
      } else detach(s);
      // the shell's spawn blocks this process for a moment (a fork): the caller's answer goes first
      s.ready = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (s.closed) throw new Error('session closed');
        return start(s, w?.cols ?? t.cols, w?.rows ?? t.rows);
      });
      s.ready.then(
        () => w?.reply({ ok: true, sessionId: s.id, containerId: s.containerId, reattached: false, replay: '' }),
        (e: Error) => {
          end(s, e.message);
          w?.reply({ ok: false, error: e.message });
        },
      );
    },
    replay(owner, sessionId) {
      const s = sessions.get(keyOf(owner, sessionId));
      return s && !s.closed ? s.ring.contents() : null;
    },
    async close() {
      offEngine();
      const all = [...sessions.values()];
      for (const s of all) end(s, 'server shutting down');
      // give the processes their SIGHUP/SIGKILL before the engine closes
      await Promise.race([
        Promise.all(all.map((s) => new Promise<void>((r) => (s.proc && s.exitCode === null ? s.proc.onExit(() => r()) : r())))),
        new Promise((r) => setTimeout(r, KILL_GRACE_MS + 500)),
      ]);
    },
  };
}
