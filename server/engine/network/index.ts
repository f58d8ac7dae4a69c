// The network module: bridges, veth pairs, IPAM, NAT and published ports for Glassbox containers.
export { NetworkManager } from './manager.js';
export type { NetPlan, NetworkInfo, NetworkRecord, EndpointRecord, Attachment, LinkCounters, Topology, NetMode, PortBinding } from './manager.js';
export type { NetStep } from './ip.js';
export { CHAINS, JUMPS, installedRules } from './nat.js';
export { DEFAULT_BRIDGE } from './bridge.js';
export { macFromIp, parseCidr, overlaps } from './ipam.js';
