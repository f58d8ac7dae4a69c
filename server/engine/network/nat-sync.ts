// From the network state to our iptables chains: the model nat.ts renders (every network's
// bridge and subnet, and the published ports of attached bridge-mode containers), and the sync
// that writes it after every change.
import { syncRules, type NatModel, type NatPort } from './nat.js';
import type { Recorder } from './ip.js';
import type { NetState } from './types.js';

export function natModel(s: NetState): NatModel {
  const ports: NatPort[] = [];
  for (const e of Object.values(s.endpoints)) {
    const a = e.attachments[0];
    if (e.mode !== 'bridge' || !a?.attached) continue;
    const net = s.networks.find((n) => n.id === a.networkId);
    if (!net) continue;
    for (const p of e.ports) ports.push({ containerId: e.containerId, ip: a.ip, bridge: net.bridge, hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol });
  }
  return { networks: s.networks.map((n) => ({ bridge: n.bridge, subnet: n.subnet, ...(n.internal ? { internal: true } : {}) })), ports };
}

/** Brings our chains in line with the state. `full`: rewrite even if unchanged, and check the jumps. */
export async function syncNat(s: NetState, rec?: Recorder, step?: string, full = false): Promise<void> {
  s.rules = await syncRules(natModel(s), { chains: s.names.chains, rec, step, applied: full ? undefined : s.rules, checkJumps: full });
}
