'use client';
// A pull's progress: one overall bar, and a row per layer (docker's short id, its state, bytes).
import { bytes } from './lib/format';
import { pullFraction, type PullState } from './lib/pull-progress';

const LABEL: Record<string, string> = {
  waiting: 'waiting',
  downloading: 'downloading',
  verifying: 'verifying',
  downloaded: 'downloaded',
  extracting: 'extracting',
  complete: 'done',
  exists: 'already here',
  failed: 'failed',
};

function Bar({ fraction, testId, tone = 'bg-sky-500' }: { fraction: number; testId?: string; tone?: string }) {
  const pct = Math.round(fraction * 100);
  return (
    <div className="h-2 w-full overflow-hidden rounded bg-slate-800" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid={testId}>
      <div className={`h-full ${tone} motion-safe:transition-[width] motion-safe:duration-200`} style={{ width: `${pct}%` }} />
    </div>
  );
}

export function PullProgress({ state }: { state: PullState }) {
  const frac = pullFraction(state);
  return (
    <div className={`space-y-2 rounded-lg border p-3 ${state.error ? 'border-rose-600 bg-rose-950/30' : 'border-slate-800'}`} data-testid="pull-progress" data-state={state.error ? 'failed' : state.done ? 'done' : 'pulling'}>
      <div className="flex justify-between text-sm">
        <span className={`min-w-0 break-words ${state.error ? 'text-rose-300' : 'text-slate-200'}`} data-testid="pull-status" role={state.error ? 'alert' : undefined}>
          {state.error ? `Pull of ${state.image} failed: ${state.error}` : state.status}
        </span>
        <span className={`shrink-0 pl-2 tabular-nums ${state.error ? 'font-semibold text-rose-300' : 'text-sky-200'}`} data-testid="pull-percent">
          {state.error ? 'failed' : `${Math.round(frac * 100)}%`}
        </span>
      </div>
      {/* a failed pull has no progress to show: no bar left at 0% as if it were still waiting */}
      {state.error ? null : <Bar fraction={frac} testId="pull-bar" tone={state.done ? 'bg-emerald-500' : 'bg-sky-500'} />}
      {state.layers.length > 0 && (
        <ul className="space-y-1 font-mono text-xs text-slate-300">
          {state.layers.map((l) => {
            const f = l.status === 'complete' || l.status === 'exists' ? 1 : l.total ? Math.min(1, l.current / l.total) : 0;
            return (
              <li key={l.id} className="grid grid-cols-[7rem_6.5rem_1fr_8rem] items-center gap-2" data-testid="pull-layer">
                <span>{l.id}</span>
                <span className="text-slate-400">{LABEL[l.status] ?? l.status}</span>
                <Bar fraction={f} tone={l.status === 'failed' ? 'bg-rose-600' : f >= 1 ? 'bg-emerald-600' : 'bg-sky-600'} />
                <span className="text-right tabular-nums text-slate-400">{l.total ? `${bytes(Math.min(l.current, l.total))} / ${bytes(l.total)}` : ''}</span>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
