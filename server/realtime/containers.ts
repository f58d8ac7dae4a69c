// socket.io channel "containers": the live container list and stats ticks.
//
// On connect the client gets a snapshot ("list"); every engine container event sends a fresh one
// (coalesced to at most one per 100 ms). While anyone is connected, stats of running containers
// are read once a second and sent as "stats" (CPU as a fraction of one CPU over the last tick).
// "logs:follow" streams a container's log to the asking socket until "logs:stop" or disconnect
// (at most LOG_FOLLOW_LINES_PER_SECOND lines a second: a follower held back that falls far behind
// skips ahead, LOG_FOLLOW_MAX_LAG — one learner's `yes` must not take the server from the others).
//
// Each socket is served as its principal: the teacher sees every container, a learner only their
// own. Sockets of one principal share a room (its key) and one engine listener; the list, the
// events and the stats a room gets come from that principal's engine.
import type { Namespace, Server, Socket } from 'socket.io';
import { principalKey, type Principal } from '../classroom/principal.js';
import { z } from 'zod';
import type { EngineApi } from '../engine/index.js';
import type { ContainerRecord } from '../engine/index.js';
import { isActive } from '../engine/index.js';

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  status: ContainerRecord['state']['status'];
  created: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number;
  oomKilled: boolean;
  command: string;
  limits: ContainerRecord['limits'];
  ipAddress?: string;
  network: string;
}

export interface StatsTick {
  id: string;
  time: number;
  memory: number;
  memoryLimit: number | null;
  /** CPU use in CPUs (1 = one full CPU) since the previous tick */
  cpu: number;
  pids: number;
  pidsLimit: number | null;
  frozen: boolean;
}

export function summarize(r: ContainerRecord): ContainerSummary {
  return {
    id: r.id,
    name: r.name,
    image: r.image.ref,
    status: r.state.status,
    created: r.created,
    startedAt: r.state.startedAt,
    finishedAt: r.state.finishedAt,
    exitCode: r.state.exitCode,
    oomKilled: r.state.oomKilled,
    command: [r.path, ...r.args].join(' '),
    limits: r.limits,
    ipAddress: r.network?.ipAddress,
    network: r.network?.mode ?? '',
  };
}

export const STATS_INTERVAL_MS = 1_000;
/**
 * A log follower further behind than this skips ahead (and is told so): a `yes` writes more than a
 * page can show, and reading and sending all of it would keep the server busy for everyone else.
 * At 10 reads a second, at most ~640 KB/s of log per follower.
 */
/** more than a page can show anyway (the tail sent first counts too) */
export const LOG_FOLLOW_LINES_PER_SECOND = 1000;
export const LOG_FOLLOW_MAX_LAG = 64 * 1024;

/**
 * What a tick shows of one container: its memory, CPU time and pids from the engine's cheap usage
 * read (three files kept open) when it has one, the limits from the record (the engine keeps them
 * true through update). The full stats() opens about twenty cgroup files: with hundreds running,
 * once a second each, it was most of the server's idle CPU.
 */
async function listFigures(engine: EngineApi, r: ContainerRecord): Promise<{ time: number; memory: { current: number; limit: number | null }; cpu: { usageNs: number }; pids: { current: number; limit: number | null }; frozen: boolean }> {
  if (engine.usage) {
    const u = engine.usage(r.id);
    if (!u) throw new Error('not running');
    return { time: u.time, memory: { current: u.memory, limit: r.limits.memory ?? null }, cpu: { usageNs: u.cpuUsageNs }, pids: { current: u.pids, limit: r.limits.pids ?? null }, frozen: r.state.status === 'paused' };
  }
  return engine.stats(r.id);
}

interface Room {
  engine: EngineApi;
  sockets: number;
  off: () => void;
  pending: NodeJS.Timeout | null;
}

/**
 * @param engine the whole engine (stats are read once for everyone, then each room gets its share)
 * @param principalOf the principal the server's auth middleware gave the socket
 */
export function containersChannel(io: Server, engine: EngineApi, principalOf: (socket: Socket) => Principal): { close(): void } {
  const nsp: Namespace = io.of('/containers');
  const rooms = new Map<string, Room>();
  const snapshot = (room: Room) => room.engine.list({ all: true }).map(summarize);

  const broadcast = (key: string, room: Room) => {
    if (room.pending) return;
    room.pending = setTimeout(() => {
      room.pending = null;
      if (rooms.get(key) === room) nsp.to(key).emit('list', snapshot(room));
    }, 100);
  };
  const join = (key: string, principal: Principal): Room => {
    let room = rooms.get(key);
    if (!room) {
      const r: Room = { engine: principal.engine, sockets: 0, off: () => {}, pending: null };
      // the principal's own engine says which events are theirs (a learner's: their containers)
      r.off = principal.engine.onEvent((e) => {
        if (e.type !== 'container') return;
        broadcast(key, r);
        nsp.to(key).emit('event', e);
      });
      rooms.set(key, (room = r));
    }
    room.sockets++;
    return room;
  };
  const leave = (key: string) => {
    const room = rooms.get(key);
    if (!room || --room.sockets > 0) return;
    room.off();
    if (room.pending) clearTimeout(room.pending);
    rooms.delete(key);
  };

  const lastCpu = new Map<string, { t: number; ns: number }>();
  let ticking = false;
  const tick = async () => {
    if (ticking || nsp.sockets.size === 0) return;
    ticking = true;
    try {
      const running = engine.list().filter((r) => isActive(r.state.status));
      const out: StatsTick[] = [];
      await Promise.all(
        running.map(async (r) => {
          try {
            const s = await listFigures(engine, r);
            const prev = lastCpu.get(r.id);
            const cpu = prev && s.time > prev.t ? Math.max(0, (s.cpu.usageNs - prev.ns) / 1e6 / (s.time - prev.t)) : 0;
            lastCpu.set(r.id, { t: s.time, ns: s.cpu.usageNs });
            out.push({ id: r.id, time: s.time, memory: s.memory.current, memoryLimit: s.memory.limit, cpu, pids: s.pids.current, pidsLimit: s.pids.limit, frozen: s.frozen });
          } catch {
            /* the container just ended */
          }
        }),
      );
      for (const id of lastCpu.keys()) if (!running.some((r) => r.id === id)) lastCpu.delete(id);
      // each room gets the ticks of the containers its principal sees
      for (const [key, room] of rooms) {
        const visible = new Set(room.engine.list().map((r) => r.id));
        const mine = out.filter((t) => visible.has(t.id));
        if (mine.length) nsp.to(key).emit('stats', mine);
      }
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), STATS_INTERVAL_MS);
  timer.unref();

  const logIdMsg = z.object({ id: z.string().min(1).max(128), tail: z.number().int().min(0).max(10_000).optional() });

  nsp.on('connection', (socket) => {
    const principal = principalOf(socket);
    const key = principalKey(principal);
    const room = join(key, principal);
    void socket.join(key);
    const engine = principal.engine;
    socket.emit('list', snapshot(room));
    const follows = new Map<string, AbortController>();
    socket.on('logs:follow', (raw: unknown) => {
      const p = logIdMsg.safeParse(raw);
      if (!p.success) return;
      const { id, tail } = p.data;
      follows.get(id)?.abort();
      const ac = new AbortController();
      follows.set(id, ac);
      void (async () => {
        try {
          let batch: { stream: string; time: string; log: string }[] = [];
          let flushTimer: NodeJS.Timeout | null = null;
          const flush = () => {
            flushTimer = null;
            if (batch.length && !ac.signal.aborted) socket.emit('logs:data', { id, entries: batch });
            batch = [];
          };
          let windowStart = Date.now();
          let inWindow = 0;
          for await (const entry of engine.logs(id, { follow: true, tail: tail ?? 500, signal: ac.signal, maxLagBytes: LOG_FOLLOW_MAX_LAG })) {
            if (ac.signal.aborted) break;
            batch.push(entry);
            if (batch.length >= 200) flush();
            else if (!flushTimer) flushTimer = setTimeout(flush, 50);
            // the budget spent: wait for the next second (the reader then skips what piled up)
            if (++inWindow >= LOG_FOLLOW_LINES_PER_SECOND) {
              flush();
              const wait = windowStart + 1000 - Date.now();
              if (wait > 0) await new Promise<void>((r) => setTimeout(r, wait));
              windowStart = Date.now();
              inWindow = 0;
            }
          }
          if (flushTimer) clearTimeout(flushTimer);
          flush();
        } catch (e) {
          if (!ac.signal.aborted) socket.emit('logs:error', { id, error: (e as Error).message });
        }
      })();
    });
    socket.on('logs:stop', (raw: unknown) => {
      const p = logIdMsg.safeParse(raw);
      if (!p.success) return;
      follows.get(p.data.id)?.abort();
      follows.delete(p.data.id);
    });
    socket.on('disconnect', () => {
      for (const ac of follows.values()) ac.abort();
      follows.clear();
      leave(key);
    });
  });

  return {
    close() {
      for (const room of rooms.values()) {
        room.off();
        if (room.pending) clearTimeout(room.pending);
      }
      rooms.clear();
      clearInterval(timer);
    },
  };
}
