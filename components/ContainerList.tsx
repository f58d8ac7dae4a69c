'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { ContainerSummary } from './lib/client';
import { bytes, duration, shortId } from './lib/format';
import type { History } from './lib/use-containers';
import { Sparkline } from './Sparkline';
import { StatusBadge } from './StatusBadge';
import { color } from './theme';

function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function limitsText(c: ContainerSummary): string {
  const l = c.limits;
  const parts = [l.memory ? `mem ${bytes(l.memory)}` : 'mem ∞', l.cpus ? `${l.cpus} CPU` : 'CPU ∞', l.pids ? `pids ${l.pids}` : 'pids ∞'];
  return parts.join(' · ');
}

export function ContainerList({ list, stats }: { list: ContainerSummary[] | null; stats: Record<string, History> }) {
  const now = useNow();
  if (list === null) return <p className="p-6 text-slate-400">Loading…</p>;
  if (!list.length) return <p className="p-6 text-slate-400">No containers yet. Make one with the form.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="container-list">
        <thead className="text-xs uppercase tracking-wide text-slate-400">
          <tr className="border-b border-slate-800">
            <th className="px-3 py-2">Name</th>
            <th className="px-3 py-2">State</th>
            <th className="px-3 py-2">Image</th>
            <th className="px-3 py-2">Up</th>
            <th className="px-3 py-2">Memory</th>
            <th className="px-3 py-2">CPU</th>
            <th className="px-3 py-2">Limits</th>
          </tr>
        </thead>
        <tbody>
          {list.map((c) => {
            const h = stats[c.id];
            const up = c.status === 'running' || c.status === 'paused';
            return (
              <tr key={c.id} className="border-b border-slate-800/60 hover:bg-slate-900/60" data-container={c.name}>
                <td className="px-3 py-2">
                  {/* a name may be 128 characters without a space: cut with an ellipsis, whole in the title */}
                  <Link href={`/containers/${c.id}`} title={c.name} className="block max-w-[14rem] truncate font-medium text-sky-300 hover:underline" data-testid="container-link">
                    {c.name}
                  </Link>
                  <div className="font-mono text-xs text-slate-500">{shortId(c.id)}</div>
                </td>
                <td className="px-3 py-2">
                  <StatusBadge status={c.status} exitCode={c.exitCode} />
                  {c.oomKilled && <span className="ml-1 text-xs text-rose-300">OOM</span>}
                </td>
                <td className="px-3 py-2 font-mono text-xs">
                  <span className="block max-w-[12rem] truncate" title={c.image}>
                    {c.image}
                  </span>
                </td>
                <td className="px-3 py-2 tabular-nums">{up && c.startedAt ? duration(now - Date.parse(c.startedAt)) : '—'}</td>
                <td className="px-3 py-2">
                  {up ? (
                    <div className="flex items-center gap-2">
                      <Sparkline values={h?.memory ?? []} max={c.limits.memory} label="memory" />
                      <span className="whitespace-nowrap tabular-nums text-xs text-slate-300">{bytes(h?.last?.memory ?? 0)}</span>
                    </div>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="px-3 py-2">
                  {up ? (
                    <div className="flex items-center gap-2">
                      <Sparkline values={h?.cpu ?? []} max={c.limits.cpus ?? 1} color={color.sparkCpu} label="cpu" />
                      <span className="tabular-nums text-xs text-slate-300">{((h?.last?.cpu ?? 0) * 100).toFixed(0)}%</span>
                    </div>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="px-3 py-2 text-xs text-slate-300">{limitsText(c)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
