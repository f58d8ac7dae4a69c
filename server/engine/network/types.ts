// The network module's records and views: what is stored under <root>/network/ (networks, the
// endpoints with their leases), the plan the engine gets back from prepare(), and the shapes the
// diagrams and the Docker API read. Types only: no kernel or file access here.
import type { ContainerConfig } from '../types.js';
import type { HostNames } from '../host/naming.js';
import type { PortProxy } from './ports.js';

export type PortBinding = NonNullable<ContainerConfig['ports']>[number];

/** docker network create: --subnet, --gateway, --ip-range, --internal, --label */
export interface NetworkCreateRequest {
  name: string;
  subnet?: string;
  gateway?: string;
  /** addresses handed out come from this CIDR inside the subnet (an --ip may still be outside it) */
  ipRange?: string;
  /** no way out: no MASQUERADE and no forwarding from the bridge to anywhere else */
  internal?: boolean;
  labels?: Record<string, string>;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge';
  bridge: string;
  subnet: string;
  gateway: string;
  prefixLen: number;
  labels: Record<string, string>;
  created: string;
  /** the default network "bridge": cannot be removed */
  builtin: boolean;
  /** the last address handed out (round-robin IPAM) */
  cursor?: string;
  ipRange?: string;
  internal?: boolean;
}

export interface Attachment {
  networkId: string;
  ip: string;
  mac: string;
  /** name inside the container: eth0 for the first network, eth1 ... */
  ifName: string;
  hostVeth: string;
  /** the veth pair exists now */
  attached: boolean;
}

export type NetMode = 'none' | 'host' | 'bridge' | 'container';

export interface EndpointRecord {
  containerId: string;
  name: string;
  hostname: string;
  mode: NetMode;
  /** what the user asked for (bridge, a network name, container:<id> ...) */
  requested: string;
  joinContainer?: string;
  ports: PortBinding[];
  /** leases, in order: the first one holds the default route and the published ports */
  attachments: Attachment[];
  /** init of the container while it is attached */
  pid: number | null;
  files: { hosts: string; resolvConf: string; hostname: string };
  /** --network-alias: more names the other containers of its networks find it by */
  aliases?: string[];
  /** --add-host lines of its own hosts file ("host-gateway" is its network's gateway) */
  extraHosts?: { name: string; ip: string }[];
  /** --link other:alias: the alias names the other container in this one's hosts file */
  links?: { container: string; alias: string }[];
  /** --dns/--dns-search/--dns-option: its resolv.conf says these instead of the host's */
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
}

export interface NetPlan {
  mode: NetMode;
  /** false for host and container:<id> (the container joins an existing namespace) */
  newNetns: boolean;
  /** container:<id>: the id of the container whose namespace is joined */
  joinContainer?: string;
  hostsFile: string;
  resolvConf: string;
  hostnameFile: string;
  files: { hosts: string; resolvConf: string; hostname: string };
  ipAddress?: string;
  gateway?: string;
  macAddress?: string;
  networkId?: string;
  networkName?: string;
  prefixLen?: number;
  /** the ports as bound (a host port 0 is replaced by the one chosen) */
  ports: PortBinding[];
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: 'bridge' | 'host' | 'null';
  scope: 'local';
  created: string;
  builtin: boolean;
  bridge?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  labels: Record<string, string>;
  containers: Record<string, { name: string; ip: string; prefixLen: number; mac: string; veth: string; ifName: string; attached: boolean }>;
}

export interface LinkCounters {
  name: string;
  kind: 'bridge' | 'veth' | 'container';
  containerId?: string;
  networkId?: string;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

export interface Topology {
  time: number;
  ipForward: boolean;
  networks: {
    id: string;
    name: string;
    bridge: string;
    subnet: string;
    gateway: string;
    present: boolean;
    endpoints: {
      containerId: string;
      name: string;
      ip: string;
      prefixLen: number;
      mac: string;
      gateway: string;
      hostVeth: string;
      containerIf: string;
      attached: boolean;
      routes: string[];
    }[];
  }[];
  veths: { hostName: string; containerIf: string; containerId: string; bridge: string; present: boolean }[];
  nat: string[];
  ports: (PortBinding & { containerId: string; name: string; ip: string; proxy: boolean })[];
  shared: { containerId: string; mode: NetMode; joinContainer?: string }[];
  /** 'missing': the last firewall check found our jumps or rules gone (they are being re-added) */
  isolation: 'ok' | 'missing';
  isolationDetail?: string;
}

/** What a firewall check found and did, for the engine's event stream. */
export interface IsolationChange {
  state: 'missing' | 'restored';
  detail: string;
  time: number;
}

/**
 * What the network modules share: the records (persisted by state-file.ts), the running port
 * proxies, this engine's host names, and where the state lives. The manager owns one and hands it
 * to the modules, so each says in its signature what it reads and changes.
 */
export interface NetState {
  /** GLASSBOX_ROOT (for error messages) */
  readonly root: string;
  /** <root>/network */
  readonly dir: string;
  readonly names: HostNames;
  networks: NetworkRecord[];
  endpoints: Record<string, EndpointRecord>;
  /** published ports' userland proxies, by container id */
  readonly proxies: Map<string, PortProxy[]>;
  /** the rules last written into our chains (nat-sync.ts), to skip unchanged rewrites */
  rules: string[];
}
