'use client';
// The cgroup hierarchy above the charts: glassbox/ → learners/ → <lid>/ → containers. A learner's
// quota is not on their containers but on the group above them, so the picture shows where each
// limit lives: the group's row carries its use against the quota (all its containers together).
import type { CgroupSnapshot } from '../../server/engine/inspect/types';
import { color } from '../theme';
import { cgroupTree, CT_WIDTH } from './cgroup-tree-layout';

export interface CgroupTreeProps {
  snapshot: Pick<CgroupSnapshot, 'containers' | 'groups' | 'parent'>;
  selectedId: string | null;
  /** pick a container for the charts (absent: the rows are not buttons) */
  onPick?: (containerId: string) => void;
}

const KIND_COLOR = { parent: color.textMuted, learners: color.textMuted, group: color.warnText, container: color.container, folded: color.textFaint } as const;

export default function CgroupTree({ snapshot, selectedId, onPick }: CgroupTreeProps) {
  const tree = cgroupTree(snapshot, selectedId);
  if (!tree) return null;
  return (
    <svg data-testid="cgroup-tree" viewBox={`0 0 ${CT_WIDTH} ${tree.height}`} className="w-full" role="tree" aria-label="cgroup hierarchy: the parent, the learners' groups and their containers">
      {tree.links.map((l) => (
        <path key={`${l.from}>${l.to}`} d={l.d} fill="none" stroke={color.link} strokeWidth={1.5} />
      ))}
      {tree.nodes.map((n) => {
        const pickable = n.kind === 'container' && onPick && n.containerId;
        return (
          <g
            key={n.key}
            data-testid={`cgroup-tree-${n.kind}`}
            data-key={n.key}
            role="treeitem"
            aria-level={n.depth + 1}
            aria-selected={n.selected}
            transform={`translate(${n.x},${n.y})`}
            className={pickable ? 'cursor-pointer' : undefined}
            onClick={pickable ? () => onPick!(n.containerId!) : undefined}
          >
            {n.selected ? <rect x={-6} y={-13} width={CT_WIDTH - n.x - 10} height={26} rx={4} fill={color.selected} opacity={0.6} /> : null}
            <rect x={-1} y={-5} width={10} height={10} rx={2} fill={KIND_COLOR[n.kind]} />
            <text x={16} y={5} fontSize={14} fontFamily="monospace" fill={color.text}>
              {n.label}
            </text>
            <text x={16 + n.label.length * 9 + 12} y={5} fontSize={13} fill={n.kind === 'group' ? color.textSoft : color.textMuted}>
              {n.detail}
            </text>
            {n.kind === 'group' && n.memoryFraction != null ? (
              <g transform={`translate(${CT_WIDTH - n.x - 190},-5)`} aria-label={`memory ${Math.round(n.memoryFraction * 100)}% of the quota`}>
                <rect width={160} height={10} rx={2} fill={color.raised} />
                <rect width={160 * n.memoryFraction} height={10} rx={2} fill={n.memoryFraction > 0.9 ? color.danger : color.memAnon} />
              </g>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
