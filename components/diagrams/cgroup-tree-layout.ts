// Layout of the cgroup hierarchy strip above the charts, as plain functions (no React, no DOM).
// A learner's containers are not children of glassbox/ directly: they sit in the learner's group,
//   glassbox/ → learners/ → <lid>/ → <container>
// and the group's limits (the learner's quota) hold all of them together. The strip draws that
// tree as an indented outline (one row a cgroup, elbows from parent to child), each group with its
// usage against its quota. test/unit/cgroup-tree-layout.test.ts pins the nesting.
import type { CgroupGroup, CgroupSnapshot } from '../../server/engine/inspect/types';

export const CT_ROW_H = 30;
export const CT_INDENT = 30;
export const CT_PAD = { l: 16, t: 10 };
export const CT_WIDTH = 1400;
/** rows beyond this fold the containers of groups other than the selected one into one row each */
export const CT_MAX_ROWS = 14;

export type TreeNodeKind = 'parent' | 'learners' | 'group' | 'container' | 'folded';

export interface TreeNode {
  key: string;
  kind: TreeNodeKind;
  /** the directory's name, as ls shows it */
  label: string;
  /** limits and usage, one line */
  detail: string;
  depth: number;
  row: number;
  x: number;
  y: number;
  /** the key of the parent node (null for the root) */
  parentKey: string | null;
  /** a container: its id (clicking picks it); a group: its learner id */
  containerId?: string;
  learnerId?: string;
  selected: boolean;
  /** a group: memory used / limit, 0..1 (null when unlimited) */
  memoryFraction?: number | null;
}

export interface TreeLink {
  from: string;
  to: string;
  /** an elbow: down from the parent's marker, then right to the child's */
  d: string;
}

export interface CgroupTree {
  nodes: TreeNode[];
  links: TreeLink[];
  height: number;
}

const MiB = 1024 * 1024;
const fmtMem = (n: number | null) => (n === null ? 'no limit' : n >= 1024 * MiB ? `${(n / 1024 / MiB).toFixed(1)} GiB` : `${Math.round(n / MiB)} MiB`);

/** One line of a group's use against its quota: "memory 41 MiB / 64 MiB · cpu 0.31 / 0.5 · pids 7 / 64". */
export function groupDetail(g: CgroupGroup): string {
  const parts = [
    `memory ${fmtMem(g.memory)} / ${fmtMem(g.memoryLimit)}`,
    `cpu ${g.cpu.toFixed(2)} / ${g.cpuLimit === null ? 'no quota' : g.cpuLimit}`,
    `pids ${g.pids} / ${g.pidsLimit ?? 'max'}`,
  ];
  if (g.oomKills) parts.push(`${g.oomKills} OOM kill${g.oomKills > 1 ? 's' : ''}`);
  if (g.forksRefused) parts.push(`${g.forksRefused} forks refused`);
  return parts.join(' · ');
}

/**
 * The tree of the snapshot's cgroups, or null when no container is in a group (then the charts
 * alone say it all: glassbox/<id>). `selectedId` is the container the charts show.
 */
export function cgroupTree(snapshot: Pick<CgroupSnapshot, 'containers' | 'groups' | 'parent'>, selectedId: string | null): CgroupTree | null {
  const groups = snapshot.groups ?? [];
  if (groups.length === 0) return null;
  const byId = new Map(snapshot.containers.map((c) => [c.containerId, c]));
  const selectedGroup = groups.find((g) => selectedId !== null && g.containers.includes(selectedId))?.group ?? null;
  const total = 2 + snapshot.containers.length + groups.length;
  const fold = total > CT_MAX_ROWS;

  const nodes: TreeNode[] = [];
  const add = (n: Omit<TreeNode, 'row' | 'x' | 'y'>) => {
    const row = nodes.length;
    nodes.push({ ...n, row, x: CT_PAD.l + n.depth * CT_INDENT, y: CT_PAD.t + row * CT_ROW_H + CT_ROW_H / 2 });
  };
  const parentName = snapshot.parent ?? 'glassbox';
  add({ key: 'parent', kind: 'parent', label: `${parentName}/`, detail: 'the engine\'s cgroup: every container is below it', depth: 0, parentKey: null, selected: false });
  // the teacher's own containers: directly in glassbox/
  const inGroup = new Set(groups.flatMap((g) => g.containers));
  for (const c of snapshot.containers) {
    if (inGroup.has(c.containerId) || c.group) continue;
    add({ key: `c:${c.containerId}`, kind: 'container', label: `${c.containerId.slice(0, 12)}/`, detail: c.name, depth: 1, parentKey: 'parent', containerId: c.containerId, selected: c.containerId === selectedId });
  }
  add({ key: 'learners', kind: 'learners', label: 'learners/', detail: "one group a learner: its limits are the learner's quota, for all their containers together", depth: 1, parentKey: 'parent', selected: false });
  for (const g of [...groups].sort((a, b) => a.learnerId.localeCompare(b.learnerId))) {
    const gkey = `g:${g.group}`;
    add({
      key: gkey,
      kind: 'group',
      label: `${g.learnerId}/`,
      detail: groupDetail(g),
      depth: 2,
      parentKey: 'learners',
      learnerId: g.learnerId,
      selected: g.group === selectedGroup,
      memoryFraction: g.memoryLimit ? Math.min(1, g.memory / g.memoryLimit) : null,
    });
    if (fold && g.group !== selectedGroup) {
      add({ key: `f:${g.group}`, kind: 'folded', label: `${g.containers.length} container${g.containers.length === 1 ? '' : 's'}`, detail: '', depth: 3, parentKey: gkey, selected: false });
      continue;
    }
    for (const id of g.containers) {
      add({ key: `c:${id}`, kind: 'container', label: `${id.slice(0, 12)}/`, detail: byId.get(id)?.name ?? '', depth: 3, parentKey: gkey, containerId: id, selected: id === selectedId });
    }
  }

  const at = new Map(nodes.map((n) => [n.key, n]));
  const links: TreeLink[] = [];
  for (const n of nodes) {
    if (!n.parentKey) continue;
    const p = at.get(n.parentKey)!;
    // from just below the parent's marker, down to the child's row, then across to its marker
    const x0 = p.x + 6;
    links.push({ from: p.key, to: n.key, d: `M${x0},${p.y + 7}V${n.y}H${n.x - 2}` });
  }
  return { nodes, links, height: CT_PAD.t * 2 + nodes.length * CT_ROW_H };
}
