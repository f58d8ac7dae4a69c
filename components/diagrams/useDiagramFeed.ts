'use client';
// Feeds a diagram: GET /api/diagrams/<kind>?container=<id> for the first paint, then the socket.io
// event `diagram:<kind>` after a 'diagram:subscribe'. The server throttles and skips unchanged
// snapshots, so every event is worth a render.
//
// The socket: pass a socket of your own in opts.socket; otherwise one shared socket is opened on the
// default namespace of the same origin, authenticated by the token from opts.token, ?token= or
// localStorage 'glassbox-token' (where the first visit put it). REST calls send that token as a
// Bearer header: the server's API never takes a cookie.
import { useCallback, useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { DiagramKind, LimitKind, SnapshotOf, WhichLayerResult } from '../../server/engine/inspect/types';

export interface DiagramFeedOptions {
  socket?: Socket | null;
  token?: string;
  /** default '' (same origin) */
  baseUrl?: string;
  /** set false to skip the socket (tests, static pages) */
  live?: boolean;
}

let shared: Socket | null = null;

function findToken(opts: DiagramFeedOptions): string | undefined {
  if (opts.token) return opts.token;
  if (typeof window === 'undefined') return undefined;
  const q = new URLSearchParams(window.location.search).get('token');
  if (q) return q;
  try {
    return window.localStorage.getItem('glassbox-token') ?? undefined;
  } catch {
    return undefined;
  }
}

function sharedSocket(opts: DiagramFeedOptions): Socket {
  if (opts.socket) return opts.socket;
  // the server accepts WebSocket only (like the dashboard's channels) and wants the token in the
  // handshake (the page cookie only gets the connection itself through)
  if (!shared) {
    const token = findToken(opts);
    shared = io(`${opts.baseUrl ?? ''}/`, { path: '/socket.io', transports: ['websocket'], ...(token ? { auth: { token } } : {}) });
  }
  return shared;
}

function headers(opts: DiagramFeedOptions, json = false): HeadersInit {
  const h: Record<string, string> = {};
  const t = findToken(opts);
  if (t) h.authorization = `Bearer ${t}`;
  if (json) h['content-type'] = 'application/json';
  return h;
}

export interface DiagramFeed<K extends DiagramKind> {
  snapshot: SnapshotOf<K> | null;
  error: string | null;
  /** ms since epoch of the last snapshot received */
  updatedAt: number | null;
  /** the layer diagram's click: which layer a path comes from */
  whichLayer: (path: string) => Promise<WhichLayerResult>;
  /** the cgroup diagram's drag: write a limit */
  setLimit: (kind: LimitKind, value: number | null) => Promise<void>;
  refresh: () => Promise<void>;
}

export function useDiagramFeed<K extends DiagramKind>(kind: K, containerId?: string | null, opts: DiagramFeedOptions = {}): DiagramFeed<K> {
  const [snapshot, setSnapshot] = useState<SnapshotOf<K> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const optsRef = useRef(opts);
  optsRef.current = opts;
  const base = opts.baseUrl ?? '';
  const qs = containerId ? `?container=${encodeURIComponent(containerId)}` : '';

  const refresh = useCallback(async () => {
    try {
      const r = await fetch(`${base}/api/diagrams/${kind}${qs}`, { headers: headers(optsRef.current), cache: 'no-store' });
      const body = await r.json();
      if (!r.ok) throw new Error(body?.message ?? `HTTP ${r.status}`);
      setSnapshot(body as SnapshotOf<K>);
      setUpdatedAt(Date.now());
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [base, kind, qs]);

  useEffect(() => {
    setSnapshot(null);
    void refresh();
    if (opts.live === false) return;
    const socket = sharedSocket(optsRef.current);
    const want = containerId ?? null;
    const event: string = `diagram:${kind}`;
    const onSnap = (msg: { containerId: string | null; snapshot: SnapshotOf<K> }) => {
      if ((msg.containerId ?? null) !== want) return;
      setSnapshot(msg.snapshot);
      setUpdatedAt(Date.now());
      setError(null);
    };
    const sub = () => socket.emit('diagram:subscribe', { kind, containerId: want ?? undefined });
    socket.on(event, onSnap);
    socket.on('connect', sub);
    if (socket.connected) sub();
    return () => {
      socket.off(event, onSnap);
      socket.off('connect', sub);
      socket.emit('diagram:unsubscribe', { kind, containerId: want ?? undefined });
    };
  }, [kind, containerId, refresh, opts.live]);

  const whichLayer = useCallback(
    async (path: string): Promise<WhichLayerResult> => {
      if (!containerId && !(snapshot as { containerId?: string } | null)?.containerId) throw new Error('no container');
      const id = containerId ?? (snapshot as { containerId: string }).containerId;
      const r = await fetch(`${base}/api/diagrams/layers/which?container=${encodeURIComponent(id)}&path=${encodeURIComponent(path)}`, { headers: headers(optsRef.current) });
      const body = await r.json();
      if (!r.ok) throw new Error(body?.message ?? `HTTP ${r.status}`);
      return body as WhichLayerResult;
    },
    [base, containerId, snapshot],
  );

  const setLimit = useCallback(
    async (limitKind: LimitKind, value: number | null) => {
      const id = containerId ?? (snapshot as { containers?: { containerId: string }[] } | null)?.containers?.[0]?.containerId;
      if (!id) throw new Error('no container');
      const r = await fetch(`${base}/api/diagrams/cgroups/limit?container=${encodeURIComponent(id)}`, { method: 'POST', headers: headers(optsRef.current, true), body: JSON.stringify({ kind: limitKind, value }) });
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        const msg = (body as { message?: string }).message ?? `HTTP ${r.status}`;
        setError(msg);
        throw new Error(msg);
      }
    },
    [base, containerId, snapshot],
  );

  return { snapshot, error, updatedAt, whichLayer, setLimit, refresh };
}
