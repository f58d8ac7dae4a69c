'use client';
// The creation timeline: each step of the last start, grouped by phase (prepare, rootfs, cgroups,
// namespaces, network, security, the process, exec), as a bar on the start's time axis (a
// minimum width so the shortest steps show; the duration written beside it), with the syscall
// made or the file written. The capability step's masks are shown by name.
import { PHASE_TITLES } from '../common/timeline-phases';
import type { TimelineStep } from '../server/engine/types';
import { ms } from './lib/format';
import { barBox, decodeCapabilities, groupByPhase } from './lib/timeline-view';
import { color } from './theme';

const BY_COLOR: Record<TimelineStep['by'], string> = { engine: color.byEngine, monitor: color.byMonitor, child: color.byChild };

function StepRow({ s, end }: { s: TimelineStep; end: number }) {
  const box = barBox(s.at, s.ms, end);
  const caps = s.step === 'capabilities' && s.call ? decodeCapabilities(s.call) : [];
  const labelRight = box.left + box.width < 80;
  return (
    <tr className="border-b border-slate-800/50 align-top" data-testid={`timeline-step-${s.step}`}>
      <td className="py-1 pr-2 font-mono" style={{ color: color.text }}>
        {s.step}
        <div className="text-xs" style={{ color: color.textMuted }}>
          {s.by}
        </div>
      </td>
      <td className="py-1 pr-2">
        <div className="relative h-4 rounded" style={{ background: color.raised }} title={`at ${ms(s.at)}, took ${ms(s.ms)}`}>
          <div className="absolute top-0 h-4 rounded" style={{ left: `${box.left}%`, width: `${box.width}%`, minWidth: 4, background: BY_COLOR[s.by] }} />
          <span
            className="absolute top-0 whitespace-nowrap px-1 text-xs leading-4 tabular-nums"
            style={labelRight ? { left: `${box.left + box.width}%`, color: color.text } : { right: `${100 - box.left}%`, color: color.text }}
          >
            {ms(s.ms)}
          </span>
        </div>
      </td>
      <td className="py-1 font-mono" style={{ color: color.textSoft }}>
        {s.call && !caps.length && <div style={{ color: color.okText }}>{s.call}</div>}
        {caps.length ? (
          <div data-testid="timeline-capabilities">
            <div style={{ color: color.okText }}>capset(2) and PR_CAPBSET_DROP</div>
            {caps.map((c) => (
              <div key={c.label} className="break-words">
                <span style={{ color: color.textSoft }}>{c.label} ({c.names.length === 1 && c.names[0].startsWith('(') ? 'same' : c.names.length}):</span> <span style={{ color: color.text }}>{c.names.join(' ')}</span>
              </div>
            ))}
          </div>
        ) : null}
        {s.file && (
          <div className="break-all">
            <span style={{ color: color.accent }}>{s.file}</span>
            {s.wrote !== undefined && <span style={{ color: color.textMuted }}> ← {s.wrote.length > 80 ? s.wrote.slice(0, 80) + '…' : s.wrote}</span>}
          </div>
        )}
        {s.detail && (
          <div data-testid="timeline-detail" style={{ color: color.timelineDetail }}>
            {s.detail}
          </div>
        )}
      </td>
    </tr>
  );
}

export function Timeline({ steps }: { steps: TimelineStep[] }) {
  if (!steps.length) return <p className="text-sm" style={{ color: color.textMuted }}>No timeline recorded (the container has not been started by this engine).</p>;
  const end = Math.max(...steps.map((s) => s.at + s.ms), 0.001);
  const groups = groupByPhase(steps);
  return (
    <div data-testid="timeline">
      <div className="mb-2 flex flex-wrap gap-4 text-xs" style={{ color: color.textSoft }}>
        {Object.entries(BY_COLOR).map(([k, c]) => (
          <span key={k} className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: c }} /> {k}
          </span>
        ))}
        <span>bars on one time axis; the shortest are drawn wider than they took, with the duration written beside them</span>
        <span className="ml-auto">total {ms(end)}</span>
      </div>
      <div className="overflow-x-auto">
        <table className="w-full text-left text-xs">
          <thead style={{ color: color.textSoft }}>
            <tr className="border-b border-slate-800">
              <th className="w-40 py-1 pr-2">step</th>
              <th className="w-2/5 py-1 pr-2">when, and how long</th>
              <th className="py-1">syscall / file written</th>
            </tr>
          </thead>
          {groups.map((g) => (
            <tbody key={g.phase} data-testid={`timeline-phase-${g.phase}`}>
              <tr>
                <th colSpan={3} className="pb-1 pt-3 text-left text-sm font-semibold" style={{ color: color.textStrong }}>
                  {PHASE_TITLES[g.phase]}{' '}
                  <span className="text-xs font-normal" style={{ color: color.textSoft }}>
                    · {g.steps.length} step{g.steps.length === 1 ? '' : 's'} · {ms(g.total)} · from {ms(g.start)} to {ms(g.end)}
                  </span>
                </th>
              </tr>
              {g.steps.map((s, i) => (
                <StepRow key={`${s.step}-${i}`} s={s} end={end} />
              ))}
            </tbody>
          ))}
        </table>
      </div>
    </div>
  );
}
