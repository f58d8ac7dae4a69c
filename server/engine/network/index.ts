// The network module: bridges, veth pairs, IPAM, NAT and published ports for Glassbox containers.
//
// How the engine drives it (engine.ts does this):
//   Engine.open      → new NetworkManager({ root, runRoot, names }); await init()  (gb0, ip_forward=1, chains)
//   restore          → sweep(all record ids, running ids)  (crash leftovers; proxies of running ones)
//   start, step 4    → prepare(id, { mode, name, hostname, ports })  → NetPlan: bind-mount
//                      plan.files.{hosts,resolvConf,hostname} as /etc/{hosts,resolv.conf,hostname};
//                      plan.newNetns false → no CLONE_NEWNET (host, or setns into plan.joinContainer)
//   start, step 6    → attach(id, initPid) after the clone, before the create barrier is released;
//                      the NetSteps go into the timeline
//   start failed / exit → detach(id)      (veths, port rules and proxies gone, lease kept)
//   remove           → release(id)        (lease freed, files removed, other hosts files updated)
//   close            → close()            (port proxies stop; kernel state stays for the next start)
//   every 2 s       → reconcileFirewall()  (jumps and rules re-added if something removed them)
// Host objects (default prefix; others from host/naming.ts): bridge gb0 and gbr-<id11>, veth
// gbv<id8>[x<n>], chains GLASSBOX-FORWARD (filter), GLASSBOX-DNAT and GLASSBOX-POSTROUTING (nat)
// with one jump each from FORWARD, PREROUTING, OUTPUT, POSTROUTING. teardown() removes all of it
// and puts ip_forward back (unless another engine's bridges still need it).
export { NetworkManager } from './manager.js';
export type { NetPlan, NetworkCreateRequest, NetworkInfo, NetworkRecord, EndpointRecord, Attachment, LinkCounters, Topology, NetMode, PortBinding } from './types.js';
export type { NetStep } from './ip.js';
export { CHAINS, JUMPS, installedRules, jumps, type Chains } from './nat.js';
export { DEFAULT_BRIDGE } from './bridge.js';
export { macFromIp, parseCidr, overlaps } from './ipam.js';
