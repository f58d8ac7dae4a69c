// The diagram views of the network state: per-link counters (the traffic animation) and the
// topology (bridges, endpoints with their routes, veths, NAT rules, published ports, shared
// namespaces, whether the isolation rules are in place). Read-only: they change nothing.
import { readdirSync } from 'node:fs';
import type { IsolationState } from './firewall-check.js';
import { linkExists, readLinkCounters, readSysctl } from './ip.js';
import { renderRules } from './nat.js';
import { natModel } from './nat-sync.js';
import type { Attachment, EndpointRecord, LinkCounters, NetState, Topology } from './types.js';

/** Byte and packet counters of this engine's bridges and veths, and of each veth's container end. */
export function counters(s: NetState): LinkCounters[] {
  const out: LinkCounters[] = [];
  const byVeth = new Map<string, { e: EndpointRecord; a: Attachment }>();
  for (const e of Object.values(s.endpoints)) for (const a of e.attachments) byVeth.set(a.hostVeth, { e, a });
  const bridges = new Map(s.networks.map((n) => [n.bridge, n]));
  let names: string[] = [];
  try {
    // this engine's links only: another prefix's (a test run beside a server) are not ours to show
    const own = new Set(s.networks.map((n) => n.bridge));
    names = readdirSync('/sys/class/net').filter((n) => own.has(n) || byVeth.has(n) || s.names.vethRe.test(n));
  } catch {
    names = [];
  }
  for (const name of names.sort()) {
    const c = readLinkCounters(name);
    if (!c) continue;
    const ep = byVeth.get(name);
    const net = bridges.get(name);
    out.push({ name, kind: net ? 'bridge' : 'veth', ...(ep ? { containerId: ep.e.containerId, networkId: ep.a.networkId } : net ? { networkId: net.id } : {}), ...c });
    if (ep) {
      // the container's end mirrors the host end: what one sends the other receives
      out.push({ name: `${ep.e.containerId.slice(0, 12)}/${ep.a.ifName}`, kind: 'container', containerId: ep.e.containerId, networkId: ep.a.networkId, rxBytes: c.txBytes, txBytes: c.rxBytes, rxPackets: c.txPackets, txPackets: c.rxPackets });
    }
  }
  return out;
}

/** Everything the network diagram draws, from the state and a look at the kernel. */
export function topology(s: NetState, isolation: IsolationState): Topology {
  const eps = Object.values(s.endpoints);
  const networks: Topology['networks'] = s.networks.map((n) => ({
    id: n.id,
    name: n.name,
    bridge: n.bridge,
    subnet: n.subnet,
    gateway: n.gateway,
    present: linkExists(n.bridge),
    endpoints: eps.flatMap((e) =>
      e.attachments
        .filter((a) => a.networkId === n.id)
        .map((a) => ({
          containerId: e.containerId,
          name: e.name,
          ip: a.ip,
          prefixLen: n.prefixLen,
          mac: a.mac,
          gateway: n.gateway,
          hostVeth: a.hostVeth,
          containerIf: a.ifName,
          attached: a.attached,
          routes: [...(e.attachments[0] === a ? [`default via ${n.gateway} dev ${a.ifName}`] : []), `${n.subnet} dev ${a.ifName} proto kernel scope link src ${a.ip}`],
        })),
    ),
  }));
  const veths = eps.flatMap((e) =>
    e.attachments.map((a) => ({ hostName: a.hostVeth, containerIf: a.ifName, containerId: e.containerId, bridge: s.networks.find((n) => n.id === a.networkId)?.bridge ?? '', present: linkExists(a.hostVeth) })),
  );
  const ports: Topology['ports'] = eps.flatMap((e) => {
    const a = e.attachments[0];
    if (!a?.attached) return [];
    return e.ports.map((p) => ({ ...p, containerId: e.containerId, name: e.name, ip: a.ip, proxy: s.proxies.has(e.containerId) }));
  });
  const shared = eps.filter((e) => e.mode !== 'bridge').map((e) => ({ containerId: e.containerId, mode: e.mode, ...(e.joinContainer ? { joinContainer: e.joinContainer } : {}) }));
  const r = renderRules(natModel(s), s.names.chains);
  return {
    time: Date.now(),
    ipForward: readSysctl('net.ipv4.ip_forward') === '1',
    networks,
    veths,
    nat: s.rules.length ? s.rules : [...r.filter, ...r.nat],
    ports,
    shared,
    isolation: isolation.state,
    ...(isolation.detail ? { isolationDetail: isolation.detail } : {}),
  };
}
