'use client';
// Cgroup limits and usage over the last minutes: memory against its limit (memory.stat breakdown
// stacked), CPU against its quota (throttled periods marked), pids against pids.max, and IO.
// Events sit on the timeline (OOM kill, limit changed, throttling, fork refused). The limit lines
// can be dragged: letting go calls onLimitChange(kind, value) — the server writes the cgroup file.
import { area, line, max as d3max, scaleLinear, stack, type Series } from 'd3';
import { useMemo, useRef, useState } from 'react';
import type { CgroupEvent, CgroupSample, CgroupSeries, CgroupSnapshot, LimitKind } from '../../server/engine/inspect/types';
import { DiagramFrame, fmtBytes, fmtRate, Legend, Tooltip, useTooltip } from './common';

export interface CgroupDiagramProps {
  snapshot: CgroupSnapshot | null;
  /** which container to draw; default the first in the snapshot (a picker shows when there are several) */
  containerId?: string | null;
  onLimitChange?: (kind: LimitKind, value: number | null) => void | Promise<void>;
  className?: string;
}

// two columns of panels: memory | CPU over pids | IO
const W = 700; // one panel's width
const PH = 170; // plot height
const M = { l: 84, r: 140, t: 28, b: 24 };
const PANEL_H = PH + M.t + M.b;
const panelOrigin = (i: number) => ({ x: (i % 2) * W, y: Math.floor(i / 2) * PANEL_H });

const STAT_COLORS: Record<string, string> = { anon: '#3b82f6', file: '#22c55e', kernel: '#a855f7', slab: '#c084fc', shmem: '#f59e0b', sock: '#06b6d4' };
const EVENT_STYLE: Record<CgroupEvent['kind'], { color: string; label: string }> = {
  'oom-kill': { color: '#ef4444', label: 'OOM kill' },
  oom: { color: '#f87171', label: 'OOM' },
  'memory-max': { color: '#fb923c', label: 'memory at max' },
  'limit-changed': { color: '#facc15', label: 'limit changed' },
  throttling: { color: '#f97316', label: 'throttling' },
  'fork-refused': { color: '#e879f9', label: 'fork refused' },
  start: { color: '#4ade80', label: 'start' },
  die: { color: '#94a3b8', label: 'exit' },
};

type Panel = 'memory' | 'cpu' | 'pids' | 'io';
const PANELS: Panel[] = ['memory', 'cpu', 'pids', 'io'];

function svgY(svg: SVGSVGElement, clientX: number, clientY: number): number {
  const pt = svg.createSVGPoint();
  pt.x = clientX;
  pt.y = clientY;
  const m = svg.getScreenCTM();
  return m ? pt.matrixTransform(m.inverse()).y : clientY;
}

export default function CgroupDiagram({ snapshot, containerId, onLimitChange, className }: CgroupDiagramProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const { tip, show, hide } = useTooltip(wrap);
  const [picked, setPicked] = useState<string | null>(null);
  const [drag, setDrag] = useState<{ kind: LimitKind; panel: Panel; value: number } | null>(null);
  const [pending, setPending] = useState<string | null>(null);

  const series: CgroupSeries | undefined = useMemo(() => {
    const list = snapshot?.containers ?? [];
    const want = containerId ?? picked;
    return (want ? list.find((c) => c.containerId === want || c.containerId.startsWith(want) || c.name === want) : undefined) ?? (containerId ? undefined : list[0]);
  }, [snapshot, containerId, picked]);

  const now = snapshot?.time ?? Date.now();
  const fullWindowMs = snapshot?.windowMs ?? 300_000;
  const samples: CgroupSample[] = useMemo(() => series?.samples ?? [], [series]);
  // a young container fills the chart: the axis spans its samples (at least a minute), up to the window
  const firstTime = samples[0]?.time ?? now;
  const windowMs = Math.min(fullWindowMs, Math.max(60_000, Math.ceil((now - firstTime + 5_000) / 30_000) * 30_000));
  const x = useMemo(() => scaleLinear().domain([now - windowMs, now]).range([M.l, W - M.r]), [now, windowMs]);
  const spanLabel = windowMs >= 60_000 && windowMs % 60_000 === 0 ? `${windowMs / 60_000} min` : `${Math.round(windowMs / 1000)} s`;
  const last = samples[samples.length - 1];

  const scales = useMemo(() => {
    const memLimit = last?.memoryLimit ?? null;
    const memMax = Math.max(d3max(samples, (s) => s.memory) ?? 0, memLimit ?? 0, drag?.panel === 'memory' ? drag.value : 0, 1024 * 1024) * 1.15;
    const cpuMax = Math.max(d3max(samples, (s) => s.cpu) ?? 0, last?.cpuLimit ?? 0, drag?.panel === 'cpu' ? drag.value : 0, 0.25) * 1.2;
    const pidsMax = Math.max(d3max(samples, (s) => s.pids) ?? 0, last?.pidsLimit ?? 0, drag?.panel === 'pids' ? drag.value : 0, 4) * 1.25;
    const ioMax = Math.max(d3max(samples, (s) => Math.max(s.readBps, s.writeBps)) ?? 0, 1024) * 1.2;
    // panel-local coordinates: every panel's plot spans the same y range
    const y = (m: number) => scaleLinear().domain([0, m]).range([M.t + PH, M.t]);
    return { memory: y(memMax), cpu: y(cpuMax), pids: y(pidsMax), io: y(ioMax) };
  }, [samples, last, drag]);

  const statKeys = useMemo(() => {
    const keys = new Set<string>();
    for (const s of samples) for (const k of Object.keys(s.stat)) keys.add(k);
    // kernel includes slab on v2; on v1 only slab may exist
    if (keys.has('kernel')) keys.delete('slab');
    return ['anon', 'file', 'kernel', 'slab', 'shmem', 'sock'].filter((k) => keys.has(k));
  }, [samples]);

  const memStack: Series<CgroupSample, string>[] = useMemo(() => stack<CgroupSample>().keys(statKeys).value((d, k) => d.stat[k] ?? 0)(samples), [samples, statKeys]);

  if (!snapshot) {
    return (
      <DiagramFrame title="Cgroups" testId="cgroup-diagram">
        <div className="p-6 text-slate-400">Waiting for the first cgroup sample…</div>
      </DiagramFrame>
    );
  }
  if (!series) {
    return (
      <DiagramFrame title="Cgroups" testId="cgroup-diagram">
        <div className="p-6 text-slate-400">No running container to sample{containerId ? ` (${containerId})` : ''}.</div>
      </DiagramFrame>
    );
  }

  const memArea = area<[number, number] & { data: CgroupSample }>()
    .x((d) => x(d.data.time))
    .y0((d) => scales.memory(d[0]))
    .y1((d) => scales.memory(d[1]));
  const lineOf = (panel: Panel, f: (s: CgroupSample) => number) =>
    line<CgroupSample>()
      .x((d) => x(d.time))
      .y((d) => scales[panel](f(d)))(samples) ?? '';

  const limits: { panel: Panel; kind: LimitKind; value: number | null; label: (v: number) => string }[] = [
    { panel: 'memory', kind: 'memory', value: last?.memoryLimit ?? null, label: (v) => `limit ${fmtBytes(v)}` },
    { panel: 'cpu', kind: 'cpus', value: last?.cpuLimit ?? null, label: (v) => `quota ${v.toFixed(2)} CPU` },
    { panel: 'pids', kind: 'pids', value: last?.pidsLimit ?? null, label: (v) => `pids.max ${Math.round(v)}` },
  ];

  const round = (kind: LimitKind, v: number) => (kind === 'memory' ? Math.max(4, Math.round(v / (1024 * 1024))) * 1024 * 1024 : kind === 'cpus' ? Math.max(0.05, Math.round(v * 20) / 20) : Math.max(1, Math.round(v)));

  const startDrag = (e: React.PointerEvent, l: (typeof limits)[number]) => {
    if (!onLimitChange) return;
    (e.target as Element).setPointerCapture(e.pointerId);
    const top = scales[l.panel].range()[1];
    const v = l.value ?? scales[l.panel].invert(top + PH / 3);
    void top;
    setDrag({ kind: l.kind, panel: l.panel, value: v });
  };
  const moveDrag = (e: React.PointerEvent) => {
    if (!drag || !svgRef.current) return;
    const yScale = scales[drag.panel];
    const [bottom, top] = yScale.range();
    const local = svgY(svgRef.current, e.clientX, e.clientY) - panelOrigin(PANELS.indexOf(drag.panel)).y;
    const yy = Math.min(bottom, Math.max(top, local));
    setDrag({ ...drag, value: round(drag.kind, yScale.invert(yy)) });
  };
  const endDrag = async () => {
    if (!drag) return;
    const d = drag;
    setDrag(null);
    setPending(`${d.kind} → ${d.kind === 'memory' ? fmtBytes(d.value) : d.kind === 'cpus' ? d.value.toFixed(2) : d.value}`);
    try {
      await onLimitChange?.(d.kind, d.value);
    } finally {
      setPending(null);
    }
  };

  const eventMarks = series.events.filter((e) => e.time >= now - windowMs);

  return (
    <DiagramFrame
      testId="cgroup-diagram"
      title="Cgroups"
      subtitle={
        <span>
          {series.name} · {series.status} · last {spanLabel} (of {Math.round(fullWindowMs / 60000)} min kept), one sample a second
          {pending ? <span className="ml-2 text-amber-300">writing {pending}…</span> : null}
        </span>
      }
      actions={
        !containerId && snapshot.containers.length > 1 ? (
          <select
            data-testid="cgroup-picker"
            value={series.containerId}
            onChange={(e) => setPicked(e.target.value)}
            className="rounded border border-slate-600 bg-slate-900 px-2 py-0.5 text-sm text-slate-100"
          >
            {snapshot.containers.map((c) => (
              <option key={c.containerId} value={c.containerId}>
                {c.name}
              </option>
            ))}
          </select>
        ) : null
      }
    >
      <div ref={wrap} className={`relative min-h-0 flex-1 ${className ?? ''}`}>
        <div className="px-4 pt-2">
          <Legend
            items={[
              ...statKeys.map((k) => ({ color: STAT_COLORS[k] ?? '#94a3b8', label: `memory: ${k}` })),
              { color: '#ef4444', label: 'limit (drag it)', dashed: true },
              ...Object.entries(EVENT_STYLE)
                .filter(([k]) => eventMarks.some((e) => e.kind === k))
                .map(([, v]) => ({ color: v.color, label: v.label })),
            ]}
          />
        </div>
        <svg
          ref={svgRef}
          data-testid="cgroup-svg"
          viewBox={`0 0 ${W * 2} ${PANEL_H * 2}`}
          className="w-full select-none"
          role="img"
          aria-label="cgroup usage and limits"
          onPointerMove={moveDrag}
          onPointerUp={() => void endDrag()}
          onPointerCancel={() => setDrag(null)}
        >
          {PANELS.map((p, i) => {
            const top = 0;
            const o = panelOrigin(i);
            const y = scales[p];
            const ticks = y.ticks(4);
            const fmt = p === 'memory' ? (v: number) => fmtBytes(v, 0) : p === 'cpu' ? (v: number) => `${v.toFixed(2)}` : p === 'pids' ? (v: number) => String(Math.round(v)) : (v: number) => fmtRate(v);
            const title = p === 'memory' ? `memory ${fmtBytes(last?.memory ?? 0)}` : p === 'cpu' ? `CPU ${(last?.cpu ?? 0).toFixed(2)} cores` : p === 'pids' ? `pids ${last?.pids ?? 0}` : `IO read ${fmtRate(last?.readBps ?? 0)} · write ${fmtRate(last?.writeBps ?? 0)}`;
            return (
              <g key={p} data-testid={`cgroup-panel-${p}`} transform={`translate(${o.x}, ${o.y})`}>
                <text x={M.l} y={top + 18} fontSize={16} fontWeight={700} fill="#e2e8f0">
                  {title}
                </text>
                <rect x={M.l} y={top + M.t} width={W - M.l - M.r} height={PH} fill="#0b1220" />
                {ticks.map((t) => (
                  <g key={t}>
                    <line x1={M.l} x2={W - M.r} y1={y(t)} y2={y(t)} stroke="#1e293b" />
                    <text x={M.l - 6} y={y(t)} dy={4} textAnchor="end" fontSize={12} fill="#94a3b8">
                      {fmt(t)}
                    </text>
                  </g>
                ))}
                {p === 'memory'
                  ? memStack.map((s) => <path key={s.key} d={memArea(s as never) ?? ''} fill={STAT_COLORS[s.key] ?? '#94a3b8'} fillOpacity={0.55} />)
                  : null}
                {p === 'memory' ? <path d={lineOf('memory', (s) => s.memory)} fill="none" stroke="#e2e8f0" strokeWidth={2} /> : null}
                {p === 'cpu' ? (
                  <>
                    {samples
                      .filter((s) => s.throttled > 0)
                      .map((s) => (
                        <rect key={s.time} data-testid="throttle-mark" x={x(s.time) - 2} y={top + M.t + PH - 10} width={4} height={10} fill="#f97316" onMouseMove={(e) => show(e, `${s.throttled} periods throttled`)} onMouseLeave={hide} />
                      ))}
                    <path d={lineOf('cpu', (s) => s.cpu)} fill="none" stroke="#38bdf8" strokeWidth={2} />
                  </>
                ) : null}
                {p === 'pids' ? <path d={lineOf('pids', (s) => s.pids)} fill="none" stroke="#a3e635" strokeWidth={2} /> : null}
                {p === 'io' ? (
                  <>
                    <path d={lineOf('io', (s) => s.readBps)} fill="none" stroke="#22d3ee" strokeWidth={2} />
                    <path d={lineOf('io', (s) => s.writeBps)} fill="none" stroke="#f472b6" strokeWidth={2} />
                    <text x={W - M.r + 8} y={top + M.t + 14} fontSize={12} fill="#22d3ee">
                      read
                    </text>
                    <text x={W - M.r + 8} y={top + M.t + 30} fontSize={12} fill="#f472b6">
                      write
                    </text>
                  </>
                ) : null}
                {/* hover readout */}
                <rect
                  x={M.l}
                  y={top + M.t}
                  width={W - M.l - M.r}
                  height={PH}
                  fill="transparent"
                  onMouseMove={(e) => {
                    if (!svgRef.current || !samples.length) return;
                    const pt = svgRef.current.createSVGPoint();
                    pt.x = e.clientX;
                    pt.y = e.clientY;
                    const sx = pt.matrixTransform(svgRef.current.getScreenCTM()!.inverse()).x - o.x;
                    const t = x.invert(sx);
                    let best = samples[0];
                    for (const s of samples) if (Math.abs(s.time - t) < Math.abs(best.time - t)) best = s;
                    const ago = Math.round((now - best.time) / 1000);
                    show(
                      e,
                      p === 'memory' ? (
                        <div>
                          <div>{ago}s ago: {fmtBytes(best.memory)} of {fmtBytes(best.memoryLimit)}</div>
                          {Object.entries(best.stat).map(([k, v]) => (
                            <div key={k}>
                              {k}: {fmtBytes(v)}
                            </div>
                          ))}
                        </div>
                      ) : p === 'cpu' ? (
                        `${ago}s ago: ${best.cpu.toFixed(2)} CPU of ${best.cpuLimit ?? 'no quota'}${best.throttled ? `, ${best.throttled} periods throttled` : ''}`
                      ) : p === 'pids' ? (
                        `${ago}s ago: ${best.pids} of pids.max ${best.pidsLimit ?? 'max'}`
                      ) : (
                        `${ago}s ago: read ${fmtRate(best.readBps)}, write ${fmtRate(best.writeBps)}`
                      ),
                    );
                  }}
                  onMouseLeave={hide}
                />
                {/* events */}
                {eventMarks.map((ev, k) => (
                  <g key={`${ev.time}-${ev.kind}-${k}`} data-testid={`cgroup-event-${ev.kind}`} onMouseMove={(e) => show(e, <span>{EVENT_STYLE[ev.kind].label}: {ev.detail}</span>)} onMouseLeave={hide}>
                    <line x1={x(ev.time)} x2={x(ev.time)} y1={top + M.t} y2={top + M.t + PH} stroke={EVENT_STYLE[ev.kind].color} strokeWidth={2} strokeDasharray="4 3" />
                    {i === 0 || (p === 'pids' && ev.kind === 'fork-refused') || (p === 'cpu' && ev.kind === 'throttling') ? (
                      <g transform={`translate(${x(ev.time)}, ${top + M.t + 2})`}>
                        <circle r={7} cy={6} fill={EVENT_STYLE[ev.kind].color} />
                        <text y={10} textAnchor="middle" fontSize={10} fontWeight={800} fill="#0f172a">
                          {ev.kind === 'oom-kill' || ev.kind === 'oom' ? '!' : ev.kind === 'fork-refused' ? 'F' : ev.kind === 'throttling' ? 'T' : ev.kind === 'limit-changed' ? 'L' : '•'}
                        </text>
                      </g>
                    ) : null}
                  </g>
                ))}
                {/* limit line, draggable */}
                {limits
                  .filter((l) => l.panel === p)
                  .map((l) => {
                    const v = drag?.kind === l.kind ? drag.value : l.value;
                    if (v === null) {
                      return onLimitChange ? (
                        <g key={l.kind} data-clickable className="cursor-ns-resize" onPointerDown={(e) => startDrag(e, l)}>
                          <text x={W - M.r + 8} y={top + M.t + 12} fontSize={12} fill="#fca5a5">
                            no limit
                          </text>
                          <text x={W - M.r + 8} y={top + M.t + 28} fontSize={11} fill="#94a3b8">
                            (drag here to set)
                          </text>
                        </g>
                      ) : (
                        <text key={l.kind} x={W - M.r + 8} y={top + M.t + 12} fontSize={12} fill="#94a3b8">
                          no limit
                        </text>
                      );
                    }
                    const yy = y(v);
                    return (
                      <g key={l.kind} data-testid={`limit-${l.kind}`} data-value={v}>
                        <line x1={M.l} x2={W - M.r} y1={yy} y2={yy} stroke="#ef4444" strokeWidth={2.5} strokeDasharray="8 5" />
                        <text x={W - M.r + 8} y={yy} dy={4} fontSize={13} fontWeight={700} fill="#fca5a5">
                          {l.label(v)}
                        </text>
                        {onLimitChange ? (
                          <rect
                            data-clickable
                            data-testid={`limit-handle-${l.kind}`}
                            x={M.l}
                            y={yy - 8}
                            width={W - M.l - M.r + 140}
                            height={16}
                            fill="transparent"
                            className="cursor-ns-resize"
                            onPointerDown={(e) => startDrag(e, l)}
                            onMouseMove={(e) => !drag && show(e, 'drag to change the limit; the cgroup file is written when you let go')}
                            onMouseLeave={hide}
                          />
                        ) : null}
                      </g>
                    );
                  })}
                <text x={W - M.r} y={top + M.t + PH + 16} textAnchor="end" fontSize={11} fill="#64748b">
                  now
                </text>
                <text x={M.l} y={top + M.t + PH + 16} fontSize={11} fill="#64748b">
                  −{spanLabel}
                </text>
              </g>
            );
          })}
        </svg>
        <Tooltip tip={tip} />
      </div>
    </DiagramFrame>
  );
}
