'use client';
// Layer stack: the image's layers bottom to top, the container's upper dir above them and the
// merged view on top, as overlayfs stacks them. Beside it, what the container changed: new files,
// copy-ups (with the bytes copied: touching one byte of a 1 GB log file copies the whole GB into
// the upper dir), whiteouts (character device 0:0) and opaque directories. Clicking a file — or
// asking for any path — shows which layer the merged view takes it from and what that hides.
// Above the stack, the container's volumes (and bind and tmpfs mounts): mounted on the merged view,
// outside the union, so what is written there lands in no layer and outlives the container.
import { useMemo, useRef, useState } from 'react';
import type { LayerChangeView, LayerSnapshot, WhichLayerResult } from '../../server/engine/inspect/types';
import { color } from '../theme';
import { Button, DiagramFrame, fmtBytes, Legend, pressable, Ring, Tooltip, useTooltip, useZoom } from './common';
import { BIG_COPY, changeStyleKey, inferWhich, LAYER, sizeMarks, stackBars, stackHeight, VOLUME, volumeBoxes, type StackBar } from './layer-layout';

export interface LayerDiagramProps {
  snapshot: LayerSnapshot | null;
  /** resolves a path through the layers (the server's whichLayer); without it the diagram infers from the changes */
  onWhichLayer?: (path: string) => Promise<WhichLayerResult>;
  className?: string;
}

const KIND_STYLE: Record<string, { color: string; letter: string; label: string }> = {
  added: { color: color.changeAdded, letter: 'A', label: 'new file' },
  copyup: { color: color.changeCopyUp, letter: 'C', label: 'copy-up (modified lower file)' },
  modified: { color: color.changeModified, letter: 'M', label: 'changed directory' },
  deleted: { color: color.changeDeleted, letter: 'D', label: 'whiteout (deleted)' },
  opaque: { color: color.changeOpaque, letter: 'O', label: 'opaque directory' },
};

function styleOf(c: LayerChangeView) {
  return KIND_STYLE[changeStyleKey(c)];
}

const BAR_COLOR: Record<StackBar['kind'], string> = { merged: color.layerMerged, upper: color.layerUpper, layer: color.layerImage };
const STACK_W = LAYER.stackW;
const BAR_H = LAYER.barH;

export default function LayerDiagram({ snapshot, onWhichLayer, className }: LayerDiagramProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const gRef = useRef<SVGGElement>(null);
  const resetZoom = useZoom(svgRef, gRef);
  const { tip, show, showAt, hide } = useTooltip(wrap);
  const [which, setWhich] = useState<WhichLayerResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<'all' | 'copyup' | 'added' | 'deleted' | 'opaque'>('all');

  const changes = useMemo(() => {
    const all = snapshot?.upper?.changes ?? [];
    if (filter === 'all') return all;
    return all.filter((c) => (filter === 'copyup' ? c.copyUp : c.kind === filter));
  }, [snapshot, filter]);
  const marks = useMemo(() => (snapshot?.state === 'ok' ? sizeMarks(snapshot) : []), [snapshot]);

  const ask = async (path: string) => {
    if (!snapshot) return;
    const p = path.startsWith('/') ? path : `/${path}`;
    setBusy(true);
    try {
      setWhich(onWhichLayer ? await onWhichLayer(p) : inferWhich(snapshot, p));
    } catch (e) {
      setWhich({ path: p, visible: null, hits: [], hides: [], explanation: `could not resolve ${p}: ${(e as Error).message}` });
    } finally {
      setBusy(false);
    }
  };

  if (!snapshot || snapshot.state !== 'ok') {
    return (
      <DiagramFrame title="Layers" testId="layer-diagram">
        <div className="p-6 text-slate-400">{snapshot?.message ?? (snapshot ? 'Choose a container to see its layers.' : 'Loading the layer stack…')}</div>
      </DiagramFrame>
    );
  }

  const layers = snapshot.layers;
  const bars = stackBars(snapshot);
  const hitOf = (layer: number | 'upper' | undefined) => which?.hits.find((h) => h.layer === layer);
  const visibleLayer = which?.visible?.layer;
  const stackH = stackHeight(bars);
  const vols = volumeBoxes(snapshot);
  const barTip = (b: StackBar) =>
    `${b.label}${b.kind === 'merged' ? ': overlayfs shows the topmost entry of each path' : b.kind === 'upper' ? ': every write lands here' : ''}`;
  const biggest = snapshot.upper?.changes.filter((c) => c.copyUp).sort((a, b) => b.copiedBytes - a.copiedBytes)[0];

  return (
    <DiagramFrame
      testId="layer-diagram"
      title="Layers"
      subtitle={
        <span>
          {snapshot.containerName} · image {snapshot.image?.ref} · {layers.length} layer{layers.length === 1 ? '' : 's'} · copied up{' '}
          {fmtBytes(snapshot.totals.copiedUpBytes)} · new {fmtBytes(snapshot.totals.addedBytes)}
        </span>
      }
      actions={<Button onClick={resetZoom}>reset view</Button>}
    >
      <div ref={wrap} className={`relative grid min-h-0 flex-1 grid-cols-1 gap-0 lg:grid-cols-[minmax(440px,1fr)_minmax(420px,1.2fr)] ${className ?? ''}`}>
        <div className="min-w-0">
          <svg ref={svgRef} data-testid="layer-svg" className="h-[62vh] w-full cursor-grab select-none" role="group" aria-label="layer stack, top first">
            <g ref={gRef} transform="translate(20, 16)">
              {vols.boxes.length ? (
                <g data-testid="layer-volumes">
                  <text fontSize={14} fontWeight={700} fill={color.textSoft}>
                    mounted on top, outside the union: in no layer
                  </text>
                  {vols.boxes.map((v) => {
                    const tipText = `${v.label} ${v.sub}: ${v.type === 'tmpfs' ? 'kept in memory, gone with the container' : 'a mount over the merged view; writes there skip the upper dir and outlive the container'}`;
                    return (
                      <g
                        key={v.key}
                        data-testid={`layer-volume-${v.target}`}
                        transform={`translate(${v.x}, ${v.y})`}
                        {...pressable(tipText)}
                        onFocus={(e) => showAt(e.currentTarget, tipText)}
                        onBlur={hide}
                        onMouseMove={(e) => show(e, <div>{tipText}</div>)}
                        onMouseLeave={hide}
                      >
                        <Ring x={-4} y={-4} width={VOLUME.w + 8} height={VOLUME.h + 8} rx={8} />
                        <rect
                          width={VOLUME.w}
                          height={VOLUME.h}
                          rx={6}
                          fill={color.layerVolume}
                          fillOpacity={0.25}
                          stroke={color.layerVolume}
                          strokeWidth={1.5}
                        />
                        <text x={10} y={18} fontSize={13} fontWeight={700} fill={color.textStrong}>
                          {v.label.length > 28 ? `${v.label.slice(0, 27)}…` : v.label}
                        </text>
                        <text x={10} y={35} fontSize={12} fill={color.textSoft}>
                          {v.sub.length > 32 ? `${v.sub.slice(0, 31)}…` : v.sub}
                        </text>
                        {/* down to the merged view it is mounted on */}
                        <line x1={VOLUME.w / 2} y1={VOLUME.h} x2={VOLUME.w / 2} y2={vols.height - v.y} stroke={color.layerVolume} strokeDasharray="3 3" />
                      </g>
                    );
                  })}
                </g>
              ) : null}
              <g transform={`translate(0, ${vols.height})`}>
                {bars.map((b) => {
                  const { y } = b;
                  const c = BAR_COLOR[b.kind];
                  const hit = hitOf(b.layer);
                  const isVisible = b.layer !== undefined && visibleLayer === b.layer;
                  const hidden = hit && !isVisible;
                  return (
                    <g
                      key={b.key}
                      data-testid={`layer-bar-${b.key}`}
                      transform={`translate(0, ${y})`}
                      {...pressable(`${barTip(b)}${hit ? (isVisible ? '; the path is taken from here' : '; the path here is hidden') : ''}`)}
                      onFocus={(e) => showAt(e.currentTarget, barTip(b))}
                      onBlur={hide}
                      onMouseMove={(e) =>
                        show(
                          e,
                          <div>
                            <div className="font-semibold">{b.label}</div>
                            <div className="break-all font-mono text-xs">{b.sub}</div>
                            {b.kind === 'merged' ? <div>overlayfs shows the topmost entry of each path; lowerdir lists the layers top first</div> : null}
                            {b.kind === 'upper' ? <div>every write lands here; a changed lower file is first copied up whole</div> : null}
                          </div>,
                        )
                      }
                      onMouseLeave={hide}
                    >
                      <Ring x={-4} y={-4} width={STACK_W + 8} height={BAR_H + 8} rx={8} />
                      <rect
                        width={STACK_W}
                        height={BAR_H}
                        rx={6}
                        fill={c}
                        fillOpacity={b.kind === 'layer' ? 0.25 : 0.3}
                        stroke={isVisible ? color.highlight : c}
                        strokeWidth={isVisible ? 4 : 1.5}
                        strokeDasharray={b.kind === 'merged' ? '6 4' : undefined}
                      />
                      <text x={12} y={21} fontSize={15} fontWeight={700} fill={color.textStrong}>
                        {b.label}
                      </text>
                      <text x={12} y={40} fontSize={12} fill={color.textSoft}>
                        {b.sub.length > 58 ? `${b.sub.slice(0, 57)}…` : b.sub}
                      </text>
                      {hit ? (
                        <g transform={`translate(${STACK_W + 10}, ${BAR_H / 2})`}>
                          <text
                            fontSize={13}
                            dy={5}
                            fill={isVisible ? color.highlight : hit.type === 'whiteout' ? color.dangerText : color.textMuted}
                            textDecoration={hidden ? 'line-through' : undefined}
                          >
                            {isVisible ? '◀ shown' : hit.type === 'whiteout' ? '◀ whiteout: deletes it' : '◀ hidden'}
                            {hit.type === 'whiteout' ? '' : ` ${hit.type === 'file' ? fmtBytes(hit.size) : hit.type}`}
                          </text>
                        </g>
                      ) : null}
                    </g>
                  );
                })}
                {/* the upper dir's changes as marks along its bar */}
                <g transform={`translate(0, ${stackH + 14})`}>
                  <text fontSize={14} fontWeight={700} fill={color.textSoft}>
                    what the upper dir holds, by size
                  </text>
                  {marks.map(({ change: c, y, width }) => {
                    const st = styleOf(c);
                    return (
                      <g
                        key={c.path}
                        data-testid={`layer-size-${c.path}`}
                        transform={`translate(0, ${y})`}
                        data-clickable
                        {...pressable(`${c.path}, ${fmtBytes(c.copiedBytes)}${c.copyUp ? ' copied up' : ''}: which layer?`, () => void ask(c.path))}
                        onClick={() => void ask(c.path)}
                      >
                        <Ring x={-4} y={-3} width={STACK_W} height={22} rx={4} />
                        <rect width={width} height={16} fill={st.color} fillOpacity={0.7} rx={2} />
                        <text x={width + 8} y={13} fontSize={13} fill={color.text}>
                          {c.path.length > 40 ? `…${c.path.slice(-39)}` : c.path} · {fmtBytes(c.copiedBytes)}
                          {c.copyUp ? ' copied up' : ''}
                        </text>
                      </g>
                    );
                  })}
                </g>
              </g>
            </g>
          </svg>
          {biggest && biggest.copiedBytes >= BIG_COPY ? (
            <div data-testid="layer-big-copyup" className="mx-4 mb-3 rounded border border-orange-500/60 bg-orange-950/40 p-3 text-sm text-orange-100">
              <b>{biggest.path}</b> was copied up whole: {fmtBytes(biggest.copiedBytes)} in the upper dir for a change to a {fmtBytes(biggest.lowerSize ?? 0)}{' '}
              file in a lower layer. Overlayfs copies the entire file on the first write — append to a 1 GB log inside a container and the container layer grows
              by 1 GB.
            </div>
          ) : null}
        </div>
        <div className="flex min-h-0 flex-col border-l border-slate-800">
          <form
            className="flex items-center gap-2 border-b border-slate-800 p-3"
            onSubmit={(e) => {
              e.preventDefault();
              if (query.trim()) void ask(query.trim());
            }}
          >
            <label className="text-sm text-slate-300" htmlFor="which-path">
              which layer?
            </label>
            <input
              id="which-path"
              data-testid="which-input"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              placeholder="/etc/passwd"
              className="min-w-0 flex-1 rounded border border-slate-600 bg-slate-900 px-2 py-1 font-mono text-sm text-slate-100"
            />
            <button type="submit" className="rounded bg-sky-700 px-3 py-1 text-sm font-semibold text-white hover:bg-sky-600" disabled={busy}>
              {busy ? '…' : 'find'}
            </button>
          </form>
          {which ? (
            <div data-testid="which-result" className="border-b border-slate-800 bg-slate-900/60 p-3 text-sm">
              <div className="font-mono font-semibold text-amber-200">{which.path}</div>
              <div className="text-slate-200">{which.explanation}</div>
              {which.hits.length ? (
                <ul className="mt-1 text-slate-300">
                  {which.hits.map((h) => (
                    <li key={String(h.layer)}>
                      {h === which.visible || (which.visible && h.layer === which.visible.layer) ? '▶ ' : '· '}
                      {h.layer === 'upper' ? 'upper dir' : `layer ${h.layer}`}: {h.type}
                      {h.type === 'file' ? `, ${fmtBytes(h.size)}` : ''}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
          <div className="flex flex-wrap items-center gap-2 px-3 pt-2">
            <Legend items={Object.values(KIND_STYLE).map((k) => ({ color: k.color, label: `${k.letter} ${k.label}` }))} />
          </div>
          <div className="flex gap-1 px-3 py-2 text-sm">
            {(['all', 'copyup', 'added', 'deleted', 'opaque'] as const).map((f) => (
              <button
                key={f}
                type="button"
                onClick={() => setFilter(f)}
                className={`rounded px-2 py-0.5 ${filter === f ? 'bg-slate-700 text-white' : 'text-slate-400 hover:text-slate-200'}`}
              >
                {f === 'copyup' ? 'copy-ups' : f}
              </button>
            ))}
            {snapshot.truncated ? (
              <span className="ml-auto text-slate-500">
                largest {snapshot.upper?.changes.length} of {snapshot.truncated}
              </span>
            ) : null}
          </div>
          <ul data-testid="layer-changes" className="min-h-0 flex-1 overflow-auto px-3 pb-3 text-sm">
            {changes.length === 0 ? <li className="py-2 text-slate-500">no changes in the container layer yet</li> : null}
            {changes.map((c) => {
              const st = styleOf(c);
              return (
                <li key={`${c.kind}:${c.path}`} data-testid={`change-${c.kind}-${c.path}`}>
                  <button
                    type="button"
                    onClick={() => void ask(c.path)}
                    onMouseMove={(e) =>
                      show(
                        e,
                        <span>
                          {st.label}
                          {c.copyUp
                            ? `: ${fmtBytes(c.copiedBytes)} copied from a ${fmtBytes(c.lowerSize ?? 0)} lower file`
                            : c.kind === 'deleted'
                              ? ': a character device 0:0 in the upper dir'
                              : c.kind === 'opaque'
                                ? ': trusted.overlay.opaque=y hides the lower directory'
                                : ''}
                        </span>,
                      )
                    }
                    onMouseLeave={hide}
                    className="flex w-full items-center gap-2 rounded px-1 py-0.5 text-left hover:bg-slate-800"
                  >
                    <span
                      className="inline-flex h-5 w-5 shrink-0 items-center justify-center rounded text-xs font-bold text-black"
                      style={{ background: st.color }}
                    >
                      {st.letter}
                    </span>
                    <span className={`min-w-0 flex-1 truncate font-mono ${c.kind === 'deleted' ? 'text-red-300 line-through' : 'text-slate-100'}`}>
                      {c.path}
                    </span>
                    <span className={`shrink-0 tabular-nums ${c.copiedBytes >= BIG_COPY ? 'font-bold text-orange-300' : 'text-slate-400'}`}>
                      {c.copiedBytes ? fmtBytes(c.copiedBytes) : ''}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
        <Tooltip tip={tip} />
      </div>
    </DiagramFrame>
  );
}
