// Layout of the mount diagram, as plain functions (no React, no DOM): one row per mount in tree
// order (parents before children, indented by depth), its badges (propagation, ro, masked) and
// the detail lines under it: overlay's lowerdir / upperdir / workdir one per line, a bind's host
// path, what masks a masked path, the host mounts of its peer group. test/unit/mount-layout.test.ts
// pins the rows and the lines.
import type { MountNode, MountSnapshot } from '../../server/engine/inspect/types';

export const MT = { indent: 22, head: 24, line: 18, pad: 8, gap: 4, width: 1100, badgeW: 84 } as const;

export type DetailKind = 'lower' | 'upper' | 'work' | 'bind' | 'masked' | 'peers' | 'readonly';
export interface DetailLine {
  kind: DetailKind;
  text: string;
}

export type BadgeKind = 'shared' | 'slave' | 'private' | 'unbindable' | 'ro' | 'masked' | 'bind' | 'overlay';
export interface Badge {
  kind: BadgeKind;
  text: string;
}

export interface MountRow {
  node: MountNode;
  x: number;
  y: number;
  h: number;
  badges: Badge[];
  lines: DetailLine[];
  /** the parent's row index, for the tree connector; -1 for the root */
  parent: number;
}

/** The propagation badge: shared:N, master:N (a slave of group N), both, or private. */
export function propagationBadge(n: MountNode): Badge {
  const p = n.propagation;
  if (p.unbindable) return { kind: 'unbindable', text: 'unbindable' };
  if (p.shared !== undefined && p.master !== undefined) return { kind: 'shared', text: `shared:${p.shared} master:${p.master}` };
  if (p.shared !== undefined) return { kind: 'shared', text: `shared:${p.shared}` };
  if (p.master !== undefined) return { kind: 'slave', text: `master:${p.master}` };
  return { kind: 'private', text: 'private' };
}

export function mountBadges(n: MountNode): Badge[] {
  const out: Badge[] = [propagationBadge(n)];
  if (n.readOnly) out.push({ kind: 'ro', text: 'ro' });
  if (n.masked) out.push({ kind: 'masked', text: 'masked' });
  if (n.bind) out.push({ kind: 'bind', text: 'bind' });
  if (n.overlay) out.push({ kind: 'overlay', text: `overlay · ${n.overlay.lowerdir.length} lower` });
  return out;
}

/** The lines under a mount's head line. */
export function mountDetailLines(n: MountNode): DetailLine[] {
  const out: DetailLine[] = [];
  if (n.overlay) {
    n.overlay.lowerdir.forEach((d, i) => out.push({ kind: 'lower', text: `lowerdir ${i === 0 ? '(top) ' : i === n.overlay!.lowerdir.length - 1 ? '(bottom) ' : ''}${d}` }));
    if (n.overlay.upperdir) out.push({ kind: 'upper', text: `upperdir ${n.overlay.upperdir}` });
    if (n.overlay.workdir) out.push({ kind: 'work', text: `workdir ${n.overlay.workdir}` });
  }
  if (n.bind) out.push({ kind: 'bind', text: `bind of the host's ${n.bind.hostPath}${n.bind.from === 'device' ? ' (found by device and root)' : ''}` });
  if (n.masked) out.push({ kind: 'masked', text: `masked: ${n.masked.by}` });
  if (n.readonlyPath) out.push({ kind: 'readonly', text: 'read-only: writing here would change the host kernel' });
  if (n.hostPeers.length) {
    const what = n.propagation.shared !== undefined ? `peer group ${n.propagation.shared}` : `receives from group ${n.propagation.master}`;
    out.push({ kind: 'peers', text: `${what} with the host's ${n.hostPeers.join(', ')}` });
  }
  return out;
}

export function rowHeight(lines: number): number {
  return MT.head + lines * MT.line + MT.pad;
}

export interface MountLayout {
  rows: MountRow[];
  width: number;
  height: number;
}

/**
 * Rows top to bottom in the snapshot's tree order. `collapsed` holds mount ids whose subtree is
 * folded (their children are skipped, the row says how many).
 */
export function mountLayout(s: MountSnapshot, collapsed: ReadonlySet<number> = new Set()): MountLayout {
  const rows: MountRow[] = [];
  const index = new Map<number, number>();
  const skip = new Set<number>();
  let y = 0;
  let maxDepth = 0;
  for (const n of s.mounts) {
    if (skip.has(n.parentId)) {
      skip.add(n.mountId);
      continue;
    }
    if (collapsed.has(n.mountId)) skip.add(n.mountId);
    const lines = mountDetailLines(n);
    const h = rowHeight(lines.length);
    index.set(n.mountId, rows.length);
    rows.push({ node: n, x: n.depth * MT.indent, y, h, badges: mountBadges(n), lines, parent: index.get(n.parentId) ?? -1 });
    y += h + MT.gap;
    maxDepth = Math.max(maxDepth, n.depth);
  }
  return { rows, width: MT.width + maxDepth * MT.indent, height: y };
}

/** How many mounts are under a mount (all depths): the count a folded row shows. */
export function descendants(s: MountSnapshot, mountId: number): number {
  const kids = new Map<number, number[]>();
  for (const n of s.mounts) kids.set(n.parentId, [...(kids.get(n.parentId) ?? []), n.mountId]);
  let count = 0;
  const stack = [...(kids.get(mountId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    count++;
    stack.push(...(kids.get(id) ?? []));
  }
  return count;
}
