// socket.io channel "containers": the live container list and stats ticks.
//
// On connect the client gets a snapshot ("list"); every engine container event sends a fresh one
// (coalesced to at most one per 100 ms). While anyone is connected, stats of running containers
// are read once a second and sent as "stats" (CPU as a fraction of one CPU over the last tick).
// "logs:follow" streams a container's log to the asking socket until "logs:stop" or disconnect.
import type { Namespace, Server } from 'socket.io';
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

export function containersChannel(io: Server, engine: EngineApi): { close(): void } {
  const nsp: Namespace = io.of('/containers');
  const snapshot = () => engine.list({ all: true }).map(summarize);

  let pending: NodeJS.Timeout | null = null;
  const broadcast = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      if (nsp.sockets.size) nsp.emit('list', snapshot());
    }, 100);
  };
  const off = engine.onEvent((e) => {
    if (e.type === 'container') {
      broadcast();
      nsp.emit('event', e);
    }
  });

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
            const s = await engine.stats(r.id);
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
      if (out.length) nsp.emit('stats', out);
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), STATS_INTERVAL_MS);
  timer.unref();

  const logIdMsg = z.object({ id: z.string().min(1).max(128), tail: z.number().int().min(0).max(10_000).optional() });

  nsp.on('connection', (socket) => {
    socket.emit('list', snapshot());
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
          for await (const entry of engine.logs(id, { follow: true, tail: tail ?? 500, signal: ac.signal })) {
            if (ac.signal.aborted) break;
            batch.push(entry);
            if (batch.length >= 200) flush();
            else if (!flushTimer) flushTimer = setTimeout(flush, 50);
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
    });
  });

  return {
    close() {
      off();
      clearInterval(timer);
      if (pending) clearTimeout(pending);
    },
  };
}
