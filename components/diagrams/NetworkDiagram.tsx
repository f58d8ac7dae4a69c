'use client';
// Network topology: the host's stack on top (its uplink, the NAT rules, containers run with
// --network host), each bridge, and under it every veth pair: the host end (gbv…) on the bridge,
// the container end (eth0) with its address in the container's box. Live counters ride on each
// link, and a link with traffic flows (its dash moves faster the more bytes pass). A container with
// --network none stands alone. Made for 200 containers: plain keyed SVG, no per-frame JS (the flow
// is a CSS animation), so a frame costs the browser's paint only.
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { NetBridge, NetEndpoint, NetworkSnapshot } from '../../server/engine/inspect/types';
import { color } from '../theme';
import { Button, DiagramFrame, fmtRate, Legend, pressable, Ring, shortId, Tooltip, useTooltip, useZoom } from './common';
import { detailPlacement, fitViewBox, focusPan, natBox, NET, networkLayout } from './network-layout';

export interface NetworkDiagramProps {
  snapshot: NetworkSnapshot | null;
  containerId?: string | null;
  onSelectContainer?: (id: string) => void;
  /** shows an "open" button in the detail panel of a container (say, to go to its page) */
  onOpenContainer?: (id: string) => void;
  className?: string;
}

const { boxW: BOX_W, bridgeH: BRIDGE_H } = NET;

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
  onFocusTip,
  hideTip,
}: {
  ep: NetEndpoint;
  x: number;
  y: number;
  bridgeY: number;
  selected: boolean;
  onClick: (id: string) => void;
  onTip: (e: React.MouseEvent, ep: NetEndpoint) => void;
  onFocusTip: (el: Element, ep: NetEndpoint) => void;
  hideTip: () => void;
}) {
  const c = ep.counters;
  const traffic = (c?.rxBps ?? 0) + (c?.txBps ?? 0);
  const cx = x + BOX_W / 2;
  return (
    <g data-testid={`net-endpoint-${ep.containerId}`} data-traffic={traffic > 0 ? '1' : '0'}>
      {/* the veth pair: host end at the bridge, container end at the box */}
      <line x1={cx} x2={cx} y1={bridgeY} y2={y} stroke={color.link} strokeWidth={3} />
      {traffic > 0 ? <line className="gb-flow" x1={cx} x2={cx} y1={bridgeY} y2={y} stroke={color.traffic} strokeWidth={3} strokeDasharray="6 8" style={{ animationDuration: flowDuration(traffic) }} /> : null}
      <text x={cx + 6} y={bridgeY + 15} fontSize={11} fill={color.textMuted} fontFamily="ui-monospace, monospace">
        {(ep.hostVeth ?? 'no veth').slice(0, 15)}
      </text>
      <text x={cx + 6} y={bridgeY + 32} fontSize={11} fill={traffic > 0 ? color.trafficText : color.textFaint}>
        ↓{fmtRate(c?.rxBps ?? 0)}
      </text>
      <text x={cx + 6} y={bridgeY + 46} fontSize={11} fill={traffic > 0 ? color.trafficText : color.textFaint}>
        ↑{fmtRate(c?.txBps ?? 0)}
      </text>
      <g
        data-clickable
        {...pressable(`container ${ep.name}, ${ep.ip ?? 'no address'}, veth ${ep.hostVeth ?? 'none'}: show its link`, () => onClick(ep.containerId))}
        aria-pressed={selected}
        transform={`translate(${x}, ${y})`}
        onClick={() => onClick(ep.containerId)}
        onMouseMove={(e) => onTip(e, ep)}
        onMouseLeave={hideTip}
        onFocus={(e) => onFocusTip(e.currentTarget, ep)}
        onBlur={hideTip}
      >
        <Ring x={-4} y={-4} width={BOX_W + 8} height={NET.boxH + 8} rx={10} />
        <rect width={BOX_W} height={NET.boxH} rx={8} fill={color.surface} stroke={selected ? color.highlight : color.container} strokeWidth={selected ? 3 : 1.5} />
        <text x={10} y={20} fontSize={14} fontWeight={700} fill={color.textStrong}>
          {ep.name.slice(0, 20)}
        </text>
        <text x={10} y={40} fontSize={12} fill={color.textSoft} fontFamily="ui-monospace, monospace">
          {ep.containerIf ?? 'eth0'} {ep.ip ?? ''}
        </text>
        <text x={10} y={57} fontSize={11} fill={color.textMuted}>
          {ep.gateway ? `default via ${ep.gateway}` : (ep.routes.find((r) => r.startsWith('default')) ?? '')}
        </text>
        {ep.ports.length ? (
          <text x={10} y={76} fontSize={12} fill={color.warnText}>
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
  const { tip, show, showAt, hide } = useTooltip(wrap);
  const [selected, setSelected] = useState<string | null>(null);
  // a click selects another container; until then the one given is
  const sel = selected ?? containerId ?? null;

  const layout = useMemo(() => (snapshot ? networkLayout(snapshot) : null), [snapshot]);
  // the svg's size in pixels, for a viewBox that shows the whole picture when it can, and the
  // diagram's width, for where the detail panel goes
  const [box, setBox] = useState<{ w: number; h: number } | null>(null);
  const [wrapW, setWrapW] = useState<number | null>(null);
  const hasSvg = !!layout;
  useEffect(() => {
    const el = svgRef.current;
    const outer = wrap.current;
    if (!el || !outer) return;
    const measure = () => {
      setBox({ w: el.clientWidth, h: el.clientHeight });
      setWrapW(outer.clientWidth);
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    ro.observe(outer);
    return () => ro.disconnect();
  }, [hasSvg]);
  const view = layout ? fitViewBox(layout, box) : null;
  // the container this page is about is brought into view (200 containers do not fit a screen)
  const pan = layout && view && box ? focusPan(layout, containerId, view) : null;
  const resetZoom = useZoom(svgRef, gRef, [0.1, 4], pan);

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
  const epFocusTip = useCallback((el: Element, ep: NetEndpoint) => showAt(el, `${ep.name}: ${ep.hostVeth ?? 'no veth'} (host) ⇄ ${ep.containerIf ?? 'eth0'} ${ep.ip ?? ''}`), [showAt]);
  const bridgeTip = (br: NetBridge | undefined, name: string, count: number) =>
    `bridge ${name}${br ? `: ${br.addresses.join(' ')}${br.subnet ? `, subnet ${br.subnet}` : ''}${br.counters ? `, ↓${fmtRate(br.counters.rxBps)} ↑${fmtRate(br.counters.txBps)}` : ''}` : ''}, ${count} veth${count === 1 ? '' : 's'} attached`;
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
  const { host } = layout;
  const viewBox = view ?? fitViewBox(layout, box);
  const placement = wrapW === null || !box ? 'side' : detailPlacement(layout, wrapW, box.h);

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
      <div ref={wrap} className={`relative flex min-h-0 flex-1 ${placement === 'below' ? 'flex-col' : ''} ${className ?? ''}`} data-detail={placement}>
        <div className="min-w-0 flex-1">
          <div className="px-4 pt-2">
            <Legend
              items={[
                { color: color.container, label: 'container (eth0)' },
                { color: color.link, label: 'veth pair' },
                { color: color.traffic, label: 'traffic flowing', dashed: true },
                { color: color.bridge, label: 'bridge' },
              ]}
            />
          </div>
          <svg
            ref={svgRef}
            data-testid="network-svg"
            viewBox={`0 0 ${viewBox.width} ${viewBox.height}`}
            data-pan={pan ? `${Math.round(pan.x)},${Math.round(pan.y)}` : ''}
            preserveAspectRatio="xMinYMin meet"
            className="h-[66vh] w-full cursor-grab select-none"
            role="group"
            aria-label="network topology"
          >
            <style>{'@keyframes gbflow { to { stroke-dashoffset: -28; } } .gb-flow { animation-name: gbflow; animation-timing-function: linear; animation-iteration-count: infinite; }'}</style>
            <g ref={gRef}>
              {/* host stack */}
              <g data-testid="net-host" transform={`translate(${host.x}, ${host.y})`}>
                <rect width={host.width} height={host.height} rx={10} fill={color.hostSurface} stroke={color.border} strokeWidth={1.5} />
                <text x={14} y={24} fontSize={16} fontWeight={700} fill={color.text}>
                  host network stack
                </text>
                {uplink.slice(0, 4).map((i, k) => (
                  <text key={i.name} x={14} y={48 + k * 18} fontSize={13} fill={color.textSoft} fontFamily="ui-monospace, monospace">
                    {i.name} {i.addresses.join(' ')} {i.counters ? `↓${fmtRate(i.counters.rxBps)} ↑${fmtRate(i.counters.txBps)}` : ''}
                  </text>
                ))}
                <text x={natBox(layout).x0 - host.x} y={24} fontSize={14} fontWeight={700} fill={color.warnText}>
                  NAT / published ports
                </text>
                {(snapshot.nat.length ? snapshot.nat : ['(no rules)']).slice(0, 5).map((r, k) => (
                  <text key={r} x={natBox(layout).x0 - host.x} y={44 + k * 16} fontSize={11} fill={color.natText} fontFamily="ui-monospace, monospace">
                    {r.length > 62 ? `${r.slice(0, 61)}…` : r}
                  </text>
                ))}
                {snapshot.hostStack.length ? (
                  <g data-testid="net-hoststack" transform={`translate(14, ${host.height - 26})`}>
                    <text fontSize={13} fill={color.hostStackText}>
                      --network host: {snapshot.hostStack.map((c) => c.name).join(', ')} (same stack, same interfaces as the host)
                    </text>
                  </g>
                ) : null}
              </g>
              {/* the uplink: host stack to every bridge, in the left lane where it crosses no box */}
              {layout.uplink ? <line x1={layout.uplink.x} x2={layout.uplink.x} y1={layout.uplink.y0} y2={layout.uplink.y1} stroke={color.bridge} strokeWidth={2} strokeDasharray="3 4" /> : null}
              {/* bridges and their veths */}
              {layout.placed.map((p) => {
                const br = snapshot.bridges.find((b) => b.name === p.bridge);
                const mid = p.y + BRIDGE_H / 2;
                return (
                  <g key={p.bridge} data-testid={`net-bridge-${p.bridge}`}>
                    {layout.uplink ? <line x1={layout.uplink.x} x2={p.x} y1={mid} y2={mid} stroke={color.bridge} strokeWidth={2} strokeDasharray="3 4" /> : null}
                    <g {...pressable(bridgeTip(br, p.bridge, p.eps.length))} onMouseMove={(e) => show(e, bridgeTip(br, p.bridge, p.eps.length))} onMouseLeave={hide} onFocus={(e) => showAt(e.currentTarget, bridgeTip(br, p.bridge, p.eps.length))} onBlur={hide}>
                      <Ring x={p.x - 4} y={p.y - 4} width={p.width + 8} height={BRIDGE_H + 8} rx={10} />
                      <rect x={p.x} y={p.y} width={p.width} height={BRIDGE_H} rx={8} fill={color.bridgeFill} stroke={color.bridge} strokeWidth={2} />
                      <text x={p.x + 12} y={p.y + 25} fontSize={15} fontWeight={700} fill={color.bridgeText}>
                        {p.bridge} {br ? `· ${br.addresses.join(' ')}${br.subnet ? ` · subnet ${br.subnet}` : ''}` : ''}
                      </text>
                      {br?.counters ? (
                        <text x={p.x + p.width - 12} y={p.y + 25} textAnchor="end" fontSize={12} fill={color.bridgeTextMuted}>
                          ↓{fmtRate(br.counters.rxBps)} ↑{fmtRate(br.counters.txBps)}
                        </text>
                      ) : null}
                    </g>
                    {p.buses.length ? <line x1={NET.busX} x2={NET.busX} y1={mid} y2={p.buses[p.buses.length - 1]} stroke={color.bridge} strokeWidth={4} /> : null}
                    {p.buses.length ? <line x1={NET.busX} x2={p.x} y1={mid} y2={mid} stroke={color.bridge} strokeWidth={4} /> : null}
                    {p.buses.map((by) => (
                      <line key={by} x1={NET.busX} x2={p.x + p.width} y1={by} y2={by} stroke={color.bridge} strokeWidth={4} strokeOpacity={0.8} />
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
                        onFocusTip={epFocusTip}
                        hideTip={hide}
                        onClick={pickEp}
                      />
                    ))}
                  </g>
                );
              })}
              {/* alone: --network none, and shared stacks */}
              <g transform={`translate(${layout.side.x}, ${layout.side.y})`}>
                {snapshot.isolated.length ? (
                  <text fontSize={15} fontWeight={700} fill={color.text}>
                    --network none (only lo)
                  </text>
                ) : null}
                {snapshot.isolated.map((c, i) => (
                  <g key={c.containerId} data-testid={`net-isolated-${c.containerId}`} transform={`translate(0, ${layout.side.isolated[i].y - layout.side.y})`}>
                    <rect width={200} height={NET.isolatedH} rx={8} fill={color.surface} stroke={color.border} strokeDasharray="5 4" />
                    <text x={10} y={17} fontSize={13} fontWeight={700} fill={color.text}>
                      {c.name.slice(0, 22)}
                    </text>
                    <text x={10} y={32} fontSize={11} fill={color.textMuted} fontFamily="ui-monospace, monospace">
                      lo 127.0.0.1 · {shortId(c.containerId, 8)}
                    </text>
                  </g>
                ))}
                {snapshot.shared.map((c, i) => (
                  <g key={c.containerId} data-testid={`net-shared-${c.containerId}`} transform={`translate(0, ${layout.side.shared[i].y - layout.side.y})`}>
                    <text fontSize={13} fill={color.sharedStackText}>
                      {c.name} shares the stack of {snapshot.endpoints.find((e) => e.containerId.startsWith(c.with) || e.name === c.with)?.name ?? c.with}
                    </text>
                  </g>
                ))}
              </g>
            </g>
          </svg>
        </div>
        {selEp ? (
          <aside data-testid="net-detail" className={placement === 'below' ? 'overflow-auto border-t border-slate-800 p-4 text-sm' : 'w-[340px] shrink-0 overflow-auto border-l border-slate-800 p-4 text-sm'}>
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
