'use client';
// Browser side of the server's REST and socket.io channels. The token travels in an HttpOnly
// cookie set on the first visit, so nothing here ever sees it.
import { io, type Socket } from 'socket.io-client';
import type { ContainerSummary, StatsTick } from '../../server/realtime/containers';

export type { ContainerSummary, StatsTick };

const sockets = new Map<string, Socket>();

/** One socket per channel, all over one WebSocket connection. */
export function channel(name: 'containers' | 'terminal'): Socket {
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
  const method = init?.method ?? (init?.body !== undefined ? 'POST' : 'GET');
  // the server takes a write only as JSON from this origin (a cross-site form cannot send JSON)
  const write = method !== 'GET' && method !== 'HEAD';
  const res = await fetch(path, {
    method,
    headers: write || init?.body !== undefined ? { 'content-type': 'application/json' } : undefined,
    body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (res.status === 204) return null as T;
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new ApiError(res.status, (data as { error?: string }).error ?? res.statusText);
  return data as T;
}
