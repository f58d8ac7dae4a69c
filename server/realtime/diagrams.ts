// socket.io channels for the diagrams. A client asks for a diagram with
//   socket.emit('diagram:subscribe', { kind, containerId? })
// and gets `diagram:<kind>` events carrying { containerId, snapshot } — the first at once, then
// every change (the hub throttles to ~3 a second and skips unchanged snapshots), and
// `diagram:<kind>:checked` { containerId, time } about once a second while a re-read finds nothing
// changed (so the page's "updated" age is the data's, not that of the last change). It stops with
// 'diagram:unsubscribe' (same payload) or by disconnecting. Authentication (token, Origin) is the
// server's middleware on `io`, as for every other channel.
import type { DiagramHub } from '../engine/index.js';
import { DIAGRAM_KINDS, type DiagramKind } from '../engine/index.js';

interface SocketLike {
  id: string;
  on(event: string, cb: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
}
interface IoLike {
  on(event: 'connection', cb: (socket: SocketLike) => void): unknown;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function parse(payload: unknown): { kind: DiagramKind; containerId?: string } | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as { kind?: unknown; containerId?: unknown };
  if (typeof p.kind !== 'string' || !DIAGRAM_KINDS.includes(p.kind as DiagramKind)) return null;
  if (p.containerId !== undefined && p.containerId !== null && (typeof p.containerId !== 'string' || !ID_RE.test(p.containerId))) return null;
  return { kind: p.kind as DiagramKind, ...(typeof p.containerId === 'string' && p.containerId ? { containerId: p.containerId } : {}) };
}

/** Per socket at most this many diagram subscriptions (five diagrams, a few containers). */
const MAX_SUBS = 16;

/** @param hubOf the hub the socket's principal sees (a learner's is cut to their containers) */
export function registerDiagramChannels(io: IoLike, hubOf: (socket: SocketLike) => DiagramHub): void {
  io.on('connection', (socket) => {
    const hub = hubOf(socket);
    const subs = new Map<string, () => void>();
    socket.on('diagram:subscribe', (payload: unknown, ack?: unknown) => {
      const req = parse(payload);
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      if (!req) return reply({ ok: false, error: 'expected { kind: namespaces|layers|network|cgroups|mounts, containerId? }' });
      // a learner's hub knows what is theirs: another's container is "no such", as over REST
      if (req.containerId && 'owns' in hub && typeof hub.owns === 'function' && !hub.owns(req.containerId)) return reply({ ok: false, error: `No such container: ${req.containerId}` });
      const key = `${req.kind}:${req.containerId ?? ''}`;
      if (subs.has(key)) return reply({ ok: true });
      if (subs.size >= MAX_SUBS) return reply({ ok: false, error: 'too many diagram subscriptions' });
      subs.set(
        key,
        hub.subscribe(
          req.kind,
          (snapshot) => socket.emit(`diagram:${req.kind}`, { containerId: req.containerId ?? null, snapshot }),
          req.containerId,
          (time) => socket.emit(`diagram:${req.kind}:checked`, { containerId: req.containerId ?? null, time }),
        ),
      );
      reply({ ok: true });
    });
    socket.on('diagram:unsubscribe', (payload: unknown) => {
      const req = parse(payload);
      if (!req) return;
      const key = `${req.kind}:${req.containerId ?? ''}`;
      subs.get(key)?.();
      subs.delete(key);
    });
    socket.on('disconnect', () => {
      for (const off of subs.values()) off();
      subs.clear();
    });
  });
}
