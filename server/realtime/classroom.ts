// socket.io channel "classroom": the teacher's live roster, "follow" and "broadcast", and what a
// learner's page must be told (idle warning, sandbox removed, being followed, the broadcast).
//
// Rooms, so that a socket.io adapter spanning several nodes (Redis) carries the class-wide
// messages without this file knowing:
//   teachers            every teacher socket
//   class:<classId>     every learner socket of the class (the broadcast goes here)
//   learner:<lid>       every socket of one learner (idle warning, sandbox removed, followed)
//   roster:<classId>    the teacher sockets watching that class's roster
//
// Teacher → server (each with an ack: {ok:true, …} or {ok:false, error}):
//   roster:subscribe {classId}      → ack {ok, classId, learners}; then `roster {classId, learners}` on
//                                     every change (throttled) and every ROSTER_EVERY_MS
//   roster:unsubscribe {classId}
//   follow:start {learnerId}        → ack {ok, learnerId, sessions:[{sessionId, containerId}]}; then
//                                     `follow:data {learnerId, sessionId, containerId, data, replay}`
//                                     (each session's replay ring first, replay:true) and
//                                     `follow:exit {learnerId, sessionId, containerId, reason}`
//   follow:stop {learnerId}
//   broadcast:start {classId, containerId}  → ack {ok, broadcast}
//   broadcast:state {classId, tab, selection, sessionId?}   the teacher's page: tab, selection, the
//                                     terminal tab shown (whose output goes out)
//   broadcast:stop {classId}
// Server → learner:
//   idle-warning {secondsLeft}      (secondsLeft -1: the warning is over, the learner did something)
//   sandbox-removed {reason}        reason: reset | revoked | idle | class-ended
//   followed {active}
//   broadcast {active, classId, containerId, containerName, tab, selection}
//   broadcast:data {classId, sessionId, data, reset}   reset: a new screen (clear, then data)
// Learner → server: broadcast:sync (asks for the current broadcast again, e.g. after reopening)
//
// Follow is read-only by construction: it reads the terminal channel's watch() hook, which has no
// way to write. A learner's socket that emits a teacher's event is answered {ok:false, error:'not
// allowed'} and nothing happens.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import type { Classroom } from '../classroom/classroom.js';
import type { Principal } from '../classroom/principal.js';
import { buildRoster, type RosterEntry } from '../classroom/roster.js';
import type { TerminalChannel, WatchedSession } from './terminal.js';

/** the roster is sent again this often while someone watches it (activity, online, containers) */
export const ROSTER_EVERY_MS = 2_000;
/** at most one roster per class this often, however many changes */
export const ROSTER_THROTTLE_MS = 250;
/** follow and broadcast output is collected this long, then sent in one message */
const RELAY_BATCH_MS = 40;
/**
 * at most this much of one batch is sent: a flood (`yes`) reaches the watchers as its tail, at
 * most 400 KB/s each (a screen is a few KB), however fast the shell writes
 */
const RELAY_MAX_CHARS = 16 * 1024;
/** a learner asks for the broadcast's screen again at most this often (it is up to 256 KB) */
const SYNC_EVERY_MS = 1_000;

const classId = z.string().regex(/^[a-f0-9]{12}$/, 'classId: 12 hex characters');
const learnerId = z.string().regex(/^[a-z0-9]{10}$/, 'learnerId: 10 characters [a-z0-9]');
const classMsg = z.object({ classId }).strict();
const followMsg = z.object({ learnerId }).strict();
const broadcastStartMsg = z.object({ classId, containerId: z.string().min(1).max(128) }).strict();
const broadcastStateMsg = z
  .object({
    classId,
    tab: z.string().regex(/^[a-z-]{1,32}$/, 'tab: a diagram tab name'),
    selection: z.string().max(200).nullable(),
    sessionId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'bad session id').nullable().optional(),
  })
  .strict();

type Ack = (res: unknown) => void;
const NOT_ALLOWED = { ok: false, error: 'not allowed' } as const;
/** the owner key a learner's terminal sessions are kept under (principal.ts principalKey) */
const learnerOwner = (lid: string) => `learner:${lid}`;
const problem = (e: z.ZodError) => ({ ok: false, error: e.issues.map((i) => i.message).join('; ') });

export interface BroadcastState {
  active: boolean;
  classId: string;
  containerId: string;
  containerName: string;
  tab: string;
  selection: string | null;
}

interface Broadcast extends BroadcastState {
  /** the teacher socket that started it (its disconnect stops it) */
  by: string;
  /** the teacher's terminal tab whose output goes out; null: the session that last wrote */
  sessionId: string | null;
  /** the session last sent, so a change of session sends a fresh screen */
  sent: string | null;
  stopWatch: () => void;
  relay: Relay;
}

/** Collects output for RELAY_BATCH_MS and hands it on in one piece, keeping at most the tail. */
class Relay {
  private buf = '';
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly flush: (data: string) => void) {}
  push(s: string): void {
    this.buf += s;
    if (this.buf.length > RELAY_MAX_CHARS) this.buf = this.buf.slice(-RELAY_MAX_CHARS);
    this.timer ??= setTimeout(() => this.drain(), RELAY_BATCH_MS);
  }
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const b = this.buf;
    this.buf = '';
    if (b) this.flush(b);
  }
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buf = '';
  }
}

export interface ClassroomChannelOptions {
  io: Server;
  classroom: Classroom;
  terminals: TerminalChannel;
  principalOf: (socket: Socket) => Principal;
  /** how many sockets a learner has open now (the roster's "online") */
  online: (learnerId: string) => number;
}

export function classroomChannel({ io, classroom, terminals, principalOf, online }: ClassroomChannelOptions): { close(): void } {
  const nsp: Namespace = io.of('/classroom');

  // ------------------------------------------------------------------ roster
  const rosterRoom = (id: string) => `roster:${id}`;
  // Each node sends the roster of *its* learners, tagged with the node: the teacher's page merges
  // the nodes' parts (a class spans the nodes of a cluster, each learner on one of them).
  const node = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const rosterState = new Map<string, { building: boolean; again: boolean; last: number; timer: NodeJS.Timeout | null }>();
  const build = (id: string): Promise<RosterEntry[]> => buildRoster(classroom, id, online);
  const sendRoster = (id: string) => {
    let st = rosterState.get(id);
    if (!st) rosterState.set(id, (st = { building: false, again: false, last: 0, timer: null }));
    if (st.building) {
      st.again = true;
      return;
    }
    const wait = st.last + ROSTER_THROTTLE_MS - Date.now();
    if (wait > 0) {
      st.timer ??= setTimeout(() => {
        st.timer = null;
        sendRoster(id);
      }, wait);
      return;
    }
    st.building = true;
    st.last = Date.now();
    build(id)
      .then((learners) => nsp.to(rosterRoom(id)).emit('roster', { classId: id, node, learners }))
      .catch((e: Error) => console.error(`glassbox: roster of ${id}: ${e.message}`))
      .finally(() => {
        st.building = false;
        if (st.again) {
          st.again = false;
          sendRoster(id);
        }
      });
  };
  const watchedClasses = () => [...nsp.adapter.rooms.keys()].filter((r) => r.startsWith('roster:')).map((r) => r.slice(7));
  /** another node's teacher watches a class: send this node's part (the emit crosses the adapter) */
  const onRosterWanted = (id: unknown) => {
    if (typeof id !== 'string') return;
    try {
      classroom.store.getClass(id);
    } catch {
      return; // a class this node does not have
    }
    sendRoster(id);
  };
  nsp.on('roster:want', onRosterWanted);
  const rosterTick = setInterval(() => {
    const watched = watchedClasses();
    for (const id of watched) sendRoster(id);
    if (!watched.length) return;
    // the other nodes' learners of the watched classes (the in-memory adapter has no other nodes)
    void Promise.resolve(nsp.adapter.serverCount())
      .then((n) => {
        if (n > 1) for (const id of watched) nsp.serverSideEmit('roster:want', id);
      })
      .catch(() => {});
  }, ROSTER_EVERY_MS);
  rosterTick.unref();

  // ------------------------------------------------------------------ follow
  /** learner id → the teacher sockets following them, with their stop functions */
  const follows = new Map<string, Map<string, () => void>>();
  const setFollowed = (lid: string) => nsp.to(`learner:${lid}`).emit('followed', { active: (follows.get(lid)?.size ?? 0) > 0 });
  const stopFollow = (lid: string, socketId: string) => {
    const m = follows.get(lid);
    const stop = m?.get(socketId);
    if (!m || !stop) return false;
    stop();
    m.delete(socketId);
    if (!m.size) follows.delete(lid);
    setFollowed(lid);
    return true;
  };
  const startFollow = (socket: Socket, lid: string): WatchedSession[] => {
    stopFollow(lid, socket.id);
    const relays = new Map<string, Relay>();
    const relayOf = (s: WatchedSession) => {
      let r = relays.get(s.sessionId);
      if (!r) relays.set(s.sessionId, (r = new Relay((data) => socket.emit('follow:data', { learnerId: lid, ...s, data, replay: false }))));
      return r;
    };
    const sessions: WatchedSession[] = [];
    const stopWatch = terminals.watch(learnerOwner(lid), {
      open: (s, replay) => {
        sessions.push(s);
        socket.emit('follow:data', { learnerId: lid, ...s, data: replay, replay: true });
      },
      data: (s, data) => relayOf(s).push(data),
      exit: (s, reason) => {
        relays.get(s.sessionId)?.drain();
        relays.delete(s.sessionId);
        socket.emit('follow:exit', { learnerId: lid, ...s, reason });
      },
    });
    let m = follows.get(lid);
    if (!m) follows.set(lid, (m = new Map()));
    m.set(socket.id, () => {
      stopWatch();
      for (const r of relays.values()) r.dispose();
    });
    setFollowed(lid);
    return sessions;
  };

  // ------------------------------------------------------------------ broadcast
  const broadcasts = new Map<string, Broadcast>();
  const publicState = (b: Broadcast): BroadcastState => ({ active: b.active, classId: b.classId, containerId: b.containerId, containerName: b.containerName, tab: b.tab, selection: b.selection });
  const inactive = (id: string): BroadcastState => ({ active: false, classId: id, containerId: '', containerName: '', tab: '', selection: null });
  /** sends the current screen of the broadcast session (the replay ring) to a room or a socket id */
  const sendScreen = (b: Broadcast, to: string) => {
    const sid = b.sessionId ?? b.sent;
    const replay = sid ? terminals.replay('teacher', sid) : null;
    if (sid && replay !== null) nsp.to(to).emit('broadcast:data', { classId: b.classId, sessionId: sid, data: replay, reset: true });
  };
  const stopBroadcast = (id: string) => {
    const b = broadcasts.get(id);
    if (!b) return false;
    b.stopWatch();
    b.relay.dispose();
    broadcasts.delete(id);
    nsp.to(`class:${id}`).emit('broadcast', inactive(id));
    nsp.to('teachers').emit('broadcast', inactive(id));
    return true;
  };
  const startBroadcast = (socket: Socket, id: string, containerId: string, containerName: string): Broadcast => {
    stopBroadcast(id);
    const room = `class:${id}`;
    const b: Broadcast = {
      active: true,
      classId: id,
      containerId,
      containerName,
      tab: 'namespaces',
      selection: null,
      by: socket.id,
      sessionId: null,
      sent: null,
      stopWatch: () => {},
      relay: new Relay((data) => b.sent && nsp.to(room).emit('broadcast:data', { classId: id, sessionId: b.sent, data, reset: false })),
    };
    b.stopWatch = terminals.watch('teacher', {
      // the teacher's terminals of that container open now: the last one is shown until another writes
      open: (s) => {
        if (s.containerId === b.containerId && !b.sessionId) b.sent = s.sessionId;
      },
      exit: () => {},
      data: (s, data) => {
        if (s.containerId !== b.containerId) return;
        if (b.sessionId && s.sessionId !== b.sessionId) return;
        if (b.sent !== s.sessionId) {
          // another terminal tab of the teacher's: the learners get its whole screen
          b.relay.dispose();
          b.sent = s.sessionId;
          sendScreen(b, room);
          return;
        }
        b.relay.push(data);
      },
    });
    broadcasts.set(id, b);
    nsp.to(room).emit('broadcast', publicState(b));
    sendScreen(b, room);
    nsp.to('teachers').emit('broadcast', publicState(b));
    return b;
  };
  // a learner on another node asks; the node holding the broadcast answers (to the socket's own room)
  const answerSync = (m: { classId?: unknown; socketId?: unknown }) => {
    if (typeof m?.classId !== 'string' || typeof m.socketId !== 'string') return;
    const b = broadcasts.get(m.classId);
    if (!b) return;
    nsp.to(m.socketId).emit('broadcast', publicState(b));
    sendScreen(b, m.socketId);
  };
  nsp.on('broadcast:sync', answerSync);
  const syncLearner = (socket: Socket, id: string) => {
    const b = broadcasts.get(id);
    if (b) answerSync({ classId: id, socketId: socket.id });
    // other nodes, when there are others (the in-memory adapter has none and would warn)
    void Promise.resolve(nsp.adapter.serverCount())
      .then((n) => {
        if (n > 1) nsp.serverSideEmit('broadcast:sync', { classId: id, socketId: socket.id });
      })
      .catch(() => {});
  };

  // ------------------------------------------------------------------ the classroom's events
  const onChanged = (id: string) => sendRoster(id);
  const onIdle = (lid: string, secondsLeft: number) => nsp.to(`learner:${lid}`).emit('idle-warning', { secondsLeft });
  const onRemoved = (lid: string, reason: string) => nsp.to(`learner:${lid}`).emit('sandbox-removed', { reason });
  const onRevoked = (lid: string) => {
    // told before the server closes the learner's sockets (this listener runs first)
    nsp.to(`learner:${lid}`).emit('sandbox-removed', { reason: 'revoked' });
    for (const sid of [...(follows.get(lid)?.keys() ?? [])]) {
      stopFollow(lid, sid);
      nsp.to(sid).emit('follow:end', { learnerId: lid, reason: 'revoked' });
    }
  };
  classroom.on('changed', onChanged);
  classroom.on('idle-warning', onIdle);
  classroom.on('sandbox-removed', onRemoved);
  classroom.prependListener('revoked', onRevoked);

  // ------------------------------------------------------------------ sockets
  nsp.on('connection', (socket) => {
    const principal = principalOf(socket);
    const teacher = principal.role === 'teacher';
    /** a teacher's event: validated, refused to a learner with 'not allowed' */
    const teacherOn = <T>(event: string, schema: z.ZodType<T>, handler: (msg: T, reply: Ack) => void | Promise<void>) => {
      socket.on(event, async (raw: unknown, ack?: unknown) => {
        const reply: Ack = typeof ack === 'function' ? (ack as Ack) : () => {};
        if (!teacher) return reply(NOT_ALLOWED);
        const p = schema.safeParse(raw);
        if (!p.success) return reply(problem(p.error));
        try {
          await handler(p.data, reply);
        } catch (e) {
          reply({ ok: false, error: (e as Error).message });
        }
      });
    };

    if (principal.role === 'learner') {
      const lid = principal.learner.id;
      void socket.join([`class:${principal.classId}`, `learner:${lid}`]);
      socket.emit('followed', { active: (follows.get(lid)?.size ?? 0) > 0 });
      syncLearner(socket, principal.classId);
      let lastSync = 0;
      socket.on('broadcast:sync', (_raw: unknown, ack?: unknown) => {
        const reply: Ack = typeof ack === 'function' ? (ack as Ack) : () => {};
        if (Date.now() - lastSync < SYNC_EVERY_MS) return reply({ ok: false, error: 'asked less than a second ago' });
        lastSync = Date.now();
        syncLearner(socket, principal.classId);
        reply({ ok: true });
      });
    } else {
      void socket.join('teachers');
      for (const b of broadcasts.values()) socket.emit('broadcast', publicState(b));
    }

    teacherOn('roster:subscribe', classMsg, async ({ classId: id }, reply) => {
      classroom.store.getClass(id); // a class that does not exist is "no such class"
      await socket.join(rosterRoom(id));
      reply({ ok: true, classId: id, node, learners: await build(id) });
      onRosterWanted(id);
      void Promise.resolve(nsp.adapter.serverCount())
        .then((n) => {
          if (n > 1) nsp.serverSideEmit('roster:want', id);
        })
        .catch(() => {});
    });
    teacherOn('roster:unsubscribe', classMsg, async ({ classId: id }, reply) => {
      await socket.leave(rosterRoom(id));
      reply({ ok: true });
    });

    teacherOn('follow:start', followMsg, ({ learnerId: lid }, reply) => {
      if (!classroom.store.isActive(lid)) return reply({ ok: false, error: `no active learner ${lid}` });
      const sessions = startFollow(socket, lid);
      reply({ ok: true, learnerId: lid, sessions });
    });
    teacherOn('follow:stop', followMsg, ({ learnerId: lid }, reply) => {
      reply({ ok: stopFollow(lid, socket.id) });
    });

    teacherOn('broadcast:start', broadcastStartMsg, ({ classId: id, containerId }, reply) => {
      const cls = classroom.store.getClass(id);
      if (cls.endedAt) return reply({ ok: false, error: `class ${cls.name} has ended` });
      const rec = principal.engine.get(containerId);
      const b = startBroadcast(socket, id, rec.id, rec.name);
      reply({ ok: true, broadcast: publicState(b) });
    });
    teacherOn('broadcast:state', broadcastStateMsg, ({ classId: id, tab, selection, sessionId }, reply) => {
      const b = broadcasts.get(id);
      if (!b) return reply({ ok: false, error: 'no broadcast to this class' });
      b.tab = tab;
      b.selection = selection;
      if (sessionId !== undefined && sessionId !== b.sessionId) {
        b.sessionId = sessionId;
        // a terminal tab other than the one on the learners' screens: they get its screen
        if (sessionId && sessionId !== b.sent && terminals.replay('teacher', sessionId) !== null) {
          b.relay.dispose();
          b.sent = sessionId;
          sendScreen(b, `class:${id}`);
        }
      }
      nsp.to(`class:${id}`).emit('broadcast', publicState(b));
      reply({ ok: true });
    });
    teacherOn('broadcast:stop', classMsg, ({ classId: id }, reply) => {
      reply({ ok: stopBroadcast(id) });
    });

    socket.on('disconnect', () => {
      if (!teacher) return;
      for (const lid of [...follows.keys()]) stopFollow(lid, socket.id);
      for (const b of [...broadcasts.values()]) if (b.by === socket.id) stopBroadcast(b.classId);
    });
  });

  return {
    close() {
      clearInterval(rosterTick);
      for (const st of rosterState.values()) if (st.timer) clearTimeout(st.timer);
      for (const [lid, m] of [...follows]) for (const sid of [...m.keys()]) stopFollow(lid, sid);
      for (const id of [...broadcasts.keys()]) stopBroadcast(id);
      classroom.off('changed', onChanged);
      classroom.off('idle-warning', onIdle);
      classroom.off('sandbox-removed', onRemoved);
      classroom.off('revoked', onRevoked);
      nsp.off('broadcast:sync', answerSync);
      nsp.off('roster:want', onRosterWanted);
    },
  };
}
