'use client';
import { useEffect, useState } from 'react';
import { channel, type ContainerSummary, type StatsTick, authHeaders } from './client';

export interface History {
  memory: number[];
  cpu: number[];
  last: StatsTick | null;
}

const HISTORY = 60;

/** The live container list and the last minute of stats, from the "containers" channel. */
export function useContainers(): { list: ContainerSummary[] | null; stats: Record<string, History>; connected: boolean; error: string | null } {
  const [list, setList] = useState<ContainerSummary[] | null>(null);
  const [stats, setStats] = useState<Record<string, History>>({});
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const s = channel('containers');
    const onList = (l: ContainerSummary[]) => setList(l);
    const onStats = (ticks: StatsTick[]) =>
      setStats((prev) => {
        const next = { ...prev };
        for (const t of ticks) {
          const h = next[t.id] ?? { memory: [], cpu: [], last: null };
          next[t.id] = { memory: [...h.memory, t.memory].slice(-HISTORY), cpu: [...h.cpu, t.cpu].slice(-HISTORY), last: t };
        }
        return next;
      });
    const onConnect = () => {
      setConnected(true);
      setError(null);
    };
    const onDisconnect = () => setConnected(false);
    const onError = (e: Error) => setError(e.message);
    s.on('list', onList);
    s.on('stats', onStats);
    s.on('connect', onConnect);
    s.on('disconnect', onDisconnect);
    s.on('connect_error', onError);
    if (s.connected) setConnected(true);
    else if (!s.active) s.connect();
    return () => {
      s.off('list', onList);
      s.off('stats', onStats);
      s.off('connect', onConnect);
      s.off('disconnect', onDisconnect);
      s.off('connect_error', onError);
    };
  }, []);
  // a freshly mounted page asks for the snapshot again (the channel may have been connected before)
  useEffect(() => {
    const s = channel('containers');
    if (s.connected && list === null) {
      fetch('/api/containers', { cache: 'no-store', headers: authHeaders() })
        .then((r) => (r.ok ? r.json() : null))
        .then((l) => l && setList((cur) => cur ?? l))
        .catch(() => {});
    }
  }, [list]);
  return { list, stats, connected, error };
}
