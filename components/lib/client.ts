'use client';
// The dashboard's one client of the server: REST calls (`api`) and socket.io channels (`channel`).
// One auth path: the token travels in an HttpOnly cookie set on the first visit, so nothing here
// ever sees it. One error shape: every failed call throws an ApiError with the server's `error`.
import { io, type Socket } from 'socket.io-client';
import type { ContainerSummary, StatsTick } from '../../server/realtime/containers';

export type { ContainerSummary, StatsTick };

const sockets = new Map<string, Socket>();

/** One socket per channel ('' is the default namespace: the diagrams), all over one WebSocket connection. */
export function channel(name: 'containers' | 'terminal' | ''): Socket {
  let s = sockets.get(name);
  if (!s) {
    s = io(`/${name}`, { transports: ['websocket'], path: '/socket.io' });
    sockets.set(name, s);
  }
  return s;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const res = await fetch(path, {
    method: init?.method ?? (init?.body !== undefined ? 'POST' : 'GET'),
    headers: init?.body !== undefined ? { 'content-type': 'application/json' } : undefined,
    body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (res.status === 204) return null as T;
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new ApiError(res.status, (data as { error?: string }).error ?? `HTTP ${res.status} ${res.statusText}`);
  return data as T;
}
