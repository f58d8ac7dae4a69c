'use client';
// Namespace hierarchy: a grid of rows (the host, each container, other process groups with their own
// namespaces) by the eight namespace types. Each cell is the namespace that row's first process is
// in, labelled with its inode as /proc/PID/ns shows it. Cells of the same namespace share a colour
// and a bar joins them: a shared namespace is one node drawn where each of its owners is. Below,
// the PID namespace tree (d3-hierarchy): each level with its processes and the pid they have
// there. Clicking a process shows its namespaces beside the host's.
import { useMemo, useRef, useState } from 'react';
import type { NamespaceSnapshot, NsProcess, PidNsLevel } from '../../server/engine/inspect/types';
import { color } from '../theme';
import { Button, colorFor, DiagramFrame, HOST_COLOR, Legend, PALETTE, pressable, Ring, shortId, Tooltip, useTooltip, useZoom } from './common';
import { buildRows, colX, focusRows, focusTree, namespaceLayout, NS, NS_TYPES as TYPES, rowY } from './namespace-layout';

const { colW: COL_W, rowH: ROW_H, procLine: PROC_LINE, maxTreeProcs: MAX_TREE_PROCS, treeNodeW: TREE_NODE_W } = NS;

export interface NamespaceDiagramProps {
  snapshot: NamespaceSnapshot | null;
  /** a container to highlight (its row and its processes) */
  containerId?: string | null;
  /**
   * with containerId: start showing only the host, that container and whatever shares a namespace
   * with it (a button switches to everything on the host)
   */
  focus?: boolean;
  /** called when a process is clicked, besides the built-in detail panel */
  onSelectProcess?: (p: NsProcess) => void;
  /** a namespace type whose column is outlined (a lab step's "look at the uts column") */
  highlight?: string | null;
  className?: string;
}

function LevelProcs({ level, onPick, onHover, onFocusTip, hide, selected }: { level: PidNsLevel; onPick: (pid: number) => void; onHover: (e: React.MouseEvent, text: string) => void; onFocusTip: (el: Element, text: string) => void; hide: () => void; selected: number | null }) {
  const shown = level.processes.slice(0, MAX_TREE_PROCS);
  return (
    <>
      {shown.map((p, i) => {
        const text = `${p.comm}: host pid ${p.pid}, pid ${p.localPid} in this namespace`;
        const isSel = selected === p.pid;
        return (
        <g
          key={p.pid}
          data-clickable
          data-testid={`ns-proc-${p.pid}`}
          transform={`translate(8, ${44 + i * PROC_LINE})`}
          {...pressable(`${text}: show its namespaces`, () => onPick(p.pid))}
          aria-pressed={isSel}
          onClick={() => onPick(p.pid)}
          onMouseMove={(e) => onHover(e, text)}
          onMouseLeave={hide}
          onFocus={(e) => onFocusTip(e.currentTarget, text)}
          onBlur={hide}
        >
          <rect x={-4} y={-13} width={TREE_NODE_W - 8} height={PROC_LINE - 1} rx={3} fill={isSel ? color.selected : 'transparent'} />
          <Ring x={-5} y={-14} width={TREE_NODE_W - 6} height={PROC_LINE + 1} rx={4} />
          <text fontSize={13} fill={color.text}>
            <tspan fontWeight={600}>{p.comm.slice(0, 16)}</tspan>
            <tspan x={140} fill={isSel ? color.textSoft : color.textMuted}>
              {p.pid}
            </tspan>
            <tspan fill={isSel ? color.textSoft : color.textFaint}> → </tspan>
            <tspan fill={color.nsShared} fontWeight={700}>
              {p.localPid}
            </tspan>
          </text>
        </g>
        );
      })}
      {level.processes.length > MAX_TREE_PROCS ? (
        <text x={8} y={44 + MAX_TREE_PROCS * PROC_LINE} fontSize={12} fill={color.textMuted}>
          … and {level.processes.length - MAX_TREE_PROCS} more
        </text>
      ) : null}
    </>
  );
}

export default function NamespaceDiagram({ snapshot, containerId, focus, onSelectProcess, highlight, className }: NamespaceDiagramProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const gRef = useRef<SVGGElement>(null);
  const resetZoom = useZoom(svgRef, gRef);
  const { tip, show, showAt, hide } = useTooltip(wrap);
  const [selected, setSelected] = useState<number | null>(null);
  const [onlyThis, setOnlyThis] = useState(!!focus);
  const focused = onlyThis && !!containerId;

  const allRows = useMemo(() => (snapshot ? buildRows(snapshot) : []), [snapshot]);
  const rows = useMemo(() => (focused && snapshot && containerId ? focusRows(allRows, snapshot, containerId) : allRows), [allRows, focused, snapshot, containerId]);
  const nodeIndex = useMemo(() => {
    const m = new Map<string, { owners: string[]; pids: number[]; uidMap?: { inside: number; outside: number; count: number }[] }>();
    if (snapshot) for (const t of TYPES) for (const n of snapshot.types[t] ?? []) m.set(`${t}:${n.inode}`, n);
    return m;
  }, [snapshot]);

  const layout = useMemo(() => {
    if (!snapshot) return null;
    const top = snapshot.pidTree && focused && containerId ? focusTree(snapshot.pidTree, containerId) : snapshot.pidTree;
    return namespaceLayout(snapshot, rows, top);
  }, [snapshot, rows, focused, containerId]);

  const procByPid = useMemo(() => new Map((snapshot?.processes ?? []).map((p) => [p.pid, p])), [snapshot]);
  const sel = selected !== null ? procByPid.get(selected) : undefined;

  const pick = (pid: number) => {
    setSelected(pid);
    const p = procByPid.get(pid);
    if (p) onSelectProcess?.(p);
  };

  if (!snapshot || !layout) {
    return (
      <DiagramFrame title="Namespaces" testId="namespace-diagram">
        <div className="p-6 text-slate-400">Waiting for the first /proc scan…</div>
      </DiagramFrame>
    );
  }

  const { gridH, shared, tree: treeLayout } = layout;
  const width = layout.gridW;
  const contentH = layout.height;
  const rowTip = (r: (typeof rows)[number]) => (r.kind === 'host' ? `the host: ${r.count} processes in every host namespace` : `${r.label}: ${r.count} process${r.count === 1 ? '' : 'es'} — click for its namespaces beside the host's`);

  return (
    <DiagramFrame
      testId="namespace-diagram"
      title="Namespaces"
      subtitle={
        <span>
          {rows.length - 1} namespace sets beside the host · {snapshot.processes.length} processes · scan {snapshot.scanMs.toFixed(0)} ms
          {snapshot.omitted.hostProcesses ? ` · ${snapshot.omitted.hostProcesses} host processes not listed` : ''}
        </span>
      }
      actions={
        <>
          {containerId ? (
            <Button onClick={() => setOnlyThis((v) => !v)} title={focused ? 'show every process group on the host' : 'show the host and this container only'}>
              {focused ? 'show everything' : 'this container only'}
            </Button>
          ) : null}
          <Button onClick={resetZoom}>reset view</Button>
        </>
      }
    >
      <div ref={wrap} className={`relative flex min-h-0 flex-1 ${className ?? ''}`}>
        <div className="min-w-0 flex-1">
          <div className="px-4 pt-2">
            <Legend
              items={[
                { color: HOST_COLOR, label: "the host's namespace" },
                { color: PALETTE[0], label: 'a namespace of its own (one colour each)' },
                { color: color.nsShared, label: 'bar = the same namespace, shared' },
              ]}
            />
          </div>
          <svg ref={svgRef} data-testid="namespace-svg" className="h-[70vh] w-full cursor-grab select-none" role="group" aria-label="namespace hierarchy">
            <g ref={gRef}>
              {/* column heads */}
              {TYPES.map((t, i) => (
                <text key={t} x={colX(i) + COL_W / 2} y={22} textAnchor="middle" fontSize={16} fontWeight={700} fill={t === highlight ? color.highlight : color.textSoft}>
                  {t}
                </text>
              ))}
              {TYPES.map((t, i) =>
                t === highlight ? <rect key={`hl-${t}`} data-testid={`ns-col-highlight-${t}`} x={colX(i) + 2} y={2} width={COL_W - 14} height={rowY(rows.length) - 2} rx={8} fill="none" stroke={color.highlight} strokeWidth={2} /> : null,
              )}
              {/* rows */}
              {rows.map((r, ri) => {
                const y = rowY(ri);
                const hl = containerId && r.containerId === containerId;
                return (
                  <g key={r.key} data-testid={`ns-row-${r.kind === 'container' ? r.containerId : r.key}`} transform={`translate(0, ${y})`}>
                    <rect x={0} y={1} width={width - 10} height={ROW_H - 2} rx={4} fill={hl ? color.raised : ri % 2 ? color.plot : 'transparent'} />
                    <g
                      data-clickable
                      {...pressable(rowTip(r), r.pid ? () => pick(r.pid!) : undefined)}
                      onClick={() => r.pid && pick(r.pid)}
                      onMouseMove={(e) => show(e, <span>{rowTip(r)}</span>)}
                      onMouseLeave={hide}
                      onFocus={(e) => showAt(e.currentTarget, rowTip(r))}
                      onBlur={hide}
                    >
                      <Ring x={4} y={3} width={NS.labelW - 14} height={ROW_H - 6} />
                      <text x={10} y={17} fontSize={15} fontWeight={700} fill={r.kind === 'host' ? color.textSoft : r.kind === 'container' ? color.textStrong : color.nsOther}>
                        {r.label.slice(0, 24)}
                      </text>
                      <text x={10} y={33} fontSize={12} fill={color.textMuted}>
                        {r.sub}
                      </text>
                    </g>
                    {TYPES.map((t, ci) => {
                      const ino = r.ns[t];
                      if (ino === undefined) return null;
                      const isHost = ino === snapshot.host[t];
                      const node = nodeIndex.get(`${t}:${ino}`);
                      const isShared = (node?.owners.length ?? 0) > 1;
                      const c = isHost ? HOST_COLOR : colorFor(ino);
                      return (
                        <g
                          key={t}
                          data-testid={`ns-cell-${t}-${ino}`}
                          transform={`translate(${colX(ci) + 22}, 4)`}
                          onMouseMove={(e) =>
                            show(
                              e,
                              <div>
                                <div className="font-mono">
                                  {t}:[{ino}]
                                </div>
                                <div>{isHost ? "the host's" : 'its own'} {t} namespace</div>
                                <div>owners: {(node?.owners ?? []).map((o) => (o === 'host' ? 'host' : (snapshot.containers.find((x) => x.id === o)?.name ?? shortId(o)))).join(', ')}</div>
                                <div>processes: {(node?.pids ?? []).slice(0, 12).join(' ')}{(node?.pids.length ?? 0) > 12 ? ' …' : ''}</div>
                                {node?.uidMap?.length ? <div>uid_map: {node.uidMap.map((m) => `${m.inside} ${m.outside} ${m.count}`).join('; ')}</div> : null}
                              </div>,
                            )
                          }
                          onMouseLeave={hide}
                        >
                          <rect width={COL_W - 30} height={ROW_H - 8} rx={6} fill={c} fillOpacity={isHost ? 0.18 : 0.28} stroke={c} strokeWidth={isShared ? 3 : 1.5} />
                          <text x={(COL_W - 30) / 2} y={14} textAnchor="middle" fontSize={12} fontFamily="ui-monospace, monospace" fill={color.textStrong}>
                            {ino}
                          </text>
                          <text x={(COL_W - 30) / 2} y={27} textAnchor="middle" fontSize={11} fill={color.textSoft}>
                            {t === 'user' && node?.uidMap?.[0] && !isHost ? `0→${node.uidMap[0].outside}` : `${node?.pids.length ?? 0} proc`}
                          </text>
                        </g>
                      );
                    })}
                  </g>
                );
              })}
              {/* shared bars */}
              {shared.map((s) => {
                const { x, y0, y1 } = s;
                return (
                  <g key={`${s.type}-${s.inode}`} data-testid={`ns-shared-${s.type}-${s.inode}`}>
                    <line x1={x} x2={x} y1={y0} y2={y1} stroke={color.nsShared} strokeWidth={3} strokeLinecap="round" />
                    {s.rows.map((ri) => (
                      <circle key={ri} cx={x} cy={rowY(ri) + ROW_H / 2} r={4} fill={color.nsShared} />
                    ))}
                  </g>
                );
              })}
              {/* PID namespace tree */}
              <text x={10} y={gridH + 36} fontSize={16} fontWeight={700} fill={color.textSoft}>
                PID namespaces: each level with the pid a process has there (host pid → pid inside)
              </text>
              {treeLayout ? (
                <g transform={`translate(${treeLayout.origin.x}, ${treeLayout.origin.y})`}>
                  {treeLayout.links.map((l) => (
                    <path
                      key={`${l.source.data.inode}-${l.target.data.inode}`}
                      d={`M${l.source.y + TREE_NODE_W},${l.source.x} C${l.source.y + TREE_NODE_W + 35},${l.source.x} ${l.target.y - 35},${l.target.x} ${l.target.y},${l.target.x}`}
                      fill="none"
                      stroke={color.link}
                      strokeWidth={2}
                    />
                  ))}
                  {treeLayout.nodes.map((n) => {
                    const d = n.data;
                    const h = treeLayout.h(d);
                    const isHost = d.level === 0;
                    const c = isHost ? HOST_COLOR : colorFor(d.inode);
                    const owner = d.owners.filter((o) => o !== 'host').map((o) => snapshot.containers.find((x) => x.id === o)?.name ?? shortId(o));
                    return (
                      <g key={d.inode} data-testid={`pidns-${d.inode}`} transform={`translate(${n.y}, ${n.x - h / 2})`}>
                        <rect width={TREE_NODE_W} height={h} rx={8} fill={color.surface} stroke={c} strokeWidth={2} />
                        <text x={8} y={18} fontSize={13} fontWeight={700} fill={c === HOST_COLOR ? color.textSoft : c}>
                          level {d.level} · pid:[{d.inode}]
                        </text>
                        <text x={TREE_NODE_W - 8} y={18} textAnchor="end" fontSize={12} fill={color.textMuted}>
                          {isHost ? 'host' : (owner[0] ?? 'no container')}
                        </text>
                        <LevelProcs level={d} selected={selected} onPick={pick} onHover={(e, text) => show(e, text)} onFocusTip={(el, text) => showAt(el, text)} hide={hide} />
                      </g>
                    );
                  })}
                </g>
              ) : null}
              <rect x={0} y={contentH} width={1} height={1} fill="transparent" />
            </g>
          </svg>
        </div>
        {sel ? (
          <aside data-testid="ns-detail" className="w-[360px] shrink-0 overflow-auto border-l border-slate-800 p-4 text-sm">
            <div className="mb-2 flex items-start justify-between gap-2">
              <div>
                <div className="text-base font-semibold">
                  {sel.comm} <span className="text-slate-400">pid {sel.pid}</span>
                </div>
                <div className="break-all font-mono text-xs text-slate-400">{sel.cmdline}</div>
              </div>
              <Button onClick={() => setSelected(null)} title="close">
                ×
              </Button>
            </div>
            <div className="mb-3 text-slate-300">
              {sel.containerId ? `in container ${snapshot.containers.find((c) => c.id === sel.containerId)?.name ?? shortId(sel.containerId)} (${sel.role})` : 'not in a container'}
              {' · '}NSpid {sel.nspid.join(' → ')}
            </div>
            <table className="w-full border-collapse">
              <thead>
                <tr className="text-left text-slate-400">
                  <th className="py-1 pr-2">type</th>
                  <th className="py-1 pr-2">this process</th>
                  <th className="py-1">host</th>
                </tr>
              </thead>
              <tbody>
                {TYPES.map((t) => {
                  const mine = sel.ns[t];
                  const host = snapshot.host[t];
                  const same = mine === host;
                  return (
                    <tr key={t} className="border-t border-slate-800">
                      <td className="py-1 pr-2 font-semibold">{t}</td>
                      <td className={`py-1 pr-2 font-mono ${same ? 'text-slate-400' : 'text-amber-300'}`}>{mine ?? '—'}</td>
                      <td className="py-1 font-mono text-slate-400">
                        {host ?? '—'} {same ? <span className="text-xs text-slate-500">(same)</span> : <span className="text-xs text-amber-300">(own)</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {(() => {
              const u = sel.ns.user !== undefined ? nodeIndex.get(`user:${sel.ns.user}`) : undefined;
              return u?.uidMap?.length && sel.ns.user !== snapshot.host.user ? (
                <div className="mt-3 text-slate-300">
                  uid_map: <span className="font-mono">{u.uidMap.map((m) => `${m.inside} ${m.outside} ${m.count}`).join('; ')}</span>
                  <div className="text-xs text-slate-400">root (0) inside is uid {u.uidMap[0].outside} on the host</div>
                </div>
              ) : null;
            })()}
          </aside>
        ) : null}
        <Tooltip tip={tip} />
      </div>
    </DiagramFrame>
  );
}
