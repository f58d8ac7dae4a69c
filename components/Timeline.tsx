'use client';
// The creation timeline: each step of the last start as a bar (when, how long), with the syscall
// made or the file written.
import type { TimelineStep } from '../server/engine/types';
import { ms } from './lib/format';
import { color } from './theme';

const BY_COLOR: Record<TimelineStep['by'], string> = { engine: color.byEngine, monitor: color.byMonitor, child: color.byChild };

export function Timeline({ steps }: { steps: TimelineStep[] }) {
  if (!steps.length) return <p className="text-sm text-slate-400">No timeline recorded (the container has not been started by this engine).</p>;
  const end = Math.max(...steps.map((s) => s.at + s.ms), 0.001);
  return (
    <div data-testid="timeline">
      <div className="mb-2 flex gap-4 text-xs text-slate-400">
        {Object.entries(BY_COLOR).map(([k, c]) => (
          <span key={k} className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: c }} /> {k}
          </span>
        ))}
        <span className="ml-auto">total {ms(end)}</span>
      </div>
      <div className="overflow-x-auto">
        <table className="w-full text-left text-xs">
          <thead className="text-slate-400">
            <tr className="border-b border-slate-800">
              <th className="py-1 pr-2">step</th>
              <th className="w-2/5 py-1 pr-2">when</th>
              <th className="py-1 pr-2 text-right">took</th>
              <th className="py-1">syscall / file written</th>
            </tr>
          </thead>
          <tbody>
            {steps.map((s, i) => (
              <tr key={i} className="border-b border-slate-800/50 align-top">
                <td className="py-1 pr-2 font-mono text-slate-200">{s.step}</td>
                <td className="py-1 pr-2">
                  <div className="relative h-3 rounded bg-slate-800/60" title={`at ${ms(s.at)}, ${ms(s.ms)}`}>
                    <div className="absolute top-0 h-3 rounded" style={{ left: `${(s.at / end) * 100}%`, width: `max(2px, ${(s.ms / end) * 100}%)`, background: BY_COLOR[s.by] }} />
                  </div>
                </td>
                <td className="py-1 pr-2 text-right tabular-nums text-slate-300">{ms(s.ms)}</td>
                <td className="py-1 font-mono text-slate-300">
                  {s.call && <div className="text-emerald-300">{s.call}</div>}
                  {s.file && (
                    <div>
                      <span className="text-sky-300">{s.file}</span>
                      {s.wrote !== undefined && <span className="text-slate-400"> ← {s.wrote.length > 80 ? s.wrote.slice(0, 80) + '…' : s.wrote}</span>}
                    </div>
                  )}
                  {s.detail && <div className="text-gb-faint">{s.detail}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
