'use client';
// The dashboard's one client of the server: REST calls (`api`) and socket.io channels (`channel`).
// One auth path: the token, sent by every call here. The API takes the token itself, never a
// cookie (a cookie is sent to every port of the host, a learner's published port included): the
// first visit's redirect hands it to the root layout's script, which keeps it in localStorage
// (per origin, port included). One error shape: a failed call throws an ApiError with the
// server's `error`.
import { io, type Socket } from 'socket.io-client';
import type { ContainerSummary, StatsTick } from '../../server/realtime/containers';

export type { ContainerSummary, StatsTick };

const sockets = new Map<string, Socket>();

export const TOKEN_KEY = 'glassbox-token';

/** The dashboard's token, as the first visit stored it (null if this browser never had it). */
export function token(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Authorization for fetch(); empty without a token (the server then answers 401). */
export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** One socket per channel ('' is the default namespace: the diagrams), all over one WebSocket connection. */
export function channel(name: 'containers' | 'terminal' | 'classroom' | ''): Socket {
  let s = sockets.get(name);
  if (!s) {
    // auth as a function: read again at every (re)connect
    s = io(`/${name}`, { transports: ['websocket'], path: '/socket.io', auth: (cb) => cb({ token: token() }) });
    sockets.set(name, s);
  }
  return s;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** the whole answer, for the fields beside its `error` */
    readonly body: Record<string, unknown> = {},
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
    headers: { ...authHeaders(), ...(write || init?.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (res.status === 204) return null as T;
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new ApiError(res.status, (data as { error?: string }).error ?? `HTTP ${res.status} ${res.statusText}`, data && typeof data === 'object' ? (data as Record<string, unknown>) : {});
  return data as T;
}
