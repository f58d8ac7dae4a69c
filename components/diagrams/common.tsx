'use client';
// Shared bits of the diagrams: number formatting, a tooltip, zoom/pan on an SVG through a ref,
// keyboard access to SVG nodes, and the colours (one hue per namespace, grey for the host's).
import { select, zoom, zoomIdentity, type ZoomBehavior } from 'd3';
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject, type SVGProps } from 'react';
import { color, NAMESPACE_PALETTE } from '../theme';

export { fmtBytes, fmtRate, shortId } from './format';

export const PALETTE = NAMESPACE_PALETTE;
export const HOST_COLOR = color.nsHost;

/** A stable colour for a key (inode, container id). */
export function colorFor(key: string | number): string {
  const s = String(key);
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export interface TipState {
  x: number;
  y: number;
  content: ReactNode;
}

/** Tooltip state for a diagram: show(event, content) places it next to the pointer. */
export function useTooltip(container: RefObject<HTMLElement | null>) {
  const [tip, setTip] = useState<TipState | null>(null);
  const show = useCallback(
    (e: { clientX: number; clientY: number }, content: ReactNode) => {
      const r = container.current?.getBoundingClientRect();
      setTip({ x: e.clientX - (r?.left ?? 0) + 14, y: e.clientY - (r?.top ?? 0) + 14, content });
    },
    [container],
  );
  /** for keyboard focus: the tooltip under the focused node */
  const showAt = useCallback(
    (el: Element, content: ReactNode) => {
      const r = container.current?.getBoundingClientRect();
      const b = el.getBoundingClientRect();
      setTip({ x: b.left - (r?.left ?? 0), y: b.bottom - (r?.top ?? 0) + 8, content });
    },
    [container],
  );
  const hide = useCallback(() => setTip(null), []);
  return { tip, show, showAt, hide };
}

/**
 * The focus ring of an SVG node: browsers draw no outline around an SVG <g>, so each focusable node
 * holds a <Ring> (an invisible rect around it) that FOCUS_RING colours while the node has keyboard
 * focus.
 */
export const FOCUS_RING = 'outline-none [&:focus-visible_.gb-ring]:stroke-yellow-300';

export function Ring(props: SVGProps<SVGRectElement>) {
  return <rect rx={6} {...props} className="gb-ring" fill="none" stroke="transparent" strokeWidth={3} pointerEvents="none" />;
}

/**
 * An SVG node a keyboard reaches: in the tab order, a visible ring while focused (put a <Ring> in
 * it), and with onPress
 * a button to assistive technology whose Enter and Space do what a click does (without, a labelled
 * image whose focus shows what hovering shows). Spread the result on the node:
 * <g {...pressable('open web-1', () => open(id))}>.
 */
export function pressable(label: string, onPress?: () => void) {
  return {
    tabIndex: 0,
    role: onPress ? ('button' as const) : ('img' as const),
    'aria-label': label,
    className: `${onPress ? 'cursor-pointer ' : ''}${FOCUS_RING}`,
    onKeyDown: (e: KeyboardEvent) => {
      if (onPress && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        onPress();
      }
    },
  };
}

export function Tooltip({ tip }: { tip: TipState | null }) {
  if (!tip) return null;
  return (
    <div
      role="tooltip"
      data-testid="diagram-tooltip"
      className="pointer-events-none absolute z-20 max-w-md rounded-md border border-slate-600 bg-slate-900/95 px-3 py-2 text-sm leading-snug text-slate-100 shadow-xl"
      style={{ left: tip.x, top: tip.y }}
    >
      {tip.content}
    </div>
  );
}

/**
 * Zoom and pan: d3-zoom on the svg, applied to the <g> given. Returns a reset function.
 * The wheel zooms, a drag on the background pans; clicks on nodes still reach them.
 */
export function useZoom(svgRef: RefObject<SVGSVGElement | null>, gRef: RefObject<SVGGElement | null>, extent: [number, number] = [0.2, 4], panTo: { x: number; y: number } | null = null) {
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  useEffect(() => {
    const svg = svgRef.current;
    const g = gRef.current;
    if (!svg || !g) return;
    const z = zoom<SVGSVGElement, unknown>()
      .scaleExtent(extent)
      .filter((ev: Event & { button?: number; ctrlKey?: boolean }) => (ev.type === 'wheel' ? true : !ev.button && !(ev.target as Element).closest?.('[data-clickable]')))
      .on('zoom', (ev) => {
        g.setAttribute('transform', ev.transform.toString());
      });
    zoomRef.current = z;
    select(svg).call(z).on('dblclick.zoom', null);
    return () => {
      select(svg).on('.zoom', null);
    };
  }, [svgRef, gRef, extent]);
  // a pan asked for by the diagram (say, to bring the viewed container into view): applied once
  // per new target, the learner's own panning is not undone on every snapshot
  const panKey = panTo ? `${Math.round(panTo.x)},${Math.round(panTo.y)}` : '';
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg || !zoomRef.current || !panKey) return;
    const [x, y] = panKey.split(',').map(Number);
    select(svg).call(zoomRef.current.transform, zoomIdentity.translate(x, y));
  }, [svgRef, panKey]);
  return useCallback(() => {
    const svg = svgRef.current;
    if (svg && zoomRef.current) select(svg).call(zoomRef.current.transform, zoomIdentity);
  }, [svgRef]);
}

export function Legend({ items }: { items: { color: string; label: string; dashed?: boolean }[] }) {
  return (
    <div className="flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-300">
      {items.map((i) => (
        <span key={i.label} className="inline-flex items-center gap-1.5">
          <span className="inline-block h-3 w-5 rounded-sm" style={{ background: i.dashed ? 'transparent' : i.color, border: `2px ${i.dashed ? 'dashed' : 'solid'} ${i.color}` }} />
          {i.label}
        </span>
      ))}
    </div>
  );
}

export function DiagramFrame({ title, subtitle, actions, children, testId }: { title: string; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode; testId: string }) {
  return (
    <section data-testid={testId} className="relative flex h-full min-h-[420px] flex-col rounded-lg border border-slate-700 bg-slate-950 text-slate-100">
      <header className="flex flex-wrap items-baseline gap-x-4 gap-y-1 border-b border-slate-800 px-4 py-2">
        <h2 className="text-lg font-semibold tracking-tight">{title}</h2>
        {subtitle ? <div className="text-sm text-slate-400">{subtitle}</div> : null}
        <div className="ml-auto flex items-center gap-2">{actions}</div>
      </header>
      {children}
    </section>
  );
}

export function Button({ onClick, children, title }: { onClick: () => void; children: ReactNode; title?: string }) {
  return (
    <button type="button" title={title} onClick={onClick} className="rounded border border-slate-600 px-2 py-0.5 text-sm text-slate-200 hover:bg-slate-800">
      {children}
    </button>
  );
}

/** An element's size in px, kept up to date (null until it is measured). */
export function useBoxSize(ref: RefObject<Element | null>, ready: boolean): { w: number; h: number } | null {
  const [box, setBox] = useState<{ w: number; h: number } | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setBox((b) => (b && b.w === el.clientWidth && b.h === el.clientHeight ? b : { w: el.clientWidth, h: el.clientHeight }));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, ready]);
  return box;
}
