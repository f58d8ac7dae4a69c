'use client';
// Feeds a diagram: GET /api/diagrams/<kind>?container=<id> for the first paint, then the socket.io
// event `diagram:<kind>` after a 'diagram:subscribe'. The server throttles and skips unchanged
// snapshots, so every event is worth a render.
//
// Requests and the socket go through components/lib/client.ts (which sends the token); pass
// a socket of your own in opts.socket to feed a diagram from elsewhere.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Socket } from 'socket.io-client';
import type { DiagramKind, LimitKind, SnapshotOf, WhichLayerResult } from '../../server/engine/inspect/types';
import { api, channel } from '../lib/client';

export interface DiagramFeedOptions<K extends DiagramKind = DiagramKind> {
  socket?: Socket | null;
  /** set false to skip the socket (tests, static pages) */
  live?: boolean;
  /**
   * the container stopped: keep the last snapshot (the picture while it ran) instead of replacing
   * it with one of a container that has no processes left; without one yet, read one
   */
  frozen?: boolean;
  /**
   * whether a pushed snapshot still shows what this feed is about (say, the container's processes):
   * one that does not never replaces one that did — the container's last picture stays when it
   * stops, even if a push after its exit arrives before the page learns that it stopped
   */
  shows?: (snapshot: SnapshotOf<K>) => boolean;
}

export interface DiagramFeed<K extends DiagramKind> {
  snapshot: SnapshotOf<K> | null;
  error: string | null;
  /** ms since epoch (this browser's clock) of the last snapshot received or confirmed unchanged */
  updatedAt: number | null;
  /** the layer diagram's click: which layer a path comes from */
  whichLayer: (path: string) => Promise<WhichLayerResult>;
  /** the cgroup diagram's drag: write a limit */
  setLimit: (kind: LimitKind, value: number | null) => Promise<void>;
  refresh: () => Promise<void>;
}

/**
 * The last snapshot each feed showed, for this page's life: only the open tab is mounted, so
 * without it a stopped container's namespace picture was lost by a look at its cgroup tab.
 */
const lastShown = new Map<string, { snapshot: unknown; at: number }>();
const LAST_SHOWN_MAX = 32;

function remember(key: string, snapshot: unknown, at: number): void {
  lastShown.delete(key);
  lastShown.set(key, { snapshot, at });
  if (lastShown.size > LAST_SHOWN_MAX) lastShown.delete(lastShown.keys().next().value!);
}

export function useDiagramFeed<K extends DiagramKind>(kind: K, containerId?: string | null, opts: DiagramFeedOptions<K> = {}): DiagramFeed<K> {
  const key = `${kind}:${containerId ?? ''}`;
  const [snapshot, setSnapshot] = useState<SnapshotOf<K> | null>(() => (lastShown.get(key)?.snapshot as SnapshotOf<K> | undefined) ?? null);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(() => lastShown.get(key)?.at ?? null);
  const socketRef = useRef(opts.socket);
  const showsRef = useRef(opts.shows);
  showsRef.current = opts.shows;
  const keyRef = useRef(key);
  keyRef.current = key;
  /** takes a snapshot unless it would replace one that shows the container with one that does not */
  const take = useCallback((next: SnapshotOf<K>) => {
    setSnapshot((prev) => {
      const shows = showsRef.current;
      const kept = prev && shows && shows(prev) && !shows(next) ? prev : next;
      remember(keyRef.current, kept, Date.now());
      return kept;
    });
  }, []);
  useEffect(() => {
    socketRef.current = opts.socket;
  }, [opts.socket]);
  const qs = containerId ? `?container=${encodeURIComponent(containerId)}` : '';

  const refresh = useCallback(async () => {
    try {
      take(await api<SnapshotOf<K>>(`/api/diagrams/${kind}${qs}`));
      setUpdatedAt(Date.now());
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [kind, qs, take]);

  const hasSnapshot = useRef(false);
  hasSnapshot.current = snapshot !== null;
  const shownKey = useRef(key);
  const frozen = opts.frozen === true;

  useEffect(() => {
    if (shownKey.current !== key) {
      // another diagram or container: the old picture is not this one's
      shownKey.current = key;
      const seen = lastShown.get(key);
      setSnapshot((seen?.snapshot as SnapshotOf<K> | undefined) ?? null);
      setUpdatedAt(seen?.at ?? null);
      hasSnapshot.current = !!seen;
    }
    if (frozen && hasSnapshot.current) return;
    void refresh();
    if (opts.live === false || frozen) return;
    const socket = socketRef.current ?? channel('');
    const want = containerId ?? null;
    const event: string = `diagram:${kind}`;
    const onSnap = (msg: { containerId: string | null; snapshot: SnapshotOf<K> }) => {
      if ((msg.containerId ?? null) !== want) return;
      take(msg.snapshot);
      setUpdatedAt(Date.now());
      setError(null);
    };
    // a re-read found nothing changed: what is shown is current now (the age is the data's)
    const onChecked = (msg: { containerId: string | null }) => {
      if ((msg.containerId ?? null) === want) setUpdatedAt(Date.now());
    };
    const sub = () => socket.emit('diagram:subscribe', { kind, containerId: want ?? undefined });
    socket.on(event, onSnap);
    socket.on(`${event}:checked`, onChecked);
    socket.on('connect', sub);
    if (socket.connected) sub();
    return () => {
      socket.off(event, onSnap);
      socket.off(`${event}:checked`, onChecked);
      socket.off('connect', sub);
      socket.emit('diagram:unsubscribe', { kind, containerId: want ?? undefined });
    };
  }, [kind, containerId, key, refresh, take, opts.live, frozen]);

  const whichLayer = useCallback(
    async (path: string): Promise<WhichLayerResult> => {
      if (!containerId && !(snapshot as { containerId?: string } | null)?.containerId) throw new Error('no container');
      const id = containerId ?? (snapshot as { containerId: string }).containerId;
      return api<WhichLayerResult>(`/api/diagrams/layers/which?container=${encodeURIComponent(id)}&path=${encodeURIComponent(path)}`);
    },
    [containerId, snapshot],
  );

  const setLimit = useCallback(
    async (limitKind: LimitKind, value: number | null) => {
      const id = containerId ?? (snapshot as { containers?: { containerId: string }[] } | null)?.containers?.[0]?.containerId;
      if (!id) throw new Error('no container');
      try {
        await api(`/api/diagrams/cgroups/limit?container=${encodeURIComponent(id)}`, { body: { kind: limitKind, value } });
      } catch (e) {
        setError((e as Error).message);
        throw e;
      }
    },
    [containerId, snapshot],
  );

  return { snapshot, error, updatedAt, whichLayer, setLimit, refresh };
}
