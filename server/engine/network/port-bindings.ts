// A container's published ports, at the endpoint level: checking the -p bindings asked for (valid,
// not twice, not taken by another container or a host program; host port 0 gets a free one) and
// running the userland proxies of ports.ts for an attached endpoint. The DNAT half is nat.ts.
import { Conflict, InvalidArgument } from '../types.js';
import type { Recorder } from './ip.js';
import { ipToInt } from './ipam.js';
import { PortProxy, describe, ephemeralPort, probePort } from './ports.js';
import type { EndpointRecord, NetState, PortBinding } from './types.js';

/** The bindings as they will be used: checked, 0.0.0.0 dropped, and a host port 0 chosen. */
export async function checkPorts(s: NetState, containerId: string, ports: PortBinding[]): Promise<PortBinding[]> {
  const out: PortBinding[] = [];
  for (const p of ports) {
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw new InvalidArgument(`invalid protocol ${JSON.stringify(p.protocol)} for a published port: tcp or udp`);
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) throw new InvalidArgument(`invalid container port ${p.containerPort}: 1..65535`);
    if (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535) throw new InvalidArgument(`invalid host port ${p.hostPort}: 0..65535 (0 picks a free one)`);
    if (p.hostIp !== undefined && p.hostIp !== '') ipToInt(p.hostIp);
    const { hostIp, ...rest } = p;
    out.push(hostIp && hostIp !== '0.0.0.0' ? { ...rest, hostIp } : rest);
  }
  const clash = (a: PortBinding, b: PortBinding) => a.protocol === b.protocol && a.hostPort === b.hostPort && (!a.hostIp || !b.hostIp || a.hostIp === b.hostIp);
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < i; j++) if (out[i].hostPort !== 0 && clash(out[i], out[j])) throw new InvalidArgument(`port ${describe(out[i])} is published twice`);
  }
  for (const p of out) {
    if (p.hostPort === 0) continue;
    for (const e of Object.values(s.endpoints)) {
      // a stopped container holds no port (Docker releases it at exit; the next start binds again)
      if (e.containerId === containerId || e.pid === null) continue;
      const q = e.ports.find((x) => clash(x, p));
      if (q) throw new Conflict(`Bind for ${describe(p)} failed: port is already allocated to container ${e.name} (${e.containerId.slice(0, 12)})`);
    }
    const held = s.proxies.get(containerId)?.some((x) => x.spec.hostPort === p.hostPort && x.spec.protocol === p.protocol);
    if (!held) await probePort(p);
  }
  for (const p of out) if (p.hostPort === 0) p.hostPort = await ephemeralPort(p.protocol, p.hostIp);
  return out;
}

/** (Re)starts the proxies of the endpoint's ports, to its first network's address. */
export async function startProxies(s: NetState, e: EndpointRecord, rec?: Recorder): Promise<void> {
  await stopProxies(s, e.containerId);
  const a = e.attachments[0];
  if (!a || !e.ports.length) return;
  const list: PortProxy[] = [];
  s.proxies.set(e.containerId, list);
  for (const p of e.ports) {
    const t = performance.now();
    const proxy = new PortProxy({ hostIp: p.hostIp, hostPort: p.hostPort, protocol: p.protocol, targetIp: a.ip, targetPort: p.containerPort });
    await proxy.start();
    list.push(proxy);
    rec?.({ step: 'port-proxy', ms: performance.now() - t, started: t, call: `listen ${describe(p)} → ${a.ip}:${p.containerPort}`, detail: 'userland proxy for 127.0.0.1 and for containers on Glassbox bridges; other traffic is DNATed by the kernel' });
  }
}

export async function stopProxies(s: NetState, containerId: string): Promise<void> {
  const list = s.proxies.get(containerId);
  s.proxies.delete(containerId);
  for (const p of list ?? []) await p.close().catch(() => {});
}

export async function stopAllProxies(s: NetState): Promise<void> {
  for (const id of [...s.proxies.keys()]) await stopProxies(s, id);
}
