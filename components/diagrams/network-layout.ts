// Layout of the network topology, as a plain function (no React, no DOM): the host stack on top,
// each bridge under it with its containers in rows, the containers standing alone in a column on
// the right. test/unit/diagram-layout.test.ts pins what matters: every node is inside the viewBox,
// each bridge (and its uplink and bus) is left of its containers, and no line crosses a box.
import type { NetEndpoint, NetworkSnapshot } from '../../server/engine/inspect/types';

export const NET = {
  boxW: 178,
  boxH: 92,
  colGap: 18,
  /** the veth's run from the bridge (or a bus) down to a box */
  linkH: 78,
  hostH: 128,
  bridgeH: 40,
  /** left margin lanes, left to right: the uplink from the host stack, a bridge's bus, then boxes */
  uplinkX: 16,
  busX: 30,
  left: 44,
  sideW: 220,
  isolatedH: 38,
  isolatedGap: 8,
  sharedLine: 30,
  /** the container detail panel beside the picture, px */
  detailW: 340,
  /** the NAT rules' column in the host box: where it starts (at least), its width for 62 characters */
  natMinX: 420,
  natW: 430,
} as const;

export interface PlacedEndpoint {
  ep: NetEndpoint;
  x: number;
  y: number;
  /** where its veth starts: the bridge for the first row, a bus line above later rows */
  bridgeY: number;
}

export interface PlacedBridge {
  bridge: string;
  x: number;
  y: number;
  width: number;
  eps: PlacedEndpoint[];
  /** y of each bus line (the bridge drawn again above rows 2, 3, …) */
  buses: number[];
}

export interface NetworkLayout {
  host: { x: number; y: number; width: number; height: number };
  /** the dashed line from the host stack to the bridges, in the left lane */
  uplink: { x: number; y0: number; y1: number } | null;
  placed: PlacedBridge[];
  side: { x: number; y: number; isolated: { containerId: string; y: number }[]; shared: { containerId: string; y: number }[] };
  /** the picture's size: the svg's viewBox is 0 0 width height */
  width: number;
  height: number;
}

export function networkLayout(s: NetworkSnapshot): NetworkLayout {
  const { boxW, boxH, colGap, linkH, hostH, bridgeH, left } = NET;
  const n = s.endpoints.length;
  const cols = Math.max(4, Math.min(12, Math.ceil(Math.sqrt(n * 2.2))));
  const groups = new Map<string, NetEndpoint[]>();
  for (const b of s.bridges) groups.set(b.name, []);
  for (const ep of s.endpoints) {
    const k = ep.bridge ?? '(no bridge)';
    const g = groups.get(k) ?? [];
    g.push(ep);
    groups.set(k, g);
  }
  const hostY = 10;
  let y = hostY + hostH + 40;
  const placed: PlacedBridge[] = [];
  for (const [bridge, eps] of groups) {
    const rowsN = Math.max(1, Math.ceil(eps.length / cols));
    const shownCols = Math.max(4, Math.min(cols, eps.length));
    // wide enough for its boxes and its label
    const width = Math.max(400, shownCols * (boxW + colGap));
    const bridgeY = y + bridgeH;
    const items = eps.map((ep, i) => {
      const r = Math.floor(i / cols);
      const c = i % cols;
      const top = bridgeY + linkH + r * (boxH + linkH);
      // row 0 hangs from the bridge; later rows from a bus line in the gap above them (the bridge
      // drawn again), so no veth crosses another container's box
      return { ep, x: left + c * (boxW + colGap), y: top, bridgeY: r === 0 ? bridgeY : top - linkH + 6 };
    });
    const buses = Array.from({ length: rowsN - 1 }, (_, r) => bridgeY + linkH + (r + 1) * (boxH + linkH) - linkH + 6);
    placed.push({ bridge, x: left, y, width, eps: items, buses });
    y = bridgeY + rowsN * (boxH + linkH) + 40;
  }
  const mainW = Math.max(900, ...placed.map((p) => p.x + p.width + 20));
  const sideX = mainW + 30;
  const sideY = hostY + hostH + 40;
  const isolated = s.isolated.map((c, i) => ({ containerId: c.containerId, y: sideY + 14 + i * (NET.isolatedH + NET.isolatedGap) }));
  const sharedTop = sideY + 24 + s.isolated.length * (NET.isolatedH + NET.isolatedGap);
  const shared = s.shared.map((c, i) => ({ containerId: c.containerId, y: sharedTop + i * NET.sharedLine }));
  const sideBottom = Math.max(isolated.length ? isolated[isolated.length - 1].y + NET.isolatedH : 0, shared.length ? shared[shared.length - 1].y + 10 : 0);
  // the shared lines are text: room for the longest one (about 7 px a character at 13 px)
  const sharedW = Math.max(0, ...s.shared.map((c) => (c.name.length + c.with.length + 24) * 7));
  const hasSide = s.isolated.length + s.shared.length > 0;
  const width = hasSide ? sideX + Math.max(NET.sideW, sharedW) + 20 : mainW;
  return {
    // the host box spans the left lane too: the uplink leaves from its bottom edge
    host: { x: 8, y: hostY, width: mainW - 28, height: hostH },
    uplink: placed.length ? { x: NET.uplinkX, y0: hostY + hostH, y1: placed[placed.length - 1].y + bridgeH / 2 } : null,
    placed,
    side: { x: sideX, y: sideY, isolated, shared },
    width,
    height: Math.max(y, sideBottom + 20),
  };
}

/**
 * The svg's viewBox for a picture drawn in a box of the given pixels: 1:1 when it fits, shrunk to
 * fit when it does not (every node in view), but never below minScale: past that the picture keeps
 * readable text and the learner pans and zooms (200 containers do not fit a laptop screen).
 */
export function fitViewBox(layout: { width: number; height: number }, box: { w: number; h: number } | null, minScale = 0.75): { width: number; height: number } {
  if (!box || box.w <= 0 || box.h <= 0) return { width: layout.width, height: layout.height };
  const scale = Math.max(minScale, Math.min(1, box.w / layout.width, box.h / layout.height));
  return { width: box.w / scale, height: box.h / scale };
}

/**
 * The NAT / published-ports column in the host box, in the picture's units: at a fixed place near
 * the left (not half way along the host box, which put it out of view when 200 containers made the
 * picture wide), so the first screenful always shows it.
 */
export function natBox(layout: NetworkLayout): { x0: number; x1: number } {
  const x0 = layout.host.x + NET.natMinX;
  return { x0, x1: x0 + NET.natW };
}

/**
 * Where the detail panel goes for a diagram box of wrapW × svgH px: beside the picture only when
 * the picture, fitted to what is left, still shows the whole NAT column (at 1024 px it does not:
 * the panel then goes below, never over the NAT box).
 */
export function detailPlacement(layout: NetworkLayout, wrapW: number, svgH: number): 'side' | 'below' {
  const svgW = wrapW - NET.detailW;
  if (svgW <= 0) return 'below';
  return fitViewBox(layout, { w: svgW, h: svgH }).width >= natBox(layout).x1 ? 'side' : 'below';
}

/** A container's box (a bridge endpoint) in the picture, or null when it has none. */
export function endpointBox(layout: NetworkLayout, containerId: string): { x: number; y: number; w: number; h: number } | null {
  for (const p of layout.placed) for (const e of p.eps) if (e.ep.containerId === containerId) return { x: e.x, y: e.y, w: NET.boxW, h: NET.boxH };
  const iso = layout.side.isolated.find((c) => c.containerId === containerId);
  if (iso) return { x: layout.side.x, y: iso.y, w: 200, h: NET.isolatedH };
  return null;
}

/**
 * The pan that brings the viewed container into the view (viewBox units, no zoom): none when its
 * box is already in view, else the box centred — but never a pan past the picture's top-left corner
 * (the host stack stays reachable where it was).
 */
export function focusPan(layout: NetworkLayout, containerId: string | null | undefined, view: { width: number; height: number }): { x: number; y: number } | null {
  if (!containerId) return null;
  const b = endpointBox(layout, containerId);
  if (!b) return null;
  if (b.x >= 0 && b.y >= 0 && b.x + b.w <= view.width && b.y + b.h <= view.height) return null;
  const x = Math.min(0, view.width / 2 - (b.x + b.w / 2));
  const y = Math.min(0, view.height / 2 - (b.y + b.h / 2));
  return { x, y };
}
