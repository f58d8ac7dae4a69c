'use client';
// The mount view: the container's mount tree as its init sees it (/proc/<init>/mountinfo), one row
// per mount, children indented under their parent. Each row has its propagation (shared:N = a
// peer group whose mounts travel both ways; master:N = a slave that only receives; private), its
// read-only and masked marks, and under it what the row is: the overlay root's lowerdir / upperdir
// / workdir one per line, a bind's host path, what masks a masked path (/dev/null over a file, an
// empty read-only tmpfs over a directory), the host mounts in the same peer group. Every row is
// reachable by keyboard (Tab, Enter folds or unfolds its children).
import { useMemo, useRef, useState } from 'react';
import type { MountSnapshot } from '../../server/engine/inspect/types';
import { color } from '../theme';
import { Button, DiagramFrame, Legend, pressable, Ring, Tooltip, useTooltip } from './common';
import { descendants, MT, mountLayout, type BadgeKind, type DetailKind } from './mount-layout';

export interface MountDiagramProps {
  snapshot: MountSnapshot | null;
  className?: string;
}

const BADGE: Record<BadgeKind, string> = {
  shared: color.mountShared,
  slave: color.mountSlave,
  private: color.mountPrivate,
  unbindable: color.mountPrivate,
  ro: color.mountReadOnly,
  masked: color.mountMasked,
  bind: color.mountBind,
  overlay: color.mountOverlay,
};

const LINE: Record<DetailKind, string> = {
  lower: color.textSoft,
  upper: color.mountOverlay,
  work: color.textMuted,
  bind: color.mountBind,
  masked: color.mountMasked,
  peers: color.mountShared,
  readonly: color.mountReadOnly,
};

export default function MountDiagram({ snapshot, className }: MountDiagramProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const { tip, showAt, show, hide } = useTooltip(wrap);
  const [collapsed, setCollapsed] = useState<Set<number>>(new Set());
  const layout = useMemo(() => (snapshot?.state === 'ok' ? mountLayout(snapshot, collapsed) : null), [snapshot, collapsed]);
  const toggle = (id: number) =>
    setCollapsed((c) => {
      const n = new Set(c);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  if (!snapshot) {
    return (
      <DiagramFrame title="Mounts" testId="mount-diagram">
        <div className="p-6 text-slate-400">Reading the container&apos;s mountinfo…</div>
      </DiagramFrame>
    );
  }
  if (snapshot.state !== 'ok' || !layout) {
    return (
      <DiagramFrame title="Mounts" testId="mount-diagram">
        <div data-testid="mount-state" className="p-6 text-slate-300">
          {snapshot.message ?? 'No mount tree.'}
        </div>
      </DiagramFrame>
    );
  }
  const t = snapshot.totals;
  return (
    <DiagramFrame
      testId="mount-diagram"
      title="Mounts"
      subtitle={
        <span>
          /proc/{snapshot.pid}/mountinfo · mnt:[{snapshot.mountNs}] (the host&apos;s is mnt:[{snapshot.hostMountNs}]) · {t.mounts} mounts · {t.masked} masked · {t.readOnly} read-only · {t.shared} shared · {t.slave} slave
        </span>
      }
      actions={
        <>
          <Button onClick={() => setCollapsed(new Set(snapshot.mounts.filter((m) => m.mountPoint === '/proc' || m.mountPoint === '/sys' || m.mountPoint === '/dev').map((m) => m.mountId)))}>fold /proc /sys /dev</Button>
          <Button onClick={() => setCollapsed(new Set())}>unfold all</Button>
        </>
      }
    >
      <div ref={wrap} className={`relative min-h-0 flex-1 ${className ?? ''}`}>
        <div className="px-4 pt-2">
          <Legend
            items={[
              { color: color.mountShared, label: 'shared:N — a peer group: mounts travel both ways' },
              { color: color.mountSlave, label: 'master:N — a slave: receives from group N only' },
              { color: color.mountPrivate, label: 'private' },
              { color: color.mountMasked, label: 'masked path' },
              { color: color.mountReadOnly, label: 'read-only' },
              { color: color.mountBind, label: 'bind from the host' },
            ]}
          />
        </div>
        <div className="h-[70vh] overflow-auto px-2 py-2">
          <svg data-testid="mount-svg" width={layout.width} height={layout.height + 10} role="group" aria-label="mount tree">
            {layout.rows.map((r, i) => {
              if (r.parent < 0) return null;
              const p = layout.rows[r.parent];
              const x0 = p.x + 10;
              return <path key={`l${i}`} d={`M${x0},${p.y + MT.head - 4} V${r.y + MT.head / 2 + 2} H${r.x + 4}`} fill="none" stroke={color.link} strokeWidth={1.5} />;
            })}
            {layout.rows.map((r) => {
              const n = r.node;
              const folded = collapsed.has(n.mountId);
              const kids = n.children.length;
              const label = `${n.mountPoint}: ${n.fsType} from ${n.source}${n.root !== '/' ? ` (root ${n.root})` : ''}, ${r.badges.map((b) => b.text).join(', ')}${r.lines.length ? '. ' + r.lines.map((l) => l.text).join('. ') : ''}${kids ? `. ${folded ? 'Enter unfolds' : 'Enter folds'} its ${descendants(snapshot, n.mountId)} mounts` : ''}`;
              // the head's width in the 14 px monospace font (8.4 px a character), the fold arrow included
              let bx = 12 + (Math.min(n.mountPoint.length, 48) + (kids ? 2 : 0)) * 8.4 + 12;
              return (
                <g
                  key={n.mountId}
                  data-testid={`mount-${n.mountPoint}`}
                  data-clickable
                  transform={`translate(${r.x}, ${r.y})`}
                  {...pressable(label, kids ? () => toggle(n.mountId) : undefined)}
                  onClick={() => kids && toggle(n.mountId)}
                  onFocus={(e) => showAt(e.currentTarget, label)}
                  onBlur={hide}
                  onMouseMove={(e) => show(e, <span>{label}</span>)}
                  onMouseLeave={hide}
                >
                  <rect x={0} y={0} width={layout.width - r.x - 12} height={r.h} rx={6} fill={n.masked ? color.mountMaskedFill : color.surface} stroke={n.masked ? color.mountMasked : color.raised} />
                  <Ring x={-2} y={-2} width={layout.width - r.x - 8} height={r.h + 4} />
                  <text x={12} y={17} fontSize={14} fontFamily="ui-monospace, monospace" fontWeight={700} fill={n.masked ? color.mountMasked : color.textStrong}>
                    {kids ? (folded ? '▸ ' : '▾ ') : ''}
                    {n.mountPoint.length > 48 ? n.mountPoint.slice(0, 47) + '…' : n.mountPoint}
                  </text>
                  {r.badges.map((b) => {
                    const w = Math.max(34, b.text.length * 7 + 12);
                    const x = bx;
                    bx += w + 6;
                    return (
                      <g key={b.kind + b.text} transform={`translate(${x}, 4)`}>
                        <rect width={w} height={18} rx={9} fill="none" stroke={BADGE[b.kind]} strokeWidth={1.5} />
                        <text x={w / 2} y={13} textAnchor="middle" fontSize={11} fontWeight={700} fill={BADGE[b.kind]}>
                          {b.text}
                        </text>
                      </g>
                    );
                  })}
                  <text x={bx + 4} y={17} fontSize={12} fill={color.textMuted}>
                    {n.fsType} · {n.source.length > 40 ? n.source.slice(0, 39) + '…' : n.source}
                    {folded ? ` · ${descendants(snapshot, n.mountId)} mounts folded` : ''}
                  </text>
                  {r.lines.map((l, li) => (
                    <text key={li} data-kind={l.kind} x={28} y={MT.head + 10 + li * MT.line} fontSize={12} fontFamily="ui-monospace, monospace" fill={LINE[l.kind]}>
                      {l.text.length > 130 ? l.text.slice(0, 129) + '…' : l.text}
                    </text>
                  ))}
                </g>
              );
            })}
          </svg>
        </div>
        <Tooltip tip={tip} />
      </div>
    </DiagramFrame>
  );
}
