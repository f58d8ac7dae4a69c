// socket.io for the lab runner: a page watching its session asks
//   socket.emit('lab:subscribe', { sessionId }, ack)
// and gets `lab:state` events (the shape of GET /api/labs/:id/sessions/:sid) at once and at every
// change: the sessions evaluate the checks every 500 ms and right after engine events while someone
// watches, and push only what changed. 'lab:unsubscribe' (same payload) or a disconnect stops it.
// Authentication (token, Origin) is the server's middleware on `io`, as for the diagrams.
import type { LearnerEngine } from '../engine/index.js';
import type { LabSessions, LabSessionState } from '../labs/sessions.js';
import { SESSION_ID_RE } from '../labs/sessions.js';

interface SocketLike {
  on(event: string, cb: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
}
interface IoLike {
  on(event: 'connection', cb: (socket: SocketLike) => void): unknown;
}

/** A page watches one session; a few tabs' worth per socket is plenty. */
const MAX_SUBS = 4;

function sessionIdOf(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const sid = (payload as { sessionId?: unknown }).sessionId;
  return typeof sid === 'string' && SESSION_ID_RE.test(sid) ? sid : null;
}

/** @param ownerOf the socket's learner engine (their sessions only), undefined for the teacher */
export function registerLabChannel(io: IoLike, labs: LabSessions, ownerOf: (socket: SocketLike) => LearnerEngine | undefined): void {
  io.on('connection', (socket) => {
    const owner = ownerOf(socket);
    const subs = new Map<string, () => void>();
    socket.on('lab:subscribe', (payload: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      const sid = sessionIdOf(payload);
      if (!sid) return reply({ ok: false, error: 'expected { sessionId: 10 characters [a-z0-9] }' });
      if (subs.has(sid)) return reply({ ok: true });
      if (subs.size >= MAX_SUBS) return reply({ ok: false, error: 'too many lab subscriptions' });
      try {
        subs.set(
          sid,
          labs.subscribe(sid, (state: LabSessionState) => socket.emit('lab:state', state), owner),
        );
      } catch (e) {
        return reply({ ok: false, error: (e as Error).message });
      }
      reply({ ok: true });
    });
    socket.on('lab:unsubscribe', (payload: unknown) => {
      const sid = sessionIdOf(payload);
      if (!sid) return;
      subs.get(sid)?.();
      subs.delete(sid);
    });
    socket.on('disconnect', () => {
      for (const off of subs.values()) off();
      subs.clear();
    });
  });
}
