'use client';
// Network topology: the host's stack on top (its uplink, the NAT rules, containers run with
// --network host), each bridge, and under it every veth pair: the host end (gbv…) on the bridge,
// the container end (eth0) with its address in the container's box. Live counters ride on each
// link, and a link with traffic flows (its dash moves faster the more bytes pass). A container with
// --network none stands alone. Made for 200 containers: plain keyed SVG, no per-frame JS (the flow
// is a CSS animation), so a frame costs the browser's paint only.
import { memo, useCallback, useMemo, useRef, useState } from 'react';
import type { NetEndpoint, NetworkSnapshot } from '../../server/engine/inspect/types';
import { Button, DiagramFrame, fmtRate, Legend, shortId, Tooltip, useTooltip, useZoom } from './common';

export interface NetworkDiagramProps {
  snapshot: NetworkSnapshot | null;
  containerId?: string | null;
  onSelectContainer?: (id: string) => void;
  /** shows an "open" button in the detail panel of a container (say, to go to its page) */
  onOpenContainer?: (id: string) => void;
  className?: string;
}

const BOX_W = 178;
const BOX_H = 92;
const COL_GAP = 18;
const LINK_H = 78;
const HOST_H = 128;
const BRIDGE_H = 40;

function flowDuration(bps: number): string {
  if (bps <= 0) return '0s';
  // 1 KiB/s → 2.4 s per cycle, 10 MiB/s → 0.25 s
  const d = Math.max(0.25, 2.4 - Math.log10(Math.max(1, bps / 1024)) * 0.55);
  return `${d.toFixed(2)}s`;
}

const Endpoint = memo(function Endpoint({
  ep,
  x,
  y,
  bridgeY,
  selected,
  onClick,
  onTip,
  hideTip,
}: {
  ep: NetEndpoint;
  x: number;
  y: number;
  bridgeY: number;
  selected: boolean;
  onClick: (id: string) => void;
  onTip: (e: React.MouseEvent, ep: NetEndpoint) => void;
  hideTip: () => void;
}) {
  const c = ep.counters;
  const traffic = (c?.rxBps ?? 0) + (c?.txBps ?? 0);
  const cx = x + BOX_W / 2;
  return (
    <g data-testid={`net-endpoint-${ep.containerId}`} data-traffic={traffic > 0 ? '1' : '0'}>
      {/* the veth pair: host end at the bridge, container end at the box */}
      <line x1={cx} x2={cx} y1={bridgeY} y2={y} stroke="#475569" strokeWidth={3} />
      {traffic > 0 ? <line className="gb-flow" x1={cx} x2={cx} y1={bridgeY} y2={y} stroke="#22d3ee" strokeWidth={3} strokeDasharray="6 8" style={{ animationDuration: flowDuration(traffic) }} /> : null}
      <text x={cx + 6} y={bridgeY + 15} fontSize={11} fill="#94a3b8" fontFamily="ui-monospace, monospace">
        {(ep.hostVeth ?? 'no veth').slice(0, 15)}
      </text>
      <text x={cx + 6} y={bridgeY + 32} fontSize={11} fill={traffic > 0 ? '#67e8f9' : '#64748b'}>
        ↓{fmtRate(c?.rxBps ?? 0)}
      </text>
      <text x={cx + 6} y={bridgeY + 46} fontSize={11} fill={traffic > 0 ? '#67e8f9' : '#64748b'}>
        ↑{fmtRate(c?.txBps ?? 0)}
      </text>
      <g data-clickable className="cursor-pointer" transform={`translate(${x}, ${y})`} onClick={() => onClick(ep.containerId)} onMouseMove={(e) => onTip(e, ep)} onMouseLeave={hideTip}>
        <rect width={BOX_W} height={BOX_H} rx={8} fill="#0f172a" stroke={selected ? '#facc15' : '#38bdf8'} strokeWidth={selected ? 3 : 1.5} />
        <text x={10} y={20} fontSize={14} fontWeight={700} fill="#f8fafc">
          {ep.name.slice(0, 20)}
        </text>
        <text x={10} y={40} fontSize={12} fill="#cbd5e1" fontFamily="ui-monospace, monospace">
          {ep.containerIf ?? 'eth0'} {ep.ip ?? ''}
        </text>
        <text x={10} y={57} fontSize={11} fill="#94a3b8">
          {ep.gateway ? `default via ${ep.gateway}` : (ep.routes.find((r) => r.startsWith('default')) ?? '')}
        </text>
        {ep.ports.length ? (
          <text x={10} y={76} fontSize={12} fill="#fbbf24">
            {ep.ports
              .slice(0, 3)
              .map((p) => `${p.hostPort}→${p.containerPort}/${p.protocol}`)
              .join(' ')}
          </text>
        ) : null}
      </g>
    </g>
  );
});

export default function NetworkDiagram({ snapshot, containerId, onSelectContainer, onOpenContainer, className }: NetworkDiagramProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const gRef = useRef<SVGGElement>(null);
  const resetZoom = useZoom(svgRef, gRef, [0.1, 4]);
  const { tip, show, hide } = useTooltip(wrap);
  const [selected, setSelected] = useState<string | null>(null);
  // a click selects another container; until then the one given is
  const sel = selected ?? containerId ?? null;

  const layout = useMemo(() => {
    if (!snapshot) return null;
    const n = snapshot.endpoints.length;
    const cols = Math.max(4, Math.min(12, Math.ceil(Math.sqrt(n * 2.2))));
    const groups = new Map<string, NetEndpoint[]>();
    for (const b of snapshot.bridges) groups.set(b.name, []);
    for (const ep of snapshot.endpoints) {
      const k = ep.bridge ?? '(no bridge)';
      const g = groups.get(k) ?? [];
      g.push(ep);
      groups.set(k, g);
    }
    let y = HOST_H + 50;
    const placed: { bridge: string; y: number; width: number; eps: { ep: NetEndpoint; x: number; y: number; bridgeY: number }[]; buses: number[] }[] = [];
    for (const [bridge, eps] of groups) {
      const rowsN = Math.max(1, Math.ceil(eps.length / cols));
      const width = Math.max(4, Math.min(cols, Math.max(eps.length, 1))) * (BOX_W + COL_GAP);
      const bridgeY = y + BRIDGE_H;
      const items = eps.map((ep, i) => {
        const r = Math.floor(i / cols);
        const c = i % cols;
        const top = bridgeY + LINK_H + r * (BOX_H + LINK_H);
        // row 0 hangs from the bridge; later rows from a bus line in the gap above them (the
        // bridge drawn again), so no veth crosses another container's box
        return { ep, x: 20 + c * (BOX_W + COL_GAP), y: top, bridgeY: r === 0 ? bridgeY : top - LINK_H + 6 };
      });
      const buses = Array.from({ length: rowsN - 1 }, (_, r) => bridgeY + LINK_H + (r + 1) * (BOX_H + LINK_H) - LINK_H + 6);
      placed.push({ bridge, y, width, eps: items, buses });
      y = bridgeY + rowsN * (BOX_H + LINK_H) + 40;
    }
    const width = Math.max(900, ...placed.map((p) => p.width + 40));
    return { placed, height: y, width };
  }, [snapshot]);

  const epTip = useCallback((e: React.MouseEvent, ep: NetEndpoint) =>
    show(
      e,
      <div>
        <div className="font-semibold">{ep.name}</div>
        <div className="font-mono text-xs">
          {ep.hostVeth} (host) ⇄ {ep.containerIf ?? 'eth0'} (container)
        </div>
        <div>ip {ep.ip ?? '—'} · mac {ep.mac ?? '—'}</div>
        {ep.routes.map((r) => (
          <div key={r} className="font-mono text-xs">
            {r}
          </div>
        ))}
        <div>
          packets in {ep.counters?.rxPackets ?? 0} · out {ep.counters?.txPackets ?? 0}
        </div>
      </div>,
    ), [show]);
  const pickEp = useCallback(
    (id: string) => {
      setSelected(id);
      onSelectContainer?.(id);
    },
    [onSelectContainer],
  );

  if (!snapshot || !layout) {
    return (
      <DiagramFrame title="Network" testId="network-diagram">
        <div className="p-6 text-slate-400">Reading the host's interfaces…</div>
      </DiagramFrame>
    );
  }

  const selEp = snapshot.endpoints.find((e) => e.containerId === sel);
  const uplink = snapshot.hostInterfaces.filter((i) => i.kind !== 'loopback');
  const sideX = layout.width + 30;

  return (
    <DiagramFrame
      testId="network-diagram"
      title="Network"
      subtitle={
        <span>
          {snapshot.bridges.length} bridge{snapshot.bridges.length === 1 ? '' : 's'} · {snapshot.endpoints.length} veth pairs · {snapshot.isolated.length} isolated · {snapshot.hostStack.length} on the host stack
          {snapshot.state !== 'ok' && snapshot.message ? <span className="ml-2 text-amber-300" data-testid="network-state">{snapshot.message}</span> : null}
          {snapshot.isolation === 'missing' ? (
            // something removed our iptables jumps or rules: networks were not isolated until the engine re-added them
            <span className="ml-2 text-red-400" data-testid="network-isolation-missing" title={snapshot.isolationDetail}>
              isolation rules missing — re-adding
            </span>
          ) : null}
        </span>
      }
      actions={<Button onClick={resetZoom}>reset view</Button>}
    >
      <div ref={wrap} className={`relative flex min-h-0 flex-1 ${className ?? ''}`}>
        <div className="min-w-0 flex-1">
          <div className="px-4 pt-2">
            <Legend
              items={[
                { color: '#38bdf8', label: 'container (eth0)' },
                { color: '#475569', label: 'veth pair' },
                { color: '#22d3ee', label: 'traffic flowing', dashed: true },
                { color: '#a78bfa', label: 'bridge' },
              ]}
            />
          </div>
          <svg ref={svgRef} data-testid="network-svg" className="h-[66vh] w-full cursor-grab select-none" role="img" aria-label="network topology">
            <style>{'@keyframes gbflow { to { stroke-dashoffset: -28; } } .gb-flow { animation-name: gbflow; animation-timing-function: linear; animation-iteration-count: infinite; }'}</style>
            <g ref={gRef}>
              {/* host stack */}
              <g data-testid="net-host" transform="translate(20, 10)">
                <rect width={layout.width - 40} height={HOST_H} rx={10} fill="#111827" stroke="#64748b" strokeWidth={1.5} />
                <text x={14} y={24} fontSize={16} fontWeight={700} fill="#e2e8f0">
                  host network stack
                </text>
                {uplink.slice(0, 4).map((i, k) => (
                  <text key={i.name} x={14} y={48 + k * 18} fontSize={13} fill="#cbd5e1" fontFamily="ui-monospace, monospace">
                    {i.name} {i.addresses.join(' ')} {i.counters ? `↓${fmtRate(i.counters.rxBps)} ↑${fmtRate(i.counters.txBps)}` : ''}
                  </text>
                ))}
                <text x={Math.max(420, (layout.width - 40) / 2)} y={24} fontSize={14} fontWeight={700} fill="#fbbf24">
                  NAT / published ports
                </text>
                {(snapshot.nat.length ? snapshot.nat : ['(no rules)']).slice(0, 5).map((r, k) => (
                  <text key={r} x={Math.max(420, (layout.width - 40) / 2)} y={44 + k * 16} fontSize={11} fill="#fde68a" fontFamily="ui-monospace, monospace">
                    {r.length > 62 ? `${r.slice(0, 61)}…` : r}
                  </text>
                ))}
                {snapshot.hostStack.length ? (
                  <g data-testid="net-hoststack" transform={`translate(14, ${HOST_H - 26})`}>
                    <text fontSize={13} fill="#86efac">
                      --network host: {snapshot.hostStack.map((c) => c.name).join(', ')} (same stack, same interfaces as the host)
                    </text>
                  </g>
                ) : null}
              </g>
              {/* bridges and their veths */}
              {layout.placed.map((p) => {
                const br = snapshot.bridges.find((b) => b.name === p.bridge);
                return (
                  <g key={p.bridge} data-testid={`net-bridge-${p.bridge}`}>
                    <line x1={60} x2={60} y1={HOST_H + 10} y2={p.y} stroke="#a78bfa" strokeWidth={2} strokeDasharray="3 4" />
                    <rect x={20} y={p.y} width={Math.max(p.width, 400)} height={BRIDGE_H} rx={8} fill="#2e1065" stroke="#a78bfa" strokeWidth={2} />
                    <text x={32} y={p.y + 25} fontSize={15} fontWeight={700} fill="#ede9fe">
                      {p.bridge} {br ? `· ${br.addresses.join(' ')}${br.subnet ? ` · subnet ${br.subnet}` : ''}` : ''}
                    </text>
                    {br?.counters ? (
                      <text x={Math.max(p.width, 400) + 10} y={p.y + 25} fontSize={12} fill="#c4b5fd">
                        ↓{fmtRate(br.counters.rxBps)} ↑{fmtRate(br.counters.txBps)}
                      </text>
                    ) : null}
                    {p.buses.length ? <line x1={12} x2={12} y1={p.y + BRIDGE_H / 2} y2={p.buses[p.buses.length - 1]} stroke="#a78bfa" strokeWidth={4} /> : null}
                    {p.buses.map((by) => (
                      <line key={by} x1={12} x2={Math.max(p.width, 400) + 20} y1={by} y2={by} stroke="#a78bfa" strokeWidth={4} strokeOpacity={0.8} />
                    ))}
                    {p.eps.map(({ ep, x, y, bridgeY }) => (
                      <Endpoint
                        key={ep.containerId}
                        ep={ep}
                        x={x}
                        y={y}
                        bridgeY={bridgeY}
                        selected={ep.containerId === sel}
                        onTip={epTip}
                        hideTip={hide}
                        onClick={pickEp}
                      />
                    ))}
                  </g>
                );
              })}
              {/* alone: --network none, and shared stacks */}
              <g transform={`translate(${sideX}, ${HOST_H + 50})`}>
                {snapshot.isolated.length ? (
                  <text fontSize={15} fontWeight={700} fill="#e2e8f0">
                    --network none (only lo)
                  </text>
                ) : null}
                {snapshot.isolated.map((c, i) => (
                  <g key={c.containerId} data-testid={`net-isolated-${c.containerId}`} transform={`translate(0, ${14 + i * 46})`}>
                    <rect width={200} height={38} rx={8} fill="#0f172a" stroke="#64748b" strokeDasharray="5 4" />
                    <text x={10} y={17} fontSize={13} fontWeight={700} fill="#e2e8f0">
                      {c.name.slice(0, 22)}
                    </text>
                    <text x={10} y={32} fontSize={11} fill="#94a3b8" fontFamily="ui-monospace, monospace">
                      lo 127.0.0.1 · {shortId(c.containerId, 8)}
                    </text>
                  </g>
                ))}
                {snapshot.shared.map((c, i) => (
                  <g key={c.containerId} data-testid={`net-shared-${c.containerId}`} transform={`translate(0, ${24 + snapshot.isolated.length * 46 + i * 30})`}>
                    <text fontSize={13} fill="#93c5fd">
                      {c.name} shares the stack of {snapshot.endpoints.find((e) => e.containerId.startsWith(c.with) || e.name === c.with)?.name ?? c.with}
                    </text>
                  </g>
                ))}
              </g>
            </g>
          </svg>
        </div>
        {selEp ? (
          <aside data-testid="net-detail" className="w-[340px] shrink-0 overflow-auto border-l border-slate-800 p-4 text-sm">
            <div className="mb-2 flex items-start justify-between">
              <div className="text-base font-semibold">{selEp.name}</div>
              <div className="flex gap-1">
                {onOpenContainer && selEp.containerId !== containerId ? <Button onClick={() => onOpenContainer(selEp.containerId)}>open</Button> : null}
                {selected ? <Button onClick={() => setSelected(null)}>×</Button> : null}
              </div>
            </div>
            <dl className="grid grid-cols-[110px_1fr] gap-y-1">
              <dt className="text-slate-400">host end</dt>
              <dd className="font-mono">{selEp.hostVeth ?? '—'}</dd>
              <dt className="text-slate-400">container end</dt>
              <dd className="font-mono">{selEp.containerIf ?? 'eth0'}</dd>
              <dt className="text-slate-400">bridge</dt>
              <dd className="font-mono">{selEp.bridge ?? '—'}</dd>
              <dt className="text-slate-400">address</dt>
              <dd className="font-mono">{selEp.ip ?? '—'}</dd>
              <dt className="text-slate-400">mac</dt>
              <dd className="font-mono">{selEp.mac ?? '—'}</dd>
              <dt className="text-slate-400">received</dt>
              <dd>
                {selEp.counters?.rxPackets ?? 0} packets · {fmtRate(selEp.counters?.rxBps ?? 0)}
              </dd>
              <dt className="text-slate-400">sent</dt>
              <dd>
                {selEp.counters?.txPackets ?? 0} packets · {fmtRate(selEp.counters?.txBps ?? 0)}
              </dd>
            </dl>
            <div className="mt-3 text-slate-400">routes inside</div>
            <ul className="font-mono text-xs">
              {selEp.routes.length ? selEp.routes.map((r) => <li key={r}>{r}</li>) : <li>—</li>}
            </ul>
            <div className="mt-3 text-slate-400">published ports</div>
            <ul className="font-mono text-xs">
              {selEp.ports.length ? selEp.ports.map((p) => <li key={`${p.hostPort}/${p.protocol}`}>{`${p.hostIp ?? '0.0.0.0'}:${p.hostPort} → ${selEp.ip ?? ''}:${p.containerPort}/${p.protocol}`}</li>) : <li>—</li>}
            </ul>
          </aside>
        ) : null}
        <Tooltip tip={tip} />
      </div>
    </DiagramFrame>
  );
}
