// Layout of the cgroup charts, as plain functions (no React, no DOM): which time span the x axis
// covers, the y scale of each panel, the memory.stat bands stacked, where the event markers sit
// and how a dragged limit is rounded. test/unit/diagram-layout.test.ts pins what matters: no
// sample is drawn left of the plot (over the axis labels), no band rises above it, and markers
// at the same moment stay visible.
import { max as d3max, scaleLinear, stack, type ScaleLinear } from 'd3';
import type { CgroupEvent, CgroupSample, LimitKind } from '../../server/engine/inspect/types';

// two columns of panels: memory | CPU over pids | IO
export const CG_PANEL_W = 700; // one panel's width
export const CG_PLOT_H = 170;
export const CG_MARGIN = { l: 84, r: 140, t: 28, b: 24 };
export const CG_PANEL_H = CG_PLOT_H + CG_MARGIN.t + CG_MARGIN.b;
export const CG_VIEW = { width: CG_PANEL_W * 2, height: CG_PANEL_H * 2 };
/**
 * The picture's size for a number of panel columns. The svg is as wide as its box, so its text
 * scales with the box, not with the page's font size: with Large type on, the panels stand in one
 * column and every label is drawn twice as large for the same box.
 */
export function cgView(cols: 1 | 2): { width: number; height: number } {
  return { width: CG_PANEL_W * cols, height: CG_PANEL_H * Math.ceil(4 / cols) };
}
export const cgColumns = (largeType: boolean): 1 | 2 => (largeType ? 1 : 2);
/** the plot rectangle inside a panel (panel-local coordinates) */
export const CG_PLOT = { x0: CG_MARGIN.l, x1: CG_PANEL_W - CG_MARGIN.r, y0: CG_MARGIN.t, y1: CG_MARGIN.t + CG_PLOT_H };

export type Panel = 'memory' | 'cpu' | 'pids' | 'io';
export const PANELS: Panel[] = ['memory', 'cpu', 'pids', 'io'];

export function panelOrigin(i: number, cols: 1 | 2 = 2): { x: number; y: number } {
  return { x: (i % cols) * CG_PANEL_W, y: Math.floor(i / cols) * CG_PANEL_H };
}

export interface TimeAxis {
  /** the span shown, ms: a young container fills the chart (at least a minute), up to the window kept */
  windowMs: number;
  /** time → x in the plot; clamped, so nothing older than the span lands left of the plot */
  x: ScaleLinear<number, number>;
  /** the samples inside the span (older ones are not drawn at all) */
  visible: CgroupSample[];
  /** "5 min", "90 s" */
  spanLabel: string;
}

export function timeAxis(samples: CgroupSample[], now: number, fullWindowMs: number): TimeAxis {
  const firstTime = samples[0]?.time ?? now;
  const windowMs = Math.min(fullWindowMs, Math.max(60_000, Math.ceil((now - firstTime + 5_000) / 30_000) * 30_000));
  const start = now - windowMs;
  const x = scaleLinear().domain([start, now]).range([CG_PLOT.x0, CG_PLOT.x1]).clamp(true);
  const visible = samples.filter((s) => s.time >= start && s.time <= now);
  const spanLabel = windowMs % 60_000 === 0 ? `${windowMs / 60_000} min` : `${Math.round(windowMs / 1000)} s`;
  return { windowMs, x, visible, spanLabel };
}

const STAT_ORDER = ['anon', 'file', 'kernel', 'slab', 'shmem', 'sock'];

/** The memory.stat keys to stack, bottom first. */
export function statKeys(samples: CgroupSample[]): string[] {
  const keys = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s.stat)) keys.add(k);
  // kernel includes slab on v2; on v1 only slab may exist
  if (keys.has('kernel')) keys.delete('slab');
  return STAT_ORDER.filter((k) => keys.has(k));
}

/**
 * A band's value: what it adds to the stack. The kernel counts shmem inside `file` (tmpfs pages are
 * page cache), so stacking both drew shmem twice and the stack rose above the usage line and the
 * plot; the file band holds the page cache without shmem.
 */
export function bandValue(s: CgroupSample, key: string, keys: string[]): number {
  const v = s.stat[key] ?? 0;
  if (key === 'file' && keys.includes('shmem')) return Math.max(0, v - (s.stat.shmem ?? 0));
  return v;
}

export interface Band {
  key: string;
  /** one [bottom, top] per visible sample, in bytes */
  points: { time: number; y0: number; y1: number }[];
}

export function memoryBands(samples: CgroupSample[], keys: string[]): Band[] {
  const series = stack<CgroupSample>()
    .keys(keys)
    .value((d, k) => bandValue(d, k, keys))(samples);
  return series.map((s) => ({ key: s.key, points: s.map((p) => ({ time: p.data.time, y0: p[0], y1: p[1] })) }));
}

export interface DragValue {
  panel: Panel;
  value: number;
}

export type PanelScales = Record<Panel, ScaleLinear<number, number>>;

/** Each panel's y scale (panel-local): the data, the limit and a dragged value fit, clamped to the plot. */
export function panelScales(samples: CgroupSample[], bands: Band[], drag: DragValue | null): PanelScales {
  const last = samples[samples.length - 1];
  const dragged = (p: Panel) => (drag?.panel === p ? drag.value : 0);
  const stackTop = Math.max(0, ...bands.flatMap((b) => b.points.map((p) => p.y1)));
  const memMax = Math.max(d3max(samples, (s) => s.memory) ?? 0, stackTop, last?.memoryLimit ?? 0, dragged('memory'), 1024 * 1024) * 1.15;
  const cpuMax = Math.max(d3max(samples, (s) => s.cpu) ?? 0, last?.cpuLimit ?? 0, dragged('cpu'), 0.25) * 1.2;
  const pidsMax = Math.max(d3max(samples, (s) => s.pids) ?? 0, last?.pidsLimit ?? 0, dragged('pids'), 4) * 1.25;
  const ioMax = Math.max(d3max(samples, (s) => Math.max(s.readBps, s.writeBps)) ?? 0, 1024) * 1.2;
  // clamp: whatever a value, it is drawn inside the plot
  const y = (m: number) => scaleLinear().domain([0, m]).range([CG_PLOT.y1, CG_PLOT.y0]).clamp(true);
  return { memory: y(memMax), cpu: y(cpuMax), pids: y(pidsMax), io: y(ioMax) };
}

/** A limit value as the cgroup file takes it: whole MiB (at least 4), 0.05 CPU, whole pids. */
export function roundLimit(kind: LimitKind, v: number): number {
  if (kind === 'memory') return Math.max(4, Math.round(v / (1024 * 1024))) * 1024 * 1024;
  if (kind === 'cpus') return Math.max(0.05, Math.round(v * 20) / 20);
  return Math.max(1, Math.round(v));
}

/** One arrow-key step of a limit (PageUp/PageDown: ten). */
export function limitStep(kind: LimitKind): number {
  return kind === 'memory' ? 4 * 1024 * 1024 : kind === 'cpus' ? 0.05 : 1;
}

/** The value a keyboard step gives: from the current value (or a start in the plot's upper part when unlimited). */
export function steppedLimit(kind: LimitKind, current: number | null, steps: number, scale: ScaleLinear<number, number>): number {
  const from = current ?? scale.invert(CG_PLOT.y0 + CG_PLOT_H / 3);
  return roundLimit(kind, from + steps * limitStep(kind));
}

// ---------------------------------------------------------------- events

export const EVENT_GLYPH: Record<CgroupEvent['kind'], string> = {
  'oom-kill': '!',
  oom: '!',
  'memory-max': '•',
  'limit-changed': 'L',
  throttling: 'T',
  'fork-refused': 'F',
  start: '•',
  die: '•',
};

/** Which marker wins the top spot when several fall at the same x: the kill first. */
const EVENT_PRIORITY: CgroupEvent['kind'][] = ['oom-kill', 'oom', 'memory-max', 'fork-refused', 'limit-changed', 'throttling', 'die', 'start'];
export const MARKER_R = 7;

export interface EventMarker {
  event: CgroupEvent;
  x: number;
  /** whether this panel draws the round marker (every panel draws the dashed line) */
  badge: boolean;
  /** the marker's centre y, panel-local: markers closer than a marker's width stack downwards */
  cy: number;
}

/** Does panel i show a round marker for this event (the memory panel shows all, others their own)? */
function badgeIn(panel: Panel, kind: CgroupEvent['kind']): boolean {
  return panel === 'memory' || (panel === 'pids' && kind === 'fork-refused') || (panel === 'cpu' && kind === 'throttling');
}

/**
 * The events in the span and their markers for one panel. Markers at (nearly) the same x used to
 * be drawn on top of each other, the later one hiding the first (an OOM kill under a throttling
 * mark); now they stack down the line, the most important at the top, and every one stays visible.
 */
export function eventMarkers(events: CgroupEvent[], x: ScaleLinear<number, number>, panel: Panel, now: number, windowMs: number): EventMarker[] {
  const inSpan = events.filter((e) => e.time >= now - windowMs && e.time <= now);
  const rank = (e: CgroupEvent) => EVENT_PRIORITY.indexOf(e.kind);
  const sorted = [...inSpan].sort((a, b) => rank(a) - rank(b) || a.time - b.time);
  const placed: EventMarker[] = [];
  const top = CG_PLOT.y0 + 2 + MARKER_R - 1;
  for (const ev of sorted) {
    const ex = x(ev.time);
    const badge = badgeIn(panel, ev.kind);
    let cy = top;
    if (badge) {
      // the first free slot down the line, clear of markers already placed near this x
      while (placed.some((m) => m.badge && Math.abs(m.x - ex) < MARKER_R * 2 && Math.abs(m.cy - cy) < MARKER_R * 2)) cy += MARKER_R * 2 + 1;
    }
    placed.push({ event: ev, x: ex, badge, cy });
  }
  // draw the least important first, so the top marker is also on top
  return placed.reverse();
}
