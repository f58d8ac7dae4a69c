// Layout of the layer stack, as plain functions (no React, no DOM): the bars as overlayfs stacks
// them (the merged view on top, the upper dir under it, the image's layers down to layer 0 at the
// bottom), the upper dir's biggest entries by size, and what the diagram can say about a path
// without asking the server. test/unit/diagram-layout.test.ts pins the order.
import { scaleSqrt } from 'd3';
import type { LayerChangeView, LayerSnapshot, WhichLayerResult } from '../../server/engine/inspect/types';
import { fmtBytes, shortId } from './format';

export const LAYER = { stackW: 420, barH: 52, gap: 8, sizeBarMax: 220, sizeRow: 24, sizeRows: 8 } as const;
export const BIG_COPY = 50 * 1024 * 1024;

export type ChangeStyleKey = 'added' | 'copyup' | 'modified' | 'deleted' | 'opaque';

/** Which legend entry a change is drawn as: a modified file is a copy-up, a modified directory is not. */
export function changeStyleKey(c: LayerChangeView): ChangeStyleKey {
  if (c.kind === 'modified') return c.copyUp ? 'copyup' : 'modified';
  return c.kind;
}

export interface StackBar {
  key: string;
  label: string;
  sub: string;
  kind: 'merged' | 'upper' | 'layer';
  /** 'upper' or the layer index, as WhichLayerHit names it */
  layer?: number | 'upper';
  size?: number;
  /** top of the bar */
  y: number;
}

/** The bars top to bottom: merged, upper, layer n-1 … layer 0 (the bottom one drawn lowest). */
export function stackBars(s: LayerSnapshot): StackBar[] {
  const bars: Omit<StackBar, 'y'>[] = [
    { key: 'merged', label: "merged view (the container's /)", sub: s.merged?.dir ?? '', kind: 'merged' },
    {
      key: 'upper',
      label: `upper dir: ${s.upper?.changes.length ?? 0} changes, ${fmtBytes(s.upper?.bytes ?? 0)}`,
      sub: s.upper?.dir ?? '',
      kind: 'upper',
      layer: 'upper',
      size: s.upper?.bytes,
    },
    ...[...s.layers]
      .sort((a, b) => b.index - a.index)
      .map((l) => ({
        key: `l${l.index}`,
        label: `layer ${l.index} · ${shortId(l.diffId) || 'layer'} · ${fmtBytes(l.size)}`,
        sub: l.createdBy || l.dir,
        kind: 'layer' as const,
        layer: l.index,
        size: l.size,
      })),
  ];
  return bars.map((b, i) => ({ ...b, y: i * (LAYER.barH + LAYER.gap) }));
}

export const stackHeight = (bars: StackBar[]) => bars.length * (LAYER.barH + LAYER.gap);

export interface SizeMark {
  change: LayerChangeView;
  y: number;
  width: number;
}

/** The upper dir's biggest entries (at most eight), one bar each, area-true (sqrt) lengths. */
export function sizeMarks(s: LayerSnapshot): SizeMark[] {
  const all = s.upper?.changes ?? [];
  const maxBytes = Math.max(1, ...all.map((c) => Math.max(c.copiedBytes, c.lowerSize ?? 0)));
  const scale = scaleSqrt().domain([0, maxBytes]).range([0, LAYER.sizeBarMax]);
  return all
    .filter((c) => c.copiedBytes > 0)
    .sort((a, b) => b.copiedBytes - a.copiedBytes)
    .slice(0, LAYER.sizeRows)
    .map((c, i) => ({ change: c, y: 18 + i * LAYER.sizeRow, width: Math.max(2, scale(c.copiedBytes)) }));
}

/** What the changes alone say about a path (used when no server resolves it). */
export function inferWhich(s: LayerSnapshot, path: string): WhichLayerResult {
  const c = s.upper?.changes.find((x) => x.path === path);
  if (!c)
    return {
      path,
      visible: null,
      hits: [],
      hides: [],
      explanation: `${path}: not changed in the container; it comes from an image layer (ask the server for which one)`,
    };
  const upperHit = {
    layer: 'upper' as const,
    dir: s.upper!.dir,
    type: c.kind === 'deleted' ? ('whiteout' as const) : c.isDir ? ('dir' as const) : ('file' as const),
    size: c.size ?? 0,
  };
  if (c.kind === 'deleted')
    return { path, visible: null, hits: [upperHit], hides: [], explanation: `${path} is deleted: a whiteout in the upper dir hides the lower file` };
  if (c.copyUp)
    return {
      path,
      visible: upperHit,
      hits: [upperHit],
      hides: [],
      explanation: `${path}: a copy-up in the upper dir (${fmtBytes(c.copiedBytes)} copied) hides the ${fmtBytes(c.lowerSize ?? 0)} lower file`,
    };
  return { path, visible: upperHit, hits: [upperHit], hides: [], explanation: `${path} is new in the upper dir` };
}

export const VOLUME = { w: (LAYER.stackW - LAYER.gap) / 2, h: 44, gap: 8, caption: 22 } as const;

export interface VolumeBox {
  key: string;
  /** "volume data", "bind /srv/x", "tmpfs" */
  label: string;
  /** where the container sees it, and ro */
  sub: string;
  type: 'volume' | 'bind' | 'tmpfs';
  target: string;
  x: number;
  y: number;
}

/**
 * The mounts on top of the union, two to a row above the merged view: what a container writes
 * there is in no layer (the seed's "use volumes for data that changes"). Their band's height is
 * where the stack starts; no mounts, no band.
 */
export function volumeBoxes(s: LayerSnapshot): { boxes: VolumeBox[]; height: number } {
  const vols = s.volumes ?? [];
  if (!vols.length) return { boxes: [], height: 0 };
  const boxes = vols.map((v, i) => ({
    key: `${v.type}:${v.target}`,
    label:
      v.type === 'volume'
        ? `volume ${v.name && /^[0-9a-f]{64}$/.test(v.name) ? shortId(v.name) : (v.name ?? '')}`
        : v.type === 'bind'
          ? `bind ${v.source ?? ''}`
          : 'tmpfs (memory)',
    sub: `on ${v.target}${v.readOnly ? ' · read-only' : ''}`,
    type: v.type,
    target: v.target,
    x: (i % 2) * (VOLUME.w + LAYER.gap),
    y: VOLUME.caption + Math.floor(i / 2) * (VOLUME.h + VOLUME.gap),
  }));
  return { boxes, height: VOLUME.caption + Math.ceil(vols.length / 2) * (VOLUME.h + VOLUME.gap) + 10 };
}
