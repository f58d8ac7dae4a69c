'use client';
// Limits changed live (engine.update): the cgroup files written are shown, so the learner sees the
// kernel interface behind the slider.
import { useEffect, useState } from 'react';
import type { ResourceLimits } from '../server/engine/types';
import { api } from './lib/client';
import { bytes } from './lib/format';

interface Write {
  file: string;
  wrote: string;
  ms: number;
}

const MiB = 1024 * 1024;

export function LimitsEditor({ id, limits, cpus, disabled }: { id: string; limits: ResourceLimits; cpus: number; disabled: boolean }) {
  const [mem, setMem] = useState(limits.memory ? Math.round(limits.memory / MiB) : 0);
  const [cpu, setCpu] = useState(limits.cpus ?? 0);
  const [pids, setPids] = useState(limits.pids ?? 0);
  const [writes, setWrites] = useState<Write[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setMem(limits.memory ? Math.round(limits.memory / MiB) : 0);
    setCpu(limits.cpus ?? 0);
    setPids(limits.pids ?? 0);
  }, [limits.memory, limits.cpus, limits.pids]);

  const apply = async () => {
    setBusy(true);
    setError(null);
    try {
      const body: Partial<ResourceLimits> = {};
      const memory = mem > 0 ? mem * MiB : null;
      if (memory !== limits.memory) body.memory = memory;
      if ((cpu || null) !== limits.cpus) body.cpus = cpu || null;
      if ((pids || null) !== limits.pids) body.pids = pids || null;
      const r = await api<{ writes: Write[] }>(`/api/containers/${id}/update`, { body });
      setWrites(r.writes);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-2" data-testid="limits-editor">
      <label className="block">
        <span className="flex justify-between text-sm">
          <span>Memory</span>
          <span className="tabular-nums text-sky-200">{mem ? bytes(mem * MiB) : 'no limit'}</span>
        </span>
        <input type="range" min={0} max={2048} step={8} value={mem} onChange={(e) => setMem(Number(e.target.value))} className="w-full accent-sky-500" disabled={disabled} data-testid="limit-memory" />
        <input type="number" min={0} value={mem} onChange={(e) => setMem(Math.max(0, Number(e.target.value) || 0))} className="mt-1 w-28 rounded border border-slate-700 bg-slate-950 px-2 py-1 text-sm" disabled={disabled} data-testid="limit-memory-mib" aria-label="memory in MiB" />
        <span className="ml-2 text-xs text-slate-400">MiB (0 = no limit)</span>
      </label>
      <label className="block">
        <span className="flex justify-between text-sm">
          <span>CPUs</span>
          <span className="tabular-nums text-sky-200">{cpu ? cpu.toFixed(1) : 'no limit'}</span>
        </span>
        <input type="range" min={0} max={Math.max(1, cpus)} step={0.1} value={cpu} onChange={(e) => setCpu(Math.round(Number(e.target.value) * 10) / 10)} className="w-full accent-sky-500" disabled={disabled} data-testid="limit-cpus" />
      </label>
      <label className="block">
        <span className="flex justify-between text-sm">
          <span>Processes</span>
          <span className="tabular-nums text-sky-200">{pids || 'no limit'}</span>
        </span>
        <input type="range" min={0} max={1024} step={8} value={pids} onChange={(e) => setPids(Number(e.target.value))} className="w-full accent-sky-500" disabled={disabled} data-testid="limit-pids" />
      </label>
      <button type="button" onClick={apply} disabled={busy || disabled} className="rounded-md bg-sky-500 px-4 py-1.5 text-sm font-semibold text-slate-950 hover:bg-sky-400 disabled:opacity-50" data-testid="limits-apply">
        {busy ? 'Applying…' : 'Apply live'}
      </button>
      {error && (
        <p className="text-sm text-rose-300" role="alert" data-testid="limits-error">
          {error}
        </p>
      )}
      {writes && (
        <div data-testid="limits-writes">
          <p className="mt-2 text-xs text-slate-400">Files written:</p>
          <ul className="font-mono text-xs break-all">
            {writes.map((w, i) => (
              <li key={i}>
                <span className="text-sky-300">{w.file}</span> ← <span className="text-emerald-300">{w.wrote}</span>
              </li>
            ))}
            {!writes.length && <li className="text-slate-500">nothing changed</li>}
          </ul>
        </div>
      )}
    </div>
  );
}
