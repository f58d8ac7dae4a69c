'use client';
// Cgroup limits and usage over the last minutes: memory against its limit (memory.stat breakdown
// stacked), CPU against its quota (throttled periods marked), pids against pids.max, and IO.
// Events sit on the timeline (OOM kill, limit changed, throttling, fork refused). The limit lines
// can be dragged: letting go calls onLimitChange(kind, value) — the server writes the cgroup file.
import { area, line } from 'd3';
import { useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { CgroupEvent, CgroupSample, CgroupSeries, CgroupSnapshot, LimitKind } from '../../server/engine/inspect/types';
import { color } from '../theme';
import { useLargeType } from '../lib/use-large-type';
import { CG_MARGIN as M, CG_PANEL_W as W, CG_PLOT, CG_PLOT_H as PH, cgColumns, cgView, EVENT_GLYPH, eventMarkers, memoryBands, panelOrigin, PANELS, panelScales, roundLimit, statKeys as statKeysOf, steppedLimit, timeAxis, type Band, type Panel } from './cgroup-layout';
import CgroupTree from './CgroupTree';
import { DiagramFrame, fmtBytes, fmtRate, FOCUS_RING, Legend, Ring, Tooltip, useTooltip } from './common';

export interface CgroupDiagramProps {
  snapshot: CgroupSnapshot | null;
  /** which container to draw; default the first in the snapshot (a picker shows when there are several) */
  containerId?: string | null;
  onLimitChange?: (kind: LimitKind, value: number | null) => void | Promise<void>;
  className?: string;
}

const STAT_COLORS: Record<string, string> = { anon: color.memAnon, file: color.memFile, kernel: color.memKernel, slab: color.memSlab, shmem: color.memShmem, sock: color.memSock };
const EVENT_STYLE: Record<CgroupEvent['kind'], { color: string; label: string }> = {
  'oom-kill': { color: color.eventOomKill, label: 'OOM kill' },
  oom: { color: color.eventOom, label: 'OOM' },
  'memory-max': { color: color.eventMemoryMax, label: 'memory at max' },
  'limit-changed': { color: color.eventLimitChanged, label: 'limit changed' },
  throttling: { color: color.eventThrottling, label: 'throttling' },
  'fork-refused': { color: color.eventForkRefused, label: 'fork refused' },
  start: { color: color.eventStart, label: 'start' },
  die: { color: color.eventExit, label: 'exit' },
};

const STEP_KEYS: Record<string, number> = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1, PageUp: 10, PageDown: -10 };

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
  const { tip, show, showAt, hide } = useTooltip(wrap);
  const [picked, setPicked] = useState<string | null>(null);
  const [drag, setDrag] = useState<{ kind: LimitKind; panel: Panel; value: number } | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  // the last value written per limit and the value shown when it was: until the next sample shows
  // the write, a second arrow key steps from what was written, not from the old value again
  const written = useRef<Partial<Record<LimitKind, { value: number; base: number | null }>>>({});
  // Large type: one column of panels, so the chart's text grows with the page's
  const cols = cgColumns(useLargeType());
  const view = cgView(cols);
  // every panel's plot clips what is drawn in it: nothing over the axis labels or above the plot
  const clipId = `cg-plot-${useId().replace(/[^A-Za-z0-9_-]/g, '')}`;

  const series: CgroupSeries | undefined = useMemo(() => {
    const list = snapshot?.containers ?? [];
    const want = containerId ?? picked;
    return (want ? list.find((c) => c.containerId === want || c.containerId.startsWith(want) || c.name === want) : undefined) ?? (containerId ? undefined : list[0]);
  }, [snapshot, containerId, picked]);

  const now = snapshot?.time ?? Date.now();
  const fullWindowMs = snapshot?.windowMs ?? 300_000;
  const allSamples: CgroupSample[] = useMemo(() => series?.samples ?? [], [series]);
  const axis = useMemo(() => timeAxis(allSamples, now, fullWindowMs), [allSamples, now, fullWindowMs]);
  const { x, windowMs, spanLabel } = axis;
  const samples = axis.visible;
  const last = allSamples[allSamples.length - 1];
  const statKeys = useMemo(() => statKeysOf(samples), [samples]);
  const bands: Band[] = useMemo(() => memoryBands(samples, statKeys), [samples, statKeys]);
  const scales = useMemo(() => panelScales(samples.length ? samples : allSamples.slice(-1), bands, drag), [samples, allSamples, bands, drag]);

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

  const memArea = area<Band['points'][number]>()
    .x((d) => x(d.time))
    .y0((d) => scales.memory(d.y0))
    .y1((d) => scales.memory(d.y1));
  const lineOf = (panel: Panel, f: (s: CgroupSample) => number) =>
    line<CgroupSample>()
      .x((d) => x(d.time))
      .y((d) => scales[panel](f(d)))(samples) ?? '';

  const limits: { panel: Panel; kind: LimitKind; value: number | null; label: (v: number) => string }[] = [
    { panel: 'memory', kind: 'memory', value: last?.memoryLimit ?? null, label: (v) => `limit ${fmtBytes(v)}` },
    { panel: 'cpu', kind: 'cpus', value: last?.cpuLimit ?? null, label: (v) => `quota ${v.toFixed(2)} CPU` },
    { panel: 'pids', kind: 'pids', value: last?.pidsLimit ?? null, label: (v) => `pids.max ${Math.round(v)}` },
  ];

  const startDrag = (e: React.PointerEvent, l: (typeof limits)[number]) => {
    if (!onLimitChange) return;
    (e.target as Element).setPointerCapture(e.pointerId);
    const v = l.value ?? scales[l.panel].invert(CG_PLOT.y0 + PH / 3);
    setDrag({ kind: l.kind, panel: l.panel, value: v });
  };
  const moveDrag = (e: React.PointerEvent) => {
    if (!drag || !svgRef.current) return;
    const yScale = scales[drag.panel];
    const [bottom, top] = yScale.range();
    const local = svgY(svgRef.current, e.clientX, e.clientY) - panelOrigin(PANELS.indexOf(drag.panel), cols).y;
    const yy = Math.min(bottom, Math.max(top, local));
    setDrag({ ...drag, value: roundLimit(drag.kind, yScale.invert(yy)) });
  };
  const endDrag = async () => {
    if (!drag) return;
    const d = drag;
    setDrag(null);
    written.current[d.kind] = { value: d.value, base: limits.find((l) => l.kind === d.kind)?.value ?? null };
    setPending(`${d.kind} → ${d.kind === 'memory' ? fmtBytes(d.value) : d.kind === 'cpus' ? d.value.toFixed(2) : d.value}`);
    try {
      await onLimitChange?.(d.kind, d.value);
    } catch (e) {
      delete written.current[d.kind];
      throw e;
    } finally {
      setPending(null);
    }
  };

  // the keyboard moves a limit like a drag: arrows step it, letting go of the key writes it
  const keyDrag = (e: KeyboardEvent, l: (typeof limits)[number]) => {
    const steps = STEP_KEYS[e.key];
    if (!onLimitChange || steps === undefined) return;
    e.preventDefault();
    const w = written.current[l.kind];
    const current = drag?.kind === l.kind ? drag.value : w && w.base === l.value ? w.value : l.value;
    setDrag({ kind: l.kind, panel: l.panel, value: steppedLimit(l.kind, current, steps, scales[l.panel]) });
  };
  const keyDone = (e: KeyboardEvent) => {
    if (STEP_KEYS[e.key] !== undefined) void endDrag();
  };
  const fmtLimit = (kind: LimitKind, v: number) => (kind === 'memory' ? fmtBytes(v) : kind === 'cpus' ? `${v.toFixed(2)} CPU` : `${Math.round(v)} pids`);

  const eventMarks = series.events.filter((e) => e.time >= now - windowMs && e.time <= now);

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
              ...statKeys.map((k) => ({ color: STAT_COLORS[k] ?? color.textMuted, label: `memory: ${k}` })),
              { color: color.danger, label: 'limit (drag it)', dashed: true },
              ...Object.entries(EVENT_STYLE)
                .filter(([k]) => eventMarks.some((e) => e.kind === k))
                .map(([, v]) => ({ color: v.color, label: v.label })),
            ]}
          />
        </div>
        {/* a learner's containers: the group above them, where the learner's quota is written */}
        <div className="px-4 pt-1">
          <CgroupTree snapshot={snapshot} selectedId={series.containerId} onPick={containerId ? undefined : setPicked} />
        </div>
        <svg
          ref={svgRef}
          data-testid="cgroup-svg"
          viewBox={`0 0 ${view.width} ${view.height}`}
          data-columns={cols}
          className="w-full select-none"
          role="group"
          aria-label="cgroup usage and limits"
          onPointerMove={moveDrag}
          onPointerUp={() => void endDrag()}
          onPointerCancel={() => setDrag(null)}
        >
          <defs>
            {/* panel-local coordinates: each panel's group is translated, the clip follows it */}
            <clipPath id={clipId}>
              <rect x={CG_PLOT.x0} y={CG_PLOT.y0} width={CG_PLOT.x1 - CG_PLOT.x0} height={CG_PLOT.y1 - CG_PLOT.y0} />
            </clipPath>
          </defs>
          {PANELS.map((p, i) => {
            const top = 0;
            const o = panelOrigin(i, cols);
            const y = scales[p];
            const ticks = y.ticks(4);
            const fmt = p === 'memory' ? (v: number) => fmtBytes(v, 0) : p === 'cpu' ? (v: number) => `${v.toFixed(2)}` : p === 'pids' ? (v: number) => String(Math.round(v)) : (v: number) => fmtRate(v);
            const title = p === 'memory' ? `memory ${fmtBytes(last?.memory ?? 0)}` : p === 'cpu' ? `CPU ${(last?.cpu ?? 0).toFixed(2)} cores` : p === 'pids' ? `pids ${last?.pids ?? 0}` : `IO read ${fmtRate(last?.readBps ?? 0)} · write ${fmtRate(last?.writeBps ?? 0)}`;
            return (
              <g key={p} data-testid={`cgroup-panel-${p}`} transform={`translate(${o.x}, ${o.y})`}>
                <text x={M.l} y={top + 18} fontSize={16} fontWeight={700} fill={color.text}>
                  {title}
                </text>
                <rect x={M.l} y={top + M.t} width={W - M.l - M.r} height={PH} fill={color.plot} />
                {ticks.map((t) => (
                  <g key={t}>
                    <line x1={M.l} x2={W - M.r} y1={y(t)} y2={y(t)} stroke={color.grid} />
                    <text x={M.l - 6} y={y(t)} dy={4} textAnchor="end" fontSize={12} fill={color.textMuted}>
                      {fmt(t)}
                    </text>
                  </g>
                ))}
                <g clipPath={`url(#${clipId})`} data-testid={`cgroup-plot-${p}`}>
                {p === 'memory'
                  ? bands.map((b) => <path key={b.key} data-testid={`cgroup-band-${b.key}`} d={memArea(b.points) ?? ''} fill={STAT_COLORS[b.key] ?? color.textMuted} fillOpacity={0.55} />)
                  : null}
                {p === 'memory' ? <path d={lineOf('memory', (s) => s.memory)} fill="none" stroke={color.memory} strokeWidth={2} /> : null}
                {p === 'cpu' ? (
                  <>
                    {samples
                      .filter((s) => s.throttled > 0)
                      .map((s) => (
                        <rect key={s.time} data-testid="throttle-mark" x={Math.max(CG_PLOT.x0, x(s.time) - 2)} y={top + M.t + PH - 10} width={4} height={10} fill={color.eventThrottling} onMouseMove={(e) => show(e, `${s.throttled} periods throttled`)} onMouseLeave={hide} />
                      ))}
                    <path d={lineOf('cpu', (s) => s.cpu)} fill="none" stroke={color.cpu} strokeWidth={2} />
                  </>
                ) : null}
                {p === 'pids' ? <path d={lineOf('pids', (s) => s.pids)} fill="none" stroke={color.pids} strokeWidth={2} /> : null}
                {p === 'io' ? (
                  <>
                    <path d={lineOf('io', (s) => s.readBps)} fill="none" stroke={color.ioRead} strokeWidth={2} />
                    <path d={lineOf('io', (s) => s.writeBps)} fill="none" stroke={color.ioWrite} strokeWidth={2} />
                  </>
                ) : null}
                </g>
                {p === 'io' ? (
                  <>
                    <text x={W - M.r + 8} y={top + M.t + 14} fontSize={12} fill={color.ioRead}>
                      read
                    </text>
                    <text x={W - M.r + 8} y={top + M.t + 30} fontSize={12} fill={color.ioWrite}>
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
                {/* events: a dashed line in every panel, a marker where the event belongs */}
                {eventMarkers(eventMarks, x, p, now, windowMs).map((m, k) => {
                  const ev = m.event;
                  const st = EVENT_STYLE[ev.kind];
                  const text = `${st.label}: ${ev.detail}`;
                  return (
                    <g
                      key={`${ev.time}-${ev.kind}-${k}`}
                      data-testid={`cgroup-event-${ev.kind}`}
                      onMouseMove={(e) => show(e, text)}
                      onMouseLeave={hide}
                      {...(m.badge ? { tabIndex: 0, role: 'img', 'aria-label': `${text}, ${Math.round((now - ev.time) / 1000)} s ago`, className: FOCUS_RING, onFocus: (e: React.FocusEvent<SVGGElement>) => showAt(e.currentTarget, text), onBlur: hide } : {})}
                    >
                      <line x1={m.x} x2={m.x} y1={top + M.t} y2={top + M.t + PH} stroke={st.color} strokeWidth={2} strokeDasharray="4 3" />
                      {/* the dashed line has gaps: a wider invisible line takes the pointer along all of it */}
                      <line x1={m.x} x2={m.x} y1={top + M.t} y2={top + M.t + PH} stroke="transparent" strokeWidth={8} />
                      {m.badge ? (
                        <g transform={`translate(${m.x}, ${m.cy})`}>
                          <Ring x={-10} y={-10} width={20} height={20} rx={10} />
                          <circle r={7} fill={st.color} stroke={color.canvas} strokeWidth={1} />
                          <text y={4} textAnchor="middle" fontSize={10} fontWeight={800} fill={color.textOnMarker}>
                            {EVENT_GLYPH[ev.kind]}
                          </text>
                        </g>
                      ) : null}
                    </g>
                  );
                })}
                {/* limit line, draggable */}
                {limits
                  .filter((l) => l.panel === p)
                  .map((l) => {
                    const v = drag?.kind === l.kind ? drag.value : l.value;
                    if (v === null) {
                      return onLimitChange ? (
                        <g
                          key={l.kind}
                          data-clickable
                          data-testid={`limit-handle-${l.kind}`}
                          className={`cursor-ns-resize ${FOCUS_RING}`}
                          tabIndex={0}
                          role="slider"
                          aria-label={`${l.kind} limit: none; arrow up sets one`}
                          aria-valuemin={0}
                          aria-valuemax={y.domain()[1]}
                          aria-valuetext="no limit"
                          onPointerDown={(e) => startDrag(e, l)}
                          onKeyDown={(e) => keyDrag(e, l)}
                          onKeyUp={keyDone}
                        >
                          <Ring x={W - M.r + 2} y={top + M.t - 2} width={M.r - 8} height={36} />
                          <text x={W - M.r + 8} y={top + M.t + 12} fontSize={12} fill={color.limitText}>
                            no limit
                          </text>
                          <text x={W - M.r + 8} y={top + M.t + 28} fontSize={11} fill={color.textMuted}>
                            (drag here to set)
                          </text>
                        </g>
                      ) : (
                        <text key={l.kind} x={W - M.r + 8} y={top + M.t + 12} fontSize={12} fill={color.textMuted}>
                          no limit
                        </text>
                      );
                    }
                    const yy = y(v);
                    return (
                      <g key={l.kind} data-testid={`limit-${l.kind}`} data-value={v}>
                        <line x1={M.l} x2={W - M.r} y1={yy} y2={yy} stroke={color.danger} strokeWidth={2.5} strokeDasharray="8 5" />
                        <text x={W - M.r + 8} y={yy} dy={4} fontSize={13} fontWeight={700} fill={color.limitText}>
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
                            className="cursor-ns-resize outline-none focus-visible:stroke-yellow-300"
                            strokeWidth={2}
                            tabIndex={0}
                            role="slider"
                            aria-label={`${l.kind} limit: arrow keys change it, written when you let go`}
                            aria-valuenow={v}
                            aria-valuemin={roundLimit(l.kind, 0)}
                            aria-valuemax={y.domain()[1]}
                            aria-valuetext={fmtLimit(l.kind, v)}
                            onPointerDown={(e) => startDrag(e, l)}
                            onKeyDown={(e) => keyDrag(e, l)}
                            onKeyUp={keyDone}
                            onFocus={(e) => showAt(e.currentTarget, 'arrow keys (PageUp/PageDown: ten steps) change the limit; the cgroup file is written when you let go')}
                            onBlur={hide}
                            onMouseMove={(e) => !drag && show(e, 'drag to change the limit; the cgroup file is written when you let go')}
                            onMouseLeave={hide}
                          />
                        ) : null}
                      </g>
                    );
                  })}
                <text x={W - M.r} y={top + M.t + PH + 16} textAnchor="end" fontSize={11} fill={color.textFaint}>
                  now
                </text>
                <text x={M.l} y={top + M.t + PH + 16} fontSize={11} fill={color.textFaint}>
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
