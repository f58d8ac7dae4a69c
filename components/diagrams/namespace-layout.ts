// Layout of the namespace diagram, as plain functions (no React, no DOM): the table's rows (the
// host, each container, other process groups with namespaces of their own), the bars joining the
// cells of a shared namespace, and the pid namespace tree below. test/unit/diagram-layout.test.ts
// pins the rows and where things sit.
import { hierarchy, tree, type HierarchyPointLink, type HierarchyPointNode } from 'd3';
import type { NamespaceSnapshot, NsProcess, PidNsLevel } from '../../server/engine/inspect/types';
import { shortId } from './format';

export const NS_TYPES = ['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time'] as const;
export type NsType = (typeof NS_TYPES)[number];

export const NS = {
  labelW: 230,
  colW: 132,
  rowH: 40,
  headH: 34,
  treeGap: 60,
  procLine: 19,
  maxTreeProcs: 8,
  treeNodeW: 270,
} as const;

export interface NsRow {
  key: string;
  label: string;
  sub: string;
  kind: 'host' | 'container' | 'other';
  containerId: string | null;
  pid: number | null;
  ns: Partial<Record<NsType, number>>;
  count: number;
}

/** The rows: the host first, then each container with a process (by its init), then other groups (at most 60). */
export function buildRows(s: NamespaceSnapshot): NsRow[] {
  const rows: NsRow[] = [{ key: 'host', label: 'host', sub: 'PID 1 and the server', kind: 'host', containerId: null, pid: null, ns: s.host, count: 0 }];
  const byContainer = new Map<string, NsProcess[]>();
  for (const p of s.processes) {
    if (p.containerId && p.role !== 'monitor') {
      const l = byContainer.get(p.containerId) ?? [];
      l.push(p);
      byContainer.set(p.containerId, l);
    }
  }
  for (const c of s.containers) {
    const procs = byContainer.get(c.id) ?? [];
    const init = procs.find((p) => p.role === 'init') ?? procs[0];
    if (!init) continue;
    rows.push({ key: c.id, label: c.name, sub: `${shortId(c.id)} · init ${init.pid}`, kind: 'container', containerId: c.id, pid: init.pid, ns: init.ns, count: procs.length });
  }
  // processes outside containers with namespaces of their own (unshare, other runtimes)
  const others = new Map<string, NsRow>();
  for (const p of s.processes) {
    if (p.containerId) continue;
    const own = NS_TYPES.some((t) => p.ns[t] !== undefined && p.ns[t] !== s.host[t]);
    if (!own) {
      rows[0].count++;
      continue;
    }
    const sig = NS_TYPES.map((t) => p.ns[t] ?? 0).join(',');
    const r = others.get(sig);
    if (r) r.count++;
    else if (others.size < 60) others.set(sig, { key: `other-${sig}`, label: `${p.comm}`, sub: `pid ${p.pid} · not a container`, kind: 'other', containerId: null, pid: p.pid, ns: p.ns, count: 1 });
  }
  return [...rows, ...others.values()];
}

/** The host row, the container's row and the rows sharing one of its own namespaces. */
export function focusRows(rows: NsRow[], s: NamespaceSnapshot, containerId: string): NsRow[] {
  const mine = rows.find((r) => r.containerId === containerId);
  if (!mine) return rows.filter((r) => r.kind === 'host');
  const own = new Set(NS_TYPES.filter((t) => mine.ns[t] !== undefined && mine.ns[t] !== s.host[t]).map((t) => `${t}:${mine.ns[t]}`));
  return rows.filter((r) => r.kind === 'host' || r === mine || NS_TYPES.some((t) => r.ns[t] !== undefined && own.has(`${t}:${r.ns[t]}`)));
}

/** The pid tree cut down to the levels holding the container's processes (and their nested levels). */
export function focusTree(root: PidNsLevel, containerId: string): PidNsLevel {
  const holds = (l: PidNsLevel): boolean => l.owners.includes(containerId) || l.processes.some((p) => p.containerId === containerId) || l.children.some(holds);
  return { ...root, children: root.children.filter(holds) };
}

export interface SharedBar {
  type: NsType;
  inode: number;
  /** the row indexes holding it, top first */
  rows: number[];
  /** 0..3: bars in one column sit side by side */
  lane: number;
  x: number;
  y0: number;
  y1: number;
}

export const colX = (i: number) => NS.labelW + i * NS.colW;
export const rowY = (i: number) => NS.headH + i * NS.rowH;

/** A bar for each namespace (not the host's: those are grey already) that two or more rows share. */
export function sharedBars(rows: NsRow[], host: NamespaceSnapshot['host']): SharedBar[] {
  const out: SharedBar[] = [];
  for (const [ci, t] of NS_TYPES.entries()) {
    const groups = new Map<number, number[]>();
    rows.forEach((r, i) => {
      const ino = r.ns[t];
      if (ino === undefined) return;
      const g = groups.get(ino) ?? [];
      g.push(i);
      groups.set(ino, g);
    });
    let lane = 0;
    for (const [inode, rs] of groups) {
      if (rs.length < 2 || inode === host[t]) continue;
      const l = lane++ % 4;
      out.push({ type: t, inode, rows: rs, lane: l, x: colX(ci) + 8 + l * 4, y0: rowY(Math.min(...rs)) + 8, y1: rowY(Math.max(...rs)) + NS.rowH - 8 });
    }
  }
  return out;
}

export interface PidTreeLayout {
  nodes: HierarchyPointNode<PidNsLevel>[];
  links: HierarchyPointLink<PidNsLevel>[];
  /** a level's box height */
  h: (d: PidNsLevel) => number;
  /** the translate of the tree's group: below the table */
  origin: { x: number; y: number };
  height: number;
}

/** The pid namespace tree, left to right (d3 tree: node.x is the vertical, node.y the horizontal). */
export function pidTreeLayout(top: PidNsLevel, treeTop: number): PidTreeLayout {
  const root = hierarchy<PidNsLevel>(top, (d) => d.children);
  const h = (d: PidNsLevel) => 36 + Math.min(d.processes.length, NS.maxTreeProcs + 1) * NS.procLine;
  const maxH = Math.max(...root.descendants().map((d) => h(d.data)));
  const laid = tree<PidNsLevel>().nodeSize([maxH + 16, NS.treeNodeW + 70])(root);
  const nodes = laid.descendants();
  const minX = Math.min(...nodes.map((n) => n.x));
  const height = Math.max(...nodes.map((n) => n.x)) - minX + maxH;
  return { nodes, links: laid.links(), h, origin: { x: 10, y: treeTop - minX + maxH / 2 + 10 }, height };
}

export interface NamespaceLayout {
  rows: NsRow[];
  shared: SharedBar[];
  tree: PidTreeLayout | null;
  gridH: number;
  treeTop: number;
  /** the table's width (the row backgrounds) */
  gridW: number;
  width: number;
  height: number;
}

export function namespaceLayout(s: NamespaceSnapshot, rows: NsRow[], pidTree: PidNsLevel | null): NamespaceLayout {
  const gridH = NS.headH + rows.length * NS.rowH;
  const treeTop = gridH + NS.treeGap;
  const t = pidTree ? pidTreeLayout(pidTree, treeTop) : null;
  const treeW = t ? Math.max(...t.nodes.map((n) => n.y)) + NS.treeNodeW + 20 : 0;
  const gridW = NS.labelW + NS_TYPES.length * NS.colW + 20;
  return {
    rows,
    shared: sharedBars(rows, s.host),
    tree: t,
    gridH,
    treeTop,
    gridW,
    width: Math.max(gridW, treeW),
    height: treeTop + (t?.height ?? 0) + 40,
  };
}

// ---------------------------------------------------------------- process states

export interface PidPressure {
  containerId: string;
  name: string;
  zombies: number;
  /** zombie host pids, for the tooltip */
  zombiePids: number[];
  current: number | null;
  limit: number | null;
  refused: number;
  /** pids.current reached pids.max, or a fork was refused */
  full: boolean;
}

/** Per container: its zombies and whether pids.max stops new processes (the EAGAIN of `+ terminal`). */
export function pidPressure(s: NamespaceSnapshot): PidPressure[] {
  const out: PidPressure[] = [];
  for (const c of s.containers) {
    const zombies = s.processes.filter((p) => p.containerId === c.id && p.role !== 'monitor' && p.state === 'Z');
    const pids = c.pids;
    const full = !!pids && ((pids.limit !== null && pids.current >= pids.limit) || pids.refused > 0);
    out.push({ containerId: c.id, name: c.name, zombies: zombies.length, zombiePids: zombies.map((z) => z.pid), current: pids?.current ?? null, limit: pids?.limit ?? null, refused: pids?.refused ?? 0, full });
  }
  return out;
}

/** "60 zombies", "1 zombie". */
export function zombieCount(n: number): string {
  return `${n} zombie${n === 1 ? '' : 's'}`;
}

/** Why a new process cannot start, in the learner's words, or null when nothing stops it. */
export function pidsExplanation(p: PidPressure): string | null {
  if (!p.full) return null;
  const at = p.limit !== null && p.current !== null ? `${p.current} of pids.max = ${p.limit}` : `pids.max`;
  const held = p.zombies ? ` ${zombieCount(p.zombies)} hold${p.zombies === 1 ? 's' : ''} a pid each (exited, never reaped);` : '';
  const refused = p.refused ? ` ${p.refused} fork${p.refused === 1 ? '' : 's'} refused so far.` : '';
  return `${p.name}: ${at} in use —${held} fork() fails with EAGAIN, so "+ terminal" cannot start a shell.${refused} Reap them: make their parent wait(), end the parent (init adopts them), or run with --init.`;
}

/** A pid level's processes, the living first: zombies sink to the end (and into "… and N more"). */
export function orderForTree<T extends { pid: number }>(procs: T[], stateOf: (pid: number) => string): T[] {
  return [...procs].sort((a, b) => Number(stateOf(a.pid) === 'Z') - Number(stateOf(b.pid) === 'Z'));
}

/**
 * How the picture is drawn in its svg of `box` px: its text `scale` times its own size (Large type:
 * as much larger as the page's text), and at least `minWidth` px wide so that every column of the
 * table stays (the svg then scrolls sideways inside its own box; the page does not).
 */
export function namespaceFit(layout: { gridW: number }, box: { w: number; h: number } | null, largeType: boolean): { scale: number; minWidth: number; viewBox: string | undefined } {
  const scale = largeType ? 21 / 16 : 1; // app/globals.css: html.large-type font-size 21px over 16px
  const minWidth = Math.ceil(layout.gridW * scale);
  const w = box ? Math.max(box.w, minWidth) : 0;
  return { scale, minWidth, viewBox: box && box.h > 0 ? `0 0 ${w / scale} ${box.h / scale}` : undefined };
}
