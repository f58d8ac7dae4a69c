// The network manager: networks (a bridge each), endpoints (a container's leases, veths and
// published ports), the files a container's /etc/hosts, /etc/resolv.conf and /etc/hostname are
// bind-mounted from, and the NAT rules. State is on disk under <root>/network/ (atomic JSON), so a
// restarted server knows which addresses are leased and what to sweep.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidArgument, NotFound, type ContainerConfig } from '../types.js';
import { readJson, writeJsonAtomic } from '../util/fsx.js';
import { hostNames, prefixFromEnv, type HostNames } from '../host/naming.js';
import { bridgeAddress, deleteBridge, ensureBridge, hostPrefixes } from './bridge.js';
import { checkFirewall, describeCheck, type FirewallCheck } from './firewall-check.js';
import { renderHosts, renderResolvConf, readHostResolvConf, writeInPlace, type HostsEntry } from './hosts.js';
import { ip, ipJson, linkExists, readLinkCounters, readSysctl, writeSysctl, type IpLink, type NetStep, type Recorder } from './ip.js';
import { allocate, checkGateway, defaultCandidates, firstHost, formatCidr, ipToInt, macFromIp, overlaps, parseCidr, userCandidates } from './ipam.js';
import { CHAINS, removeAllRules, renderRules, syncRules, type NatModel, type NatPort } from './nat.js';
import { PortProxy, describe, ephemeralPort, probePort } from './ports.js';
import { createVeth, deleteInside, deleteVeth } from './veth.js';

export type { NetStep } from './ip.js';

export type PortBinding = NonNullable<ContainerConfig['ports']>[number];

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

const PSEUDO = {
  host: { id: 'e5d2a3c1b9f84e6d8c7b6a5948372615e5d2a3c1b9f84e6d8c7b6a5948372615', driver: 'host' as const },
  none: { id: '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', driver: 'null' as const },
};

const ID_RE = /^[0-9a-f]{12,64}$/;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

interface HostState {
  /** net.ipv4.ip_forward before Glassbox set it */
  ipForwardBefore?: string;
}

export class NetworkManager {
  readonly root: string;
  readonly runRoot: string;
  private readonly dir: string;
  private networks: NetworkRecord[] = [];
  private endpoints: Record<string, EndpointRecord> = {};
  private readonly proxies = new Map<string, PortProxy[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private rules: string[] = [];
  private initialized = false;
  /** what init() did, for the server's start-up log */
  readonly initSteps: NetStep[] = [];
  /** the names of this engine's host objects (bridge, veths, chains), from its prefix */
  readonly names: HostNames;
  private isolation: { state: 'ok' | 'missing'; detail?: string } = { state: 'ok' };
  private reconcileTimer: NodeJS.Timeout | null = null;

  constructor(opts: { root: string; runRoot: string; names?: HostNames }) {
    this.root = opts.root;
    this.runRoot = opts.runRoot;
    this.dir = join(opts.root, 'network');
    this.names = opts.names ?? hostNames(prefixFromEnv());
  }

  // ---------------------------------------------------------------- state

  private load(): void {
    this.networks = readJson<{ networks: NetworkRecord[] }>(join(this.dir, 'networks.json'))?.networks ?? [];
    this.endpoints = readJson<{ endpoints: Record<string, EndpointRecord> }>(join(this.dir, 'leases.json'))?.endpoints ?? {};
  }

  private save(): void {
    writeJsonAtomic(join(this.dir, 'networks.json'), { networks: this.networks });
    writeJsonAtomic(join(this.dir, 'leases.json'), { endpoints: this.endpoints });
  }

  /** One mutation at a time: leases, rules and files never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  private needInit(): void {
    if (!this.initialized) throw new Error('NetworkManager: init() was not called');
  }

  filesDir(containerId: string): string {
    return join(this.dir, 'files', containerId);
  }

  /** The hosts file of a container (rewritten in place when its networks' membership changes). */
  hostsFilePath(containerId: string): string {
    return join(this.filesDir(containerId), 'hosts');
  }

  // ---------------------------------------------------------------- init

  async init(): Promise<void> {
    return this.serial(async () => {
      // 0711: a user-namespaced container's root (an unprivileged uid here) bind-mounts its files from here
      mkdirSync(join(this.dir, 'files'), { recursive: true, mode: 0o711 });
      chmodSync(this.dir, 0o711);
      chmodSync(join(this.dir, 'files'), 0o711);
      this.load();
      const rec: Recorder = (s) => this.initSteps.push(s);

      const hostFile = join(this.dir, 'host.json');
      const host = readJson<HostState>(hostFile) ?? {};
      const fwd = readSysctl('net.ipv4.ip_forward') ?? '0';
      // remember the host's value once; a gb0 already there means an earlier Glassbox changed it
      if (host.ipForwardBefore === undefined && !linkExists(this.names.bridge)) {
        host.ipForwardBefore = fwd;
        writeJsonAtomic(hostFile, host);
      }
      if (fwd !== '1') writeSysctl('net.ipv4.ip_forward', '1', rec);

      let def = this.networks.find((n) => n.builtin);
      if (def && def.bridge !== this.names.bridge) {
        throw new InvalidArgument(`the state under ${this.root} belongs to the Glassbox prefix whose bridge is ${def.bridge}, not ${this.names.bridge}: open it with that GLASSBOX_PREFIX, or use another GLASSBOX_ROOT`);
      }
      if (!def) {
        const existing = await bridgeAddress(this.names.bridge);
        let subnet: string;
        let gateway: string;
        if (existing) {
          // a gb0 made by an earlier Glassbox (state lost): adopt its subnet
          const c = parseCidr(`${existing.ip}/${existing.prefixLen}`, false);
          subnet = formatCidr(c);
          gateway = existing.ip;
        } else {
          subnet = await this.pickSubnet(defaultCandidates(), 'the default network');
          gateway = firstHost(parseCidr(subnet));
        }
        def = {
          id: randomBytes(32).toString('hex'),
          name: 'bridge',
          driver: 'bridge',
          bridge: this.names.bridge,
          subnet,
          gateway,
          prefixLen: parseCidr(subnet).bits,
          labels: {},
          created: new Date().toISOString(),
          builtin: true,
        };
        this.networks.unshift(def);
        this.save();
      }
      for (const n of this.networks) await ensureBridge(n.bridge, n.gateway, n.prefixLen, rec);
      this.initialized = true;
      await this.sync(rec, 'iptables', true);
    });
  }

  /** The first candidate that overlaps neither the host's routes/addresses nor another network. */
  private async pickSubnet(candidates: Iterable<string>, what: string): Promise<string> {
    const host = await hostPrefixes();
    const ours = new Set(this.networks.map((n) => n.bridge));
    for (const cand of candidates) {
      const c = parseCidr(cand);
      if (this.networks.some((n) => overlaps(parseCidr(n.subnet), c))) continue;
      if (host.some((h) => !(h.dev && ours.has(h.dev)) && overlaps(h.cidr, c))) continue;
      return cand;
    }
    throw new InvalidArgument(`no free subnet for ${what}: every candidate overlaps the host's routes or another network; give one with --subnet`);
  }

  // ---------------------------------------------------------------- rules

  private natModel(): NatModel {
    const ports: NatPort[] = [];
    for (const e of Object.values(this.endpoints)) {
      const a = e.attachments[0];
      if (e.mode !== 'bridge' || !a?.attached) continue;
      const net = this.networks.find((n) => n.id === a.networkId);
      if (!net) continue;
      for (const p of e.ports) ports.push({ containerId: e.containerId, ip: a.ip, bridge: net.bridge, hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol });
    }
    return { networks: this.networks.map((n) => ({ bridge: n.bridge, subnet: n.subnet })), ports };
  }

  /** Brings our chains in line with the state. `full`: rewrite even if unchanged, and check the jumps. */
  private async sync(rec?: Recorder, step?: string, full = false): Promise<void> {
    this.rules = await syncRules(this.natModel(), { chains: this.names.chains, rec, step, applied: full ? undefined : this.rules, checkJumps: full });
  }

  // ---------------------------------------------------------------- networks

  private findNetwork(idOrName: string): NetworkRecord {
    const n =
      this.networks.find((x) => x.name === idOrName) ??
      this.networks.find((x) => x.id === idOrName) ??
      (idOrName.length >= 3 ? this.networks.filter((x) => x.id.startsWith(idOrName)) : []).find((_, __, all) => all.length === 1);
    if (!n) throw new NotFound(`network ${idOrName} not found`);
    return n;
  }

  private info(n: NetworkRecord): NetworkInfo {
    const containers: NetworkInfo['containers'] = {};
    for (const e of Object.values(this.endpoints)) {
      const a = e.attachments.find((x) => x.networkId === n.id);
      if (a) containers[e.containerId] = { name: e.name, ip: a.ip, prefixLen: n.prefixLen, mac: a.mac, veth: a.hostVeth, ifName: a.ifName, attached: a.attached };
    }
    return { id: n.id, name: n.name, driver: 'bridge', scope: 'local', created: n.created, builtin: n.builtin, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, labels: { ...n.labels }, containers };
  }

  private pseudoInfo(name: 'host' | 'none'): NetworkInfo {
    const containers: NetworkInfo['containers'] = {};
    for (const e of Object.values(this.endpoints)) {
      if (e.mode === name) containers[e.containerId] = { name: e.name, ip: '', prefixLen: 0, mac: '', veth: '', ifName: '', attached: e.pid !== null };
    }
    return { id: PSEUDO[name].id, name, driver: PSEUDO[name].driver, scope: 'local', created: new Date(0).toISOString(), builtin: true, labels: {}, containers };
  }

  listNetworks(): NetworkInfo[] {
    this.needInit();
    return [...this.networks.map((n) => this.info(n)), this.pseudoInfo('host'), this.pseudoInfo('none')];
  }

  inspectNetwork(idOrName: string): NetworkInfo {
    this.needInit();
    for (const p of ['host', 'none'] as const) if (idOrName === p || idOrName === PSEUDO[p].id) return this.pseudoInfo(p);
    return this.info(this.findNetwork(idOrName));
  }

  async createNetwork(req: { name: string; subnet?: string; gateway?: string; labels?: Record<string, string> }): Promise<NetworkInfo> {
    this.needInit();
    return this.serial(async () => {
      const name = req.name;
      if (typeof name !== 'string' || !NAME_RE.test(name)) throw new InvalidArgument(`invalid network name ${JSON.stringify(name)}: use letters, digits, '_', '.' and '-' (at most 63 characters)`);
      if (name === 'host' || name === 'none' || name === 'bridge' || name === 'default') throw new InvalidArgument(`network name ${name} is reserved`);
      if (this.networks.some((n) => n.name === name)) throw new Conflict(`network with name ${name} already exists`);
      let subnet: string;
      if (req.subnet) {
        const c = parseCidr(req.subnet);
        if (c.bits > 30) throw new InvalidArgument(`subnet ${req.subnet} is too small: use a prefix of /30 or shorter`);
        subnet = formatCidr(c);
        const other = this.networks.find((n) => overlaps(parseCidr(n.subnet), c));
        if (other) throw new InvalidArgument(`invalid pool request: subnet ${subnet} overlaps with network ${other.name} (${other.subnet})`);
        const ours = new Set(this.networks.map((n) => n.bridge));
        const host = (await hostPrefixes()).find((h) => !(h.dev && ours.has(h.dev)) && overlaps(h.cidr, c));
        if (host) throw new InvalidArgument(`invalid pool request: subnet ${subnet} overlaps with the host's ${host.what} ${host.text}${host.dev ? ` on ${host.dev}` : ''}`);
      } else {
        if (req.gateway) throw new InvalidArgument('a gateway needs a subnet (--subnet)');
        subnet = await this.pickSubnet(userCandidates(), `network ${name}`);
      }
      const c = parseCidr(subnet);
      const gateway = req.gateway ?? firstHost(c);
      ipToInt(gateway);
      checkGateway(c, gateway);
      const id = randomBytes(32).toString('hex');
      const net: NetworkRecord = { id, name, driver: 'bridge', bridge: this.names.userBridge(id), subnet, gateway, prefixLen: c.bits, labels: { ...(req.labels ?? {}) }, created: new Date().toISOString(), builtin: false };
      await ensureBridge(net.bridge, gateway, c.bits);
      this.networks.push(net);
      try {
        this.save();
        await this.sync();
      } catch (e) {
        this.networks = this.networks.filter((n) => n.id !== id);
        this.save();
        await deleteBridge(net.bridge).catch(() => {});
        throw e;
      }
      return this.info(net);
    });
  }

  async removeNetwork(idOrName: string): Promise<void> {
    this.needInit();
    return this.serial(async () => {
      if (idOrName === 'host' || idOrName === 'none' || idOrName === PSEUDO.host.id || idOrName === PSEUDO.none.id) {
        throw new InvalidArgument(`${idOrName} is a pre-defined network and cannot be removed`);
      }
      const n = this.findNetwork(idOrName);
      if (n.builtin) throw new InvalidArgument(`${n.name} is a pre-defined network and cannot be removed`);
      const users = Object.values(this.endpoints).filter((e) => e.attachments.some((a) => a.networkId === n.id));
      if (users.length) throw new Conflict(`error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.map((u) => u.name).join(', ')})`);
      this.networks = this.networks.filter((x) => x.id !== n.id);
      this.save();
      await this.sync();
      await deleteBridge(n.bridge);
    });
  }

  // ---------------------------------------------------------------- containers

  private endpoint(containerId: string): EndpointRecord {
    const e = this.endpoints[containerId];
    if (!e) throw new NotFound(`container ${containerId} has no network endpoint (prepare() was not called)`);
    return e;
  }

  private usedVeths(): Set<string> {
    return new Set(Object.values(this.endpoints).flatMap((e) => e.attachments.map((a) => a.hostVeth)));
  }

  private lease(e: EndpointRecord, net: NetworkRecord): Attachment {
    const taken = new Set(Object.values(this.endpoints).flatMap((x) => x.attachments.filter((a) => a.networkId === net.id).map((a) => a.ip)));
    const addr = allocate(parseCidr(net.subnet), net.gateway, taken, net.cursor);
    net.cursor = addr;
    const used = this.usedVeths();
    let hostVeth = this.names.veth(e.containerId, 0);
    for (let k = 1; used.has(hostVeth); k++) hostVeth = this.names.veth(e.containerId, k);
    const ifs = new Set(e.attachments.map((a) => a.ifName));
    let n = 0;
    while (ifs.has(`eth${n}`)) n++;
    return { networkId: net.id, ip: addr, mac: macFromIp(addr), ifName: `eth${n}`, hostVeth, attached: false };
  }

  private async checkPorts(containerId: string, ports: PortBinding[]): Promise<PortBinding[]> {
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
      for (const e of Object.values(this.endpoints)) {
        if (e.containerId === containerId) continue;
        const q = e.ports.find((x) => clash(x, p));
        if (q) throw new Conflict(`Bind for ${describe(p)} failed: port is already allocated to container ${e.name} (${e.containerId.slice(0, 12)})`);
      }
      const held = this.proxies.get(containerId)?.some((x) => x.spec.hostPort === p.hostPort && x.spec.protocol === p.protocol);
      if (!held) await probePort(p);
    }
    for (const p of out) if (p.hostPort === 0) p.hostPort = await ephemeralPort(p.protocol, p.hostIp);
    return out;
  }

  /** Decides the container's network and writes its hosts/resolv.conf/hostname files. Touches no kernel state. */
  async prepare(containerId: string, req: { mode: string; name: string; hostname: string; ports?: ContainerConfig['ports'] }): Promise<NetPlan> {
    this.needInit();
    if (!ID_RE.test(containerId)) throw new InvalidArgument(`invalid container id ${JSON.stringify(containerId)}`);
    return this.serial(async () => {
      const requested = (req.mode || 'bridge').trim();
      const name = (req.name ?? '').replace(/^\//, '') || containerId.slice(0, 12);
      const hostname = req.hostname || containerId.slice(0, 12);
      const dir = this.filesDir(containerId);
      const own = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') };
      const prev = this.endpoints[containerId];
      let mode: NetMode;
      let net: NetworkRecord | undefined;
      let joinContainer: string | undefined;
      if (requested === 'none') mode = 'none';
      else if (requested === 'host') mode = 'host';
      else if (requested.startsWith('container:')) {
        mode = 'container';
        joinContainer = requested.slice('container:'.length);
        if (!joinContainer) throw new InvalidArgument('network mode container: needs a container id');
        if (joinContainer === containerId) throw new InvalidArgument('a container cannot join its own network namespace');
        const all = Object.values(this.endpoints);
        const target =
          all.find((x) => x.containerId === joinContainer) ??
          all.find((x) => x.name === joinContainer) ??
          all.filter((x) => x.containerId.startsWith(joinContainer!)).find((_, __, list) => list.length === 1);
        if (target) joinContainer = target.containerId;
        if (req.ports?.length) throw new InvalidArgument('conflicting options: port publishing and the container type network mode');
      } else {
        mode = 'bridge';
        net = requested === 'bridge' || requested === 'default' ? this.networks.find((n) => n.builtin) : this.findNetwork(requested);
        if (!net) throw new NotFound(`network ${requested} not found`);
      }
      const ports = mode === 'bridge' ? await this.checkPorts(containerId, req.ports ?? []) : [];

      // restart: keep the leases; a changed mode starts over
      let attachments: Attachment[] = [];
      if (prev && prev.mode === mode && mode === 'bridge') attachments = prev.attachments.map((a) => ({ ...a }));
      const e: EndpointRecord = { containerId, name, hostname, mode, requested, joinContainer, ports, attachments, pid: prev?.pid ?? null, files: own };
      if (prev && prev.attachments.length && mode !== 'bridge') {
        for (const a of prev.attachments) if (a.attached) await deleteVeth(a.hostVeth).catch(() => {});
      }
      if (net && !e.attachments.some((a) => a.networkId === net.id)) {
        e.attachments.unshift(this.lease(e, net));
        // not wired yet (e.g. connected before its first start): number the interfaces in order
        if (!e.attachments.some((a) => a.attached)) e.attachments.forEach((a, i) => (a.ifName = `eth${i}`));
      }
      this.endpoints[containerId] = e;

      // the files
      if (mode === 'container' && joinContainer && this.endpoints[joinContainer]) {
        const t = this.endpoints[joinContainer].files;
        e.files = { hosts: t.hosts, resolvConf: t.resolvConf, hostname: own.hostname };
      }
      writeInPlace(own.hostname, hostname + '\n');
      if (e.files.hosts === own.hosts) {
        writeInPlace(own.resolvConf, renderResolvConf(readHostResolvConf(), { hostMode: mode === 'host', noNetwork: mode === 'none' }));
        writeInPlace(own.hosts, this.renderHostsFor(e));
      }
      this.save();
      this.refreshHosts([...e.attachments, ...(prev?.attachments ?? [])].map((a) => a.networkId));

      const first = e.attachments[0];
      const firstNet = first ? this.networks.find((n) => n.id === first.networkId) : undefined;
      return {
        mode,
        newNetns: mode === 'none' || mode === 'bridge',
        ...(joinContainer ? { joinContainer } : {}),
        hostsFile: e.files.hosts,
        resolvConf: e.files.resolvConf,
        hostnameFile: e.files.hostname,
        files: { ...e.files },
        ...(first && firstNet ? { ipAddress: first.ip, gateway: firstNet.gateway, macAddress: first.mac, networkId: firstNet.id, networkName: firstNet.name, prefixLen: firstNet.prefixLen } : {}),
        ports: ports.map((p) => ({ ...p })),
      };
    });
  }

  private renderHostsFor(e: EndpointRecord): string {
    if (e.mode === 'host') {
      let text = '';
      try {
        text = readFileSync('/etc/hosts', 'utf8');
      } catch {
        text = renderHosts({ hostname: e.hostname }, [], { hostMode: true });
      }
      return text;
    }
    const others: HostsEntry[] = [];
    const seen = new Set<string>();
    for (const a of e.attachments) {
      for (const o of Object.values(this.endpoints)) {
        if (o.containerId === e.containerId) continue;
        const oa = o.attachments.find((x) => x.networkId === a.networkId);
        if (!oa || seen.has(oa.ip)) continue;
        seen.add(oa.ip);
        others.push({ ip: oa.ip, names: [o.name, o.hostname, o.containerId.slice(0, 12)] });
      }
    }
    return renderHosts({ hostname: e.hostname, name: e.name, id: e.containerId.slice(0, 12), ip: e.attachments[0]?.ip }, others);
  }

  /** Rewrites (in place, only when changed) the hosts files of every container on these networks. */
  private refreshHosts(networkIds: string[]): void {
    const ids = new Set(networkIds);
    if (!ids.size) return;
    for (const e of Object.values(this.endpoints)) {
      if (e.mode !== 'bridge' || !e.attachments.some((a) => ids.has(a.networkId))) continue;
      if (e.files.hosts !== this.hostsFilePath(e.containerId)) continue;
      const text = this.renderHostsFor(e);
      let cur: string | null = null;
      try {
        cur = readFileSync(e.files.hosts, 'utf8');
      } catch {
        cur = null;
      }
      if (cur !== text) writeInPlace(e.files.hosts, text);
    }
  }

  /** Wires the container's namespace: call after its init exists and before its command runs. */
  async attach(containerId: string, pid: number): Promise<NetStep[]> {
    this.needInit();
    if (!Number.isInteger(pid) || pid <= 1) throw new InvalidArgument(`invalid pid ${pid}`);
    return this.serial(async () => {
      const e = this.endpoint(containerId);
      const steps: NetStep[] = [];
      const rec: Recorder = (s) => steps.push(s);
      if (!existsSync(`/proc/${pid}/ns/net`)) throw new NotFound(`process ${pid} does not exist`);
      if (e.mode === 'host' || e.mode === 'container') {
        e.pid = pid;
        this.save();
        return steps;
      }
      if (e.mode === 'none') {
        await ip(['link', 'set', 'lo', 'up'], { pid, step: 'lo-up', rec, detail: 'network mode none: only the loopback device' });
        e.pid = pid;
        this.save();
        return steps;
      }
      const made: string[] = [];
      if (!e.attachments.length) await ip(['link', 'set', 'lo', 'up'], { pid, step: 'lo-up', rec, detail: 'disconnected from every network: only the loopback device' });
      try {
        for (const [i, a] of e.attachments.entries()) {
          const net = this.networks.find((n) => n.id === a.networkId);
          if (!net) throw new NotFound(`network ${a.networkId} of container ${e.name} no longer exists`);
          if (!linkExists(net.bridge)) await ensureBridge(net.bridge, net.gateway, net.prefixLen, rec);
          await createVeth({ hostName: a.hostVeth, peerName: a.ifName, pid, bridge: net.bridge, mac: a.mac, ip: a.ip, prefixLen: net.prefixLen, gateway: net.gateway, defaultRoute: i === 0, loopback: i === 0 }, rec);
          made.push(a.hostVeth);
          a.attached = true;
        }
        e.pid = pid;
        await this.startProxies(e, rec);
        this.save();
        await this.sync(rec, e.ports.length ? 'publish-ports' : 'iptables');
      } catch (err) {
        await this.stopProxies(containerId);
        for (const v of made) await deleteVeth(v).catch(() => {});
        for (const a of e.attachments) a.attached = false;
        e.pid = null;
        this.save();
        await this.sync().catch(() => {});
        throw err;
      }
      return steps;
    });
  }

  private async startProxies(e: EndpointRecord, rec?: Recorder): Promise<void> {
    await this.stopProxies(e.containerId);
    const a = e.attachments[0];
    if (!a || !e.ports.length) return;
    const list: PortProxy[] = [];
    this.proxies.set(e.containerId, list);
    for (const p of e.ports) {
      const t = performance.now();
      const proxy = new PortProxy({ hostIp: p.hostIp, hostPort: p.hostPort, protocol: p.protocol, targetIp: a.ip, targetPort: p.containerPort });
      await proxy.start();
      list.push(proxy);
      rec?.({ step: 'port-proxy', ms: performance.now() - t, started: t, call: `listen ${describe(p)} → ${a.ip}:${p.containerPort}`, detail: 'userland proxy for 127.0.0.1 and for containers on Glassbox bridges; other traffic is DNATed by the kernel' });
    }
  }

  private async stopProxies(containerId: string): Promise<void> {
    const list = this.proxies.get(containerId);
    this.proxies.delete(containerId);
    for (const p of list ?? []) await p.close().catch(() => {});
  }

  private async detachLocked(e: EndpointRecord): Promise<void> {
    await this.stopProxies(e.containerId);
    for (const a of e.attachments) {
      await deleteVeth(a.hostVeth);
      a.attached = false;
    }
    e.pid = null;
    this.save();
  }

  /** At container exit: veths and port rules gone; the leases stay until release(). */
  async detach(containerId: string): Promise<void> {
    this.needInit();
    return this.serial(async () => {
      const e = this.endpoints[containerId];
      if (!e) return;
      await this.detachLocked(e);
      await this.sync();
    });
  }

  /** At container removal: leases freed, files removed, other containers' hosts files updated. */
  async release(containerId: string): Promise<void> {
    this.needInit();
    return this.serial(async () => {
      const e = this.endpoints[containerId];
      if (e) {
        await this.detachLocked(e);
        delete this.endpoints[containerId];
        this.save();
        await this.sync();
        this.refreshHosts(e.attachments.map((a) => a.networkId));
      }
      rmSync(this.filesDir(containerId), { recursive: true, force: true });
    });
  }

  async connect(idOrName: string, containerId: string, pid: number | null): Promise<void> {
    this.needInit();
    if (!ID_RE.test(containerId)) throw new InvalidArgument(`invalid container id ${JSON.stringify(containerId)}`);
    return this.serial(async () => {
      const net = this.findNetwork(idOrName);
      let e = this.endpoints[containerId];
      if (e && e.mode !== 'bridge') throw new InvalidArgument(`container ${e.name} uses network mode ${e.requested} and cannot be connected to another network`);
      if (e?.attachments.some((a) => a.networkId === net.id)) throw new Conflict(`endpoint with name ${e.name} already exists in network ${net.name}`);
      if (!e) {
        const dir = this.filesDir(containerId);
        e = { containerId, name: containerId.slice(0, 12), hostname: containerId.slice(0, 12), mode: 'bridge', requested: net.name, ports: [], attachments: [], pid: null, files: { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') } };
        this.endpoints[containerId] = e;
      }
      const a = this.lease(e, net);
      e.attachments.push(a);
      const live = pid ?? e.pid;
      if (live) {
        try {
          const first = e.attachments.length === 1;
          await createVeth({ hostName: a.hostVeth, peerName: a.ifName, pid: live, bridge: net.bridge, mac: a.mac, ip: a.ip, prefixLen: net.prefixLen, gateway: net.gateway, defaultRoute: first, loopback: first });
          a.attached = true;
          e.pid = live;
        } catch (err) {
          e.attachments.pop();
          throw err;
        }
      }
      this.save();
      if (live && e.attachments.length === 1 && e.ports.length) await this.startProxies(e);
      await this.sync();
      this.refreshHosts(e.attachments.map((x) => x.networkId));
    });
  }

  async disconnect(idOrName: string, containerId: string): Promise<void> {
    this.needInit();
    return this.serial(async () => {
      const net = this.findNetwork(idOrName);
      const e = this.endpoints[containerId];
      const idx = e ? e.attachments.findIndex((a) => a.networkId === net.id) : -1;
      if (!e || idx < 0) throw new NotFound(`container ${containerId} is not connected to network ${net.name}`);
      const [a] = e.attachments.splice(idx, 1);
      if (a.attached) {
        if (!(await deleteVeth(a.hostVeth)) && e.pid) await deleteInside(e.pid, a.ifName);
      }
      if (idx === 0) await this.stopProxies(containerId);
      const next = e.attachments[0];
      const nextNet = next ? this.networks.find((n) => n.id === next.networkId) : undefined;
      if (idx === 0 && e.pid && next?.attached && nextNet) {
        // the default route left with eth0: the next network's gateway takes over
        await ip(['route', 'replace', 'default', 'via', nextNet.gateway, 'dev', next.ifName], { pid: e.pid }).catch(() => {});
      }
      this.save();
      if (idx === 0 && e.pid && e.attachments[0]?.attached) await this.startProxies(e);
      await this.sync();
      this.refreshHosts([net.id, ...e.attachments.map((x) => x.networkId)]);
      if (e.files.hosts === this.hostsFilePath(containerId)) writeInPlace(e.files.hosts, this.renderHostsFor(e));
    });
  }

  // ---------------------------------------------------------------- crash leftovers

  /**
   * Removes what containers that no longer exist left behind: veths, leases, port rules, files,
   * /run/netns/gb-* names. `running`, when given, is the subset still running: the others keep
   * their leases but lose veths and port rules. Networks are kept.
   */
  async sweep(liveContainerIds: Set<string>, running?: Set<string>): Promise<void> {
    this.needInit();
    const up = running ?? liveContainerIds;
    return this.serial(async () => {
      const released: string[] = [];
      for (const e of Object.values(this.endpoints)) {
        if (!liveContainerIds.has(e.containerId)) {
          await this.detachLocked(e);
          released.push(...e.attachments.map((a) => a.networkId));
          delete this.endpoints[e.containerId];
          rmSync(this.filesDir(e.containerId), { recursive: true, force: true });
        } else if (!up.has(e.containerId) || (e.pid !== null && !existsSync(`/proc/${e.pid}`))) {
          await this.detachLocked(e);
        } else if (e.mode === 'bridge' && e.pid !== null) {
          // a restarted server: the veths are there, the proxies are not
          for (const a of e.attachments) a.attached = linkExists(a.hostVeth);
          if (!this.proxies.has(e.containerId)) await this.startProxies(e).catch(() => {});
        }
      }
      // files of containers we have no record of
      const filesRoot = join(this.dir, 'files');
      if (existsSync(filesRoot)) for (const id of readdirSync(filesRoot)) if (!this.endpoints[id]) rmSync(join(filesRoot, id), { recursive: true, force: true });
      // veths named like ours (this prefix's only: another engine's are its own) that no endpoint owns
      const want = new Set(Object.values(this.endpoints).flatMap((e) => e.attachments.filter((a) => a.attached).map((a) => a.hostVeth)));
      const hostLinks = await ipJson<IpLink[]>(['link', 'show']);
      for (const l of hostLinks) if (this.names.vethRe.test(l.ifname) && !want.has(l.ifname)) await deleteVeth(l.ifname).catch(() => {});
      // names in /run/netns that a Glassbox container left
      if (existsSync('/run/netns')) {
        for (const n of readdirSync('/run/netns')) {
          const m = this.names.netnsRe.exec(n);
          if (m && ![...up].some((id) => id.startsWith(m[1]))) await ip(['netns', 'delete', n]).catch(() => {});
        }
      }
      this.save();
      await this.sync(undefined, undefined, true);
      this.refreshHosts(released);
    });
  }

  /** Stops the port proxies (server shutdown); the kernel state stays for the next start. */
  async close(): Promise<void> {
    this.stopReconcile();
    await this.serial(async () => {
      for (const id of [...this.proxies.keys()]) await this.stopProxies(id);
    });
  }

  /**
   * Removes everything Glassbox made on the host: veths, bridges, chains and jumps, and puts
   * ip_forward back. With removeState, also the state under <root>/network. For tests and uninstall.
   */
  async teardown(opts: { removeState?: boolean } = {}): Promise<void> {
    this.stopReconcile();
    await this.serial(async () => {
      if (!this.initialized) this.load(); // a manager made only to clean up after a server
      for (const id of [...this.proxies.keys()]) await this.stopProxies(id);
      for (const e of Object.values(this.endpoints)) for (const a of e.attachments) await deleteVeth(a.hostVeth).catch(() => {});
      await removeAllRules(this.names.chains);
      for (const n of this.networks) await deleteBridge(n.bridge).catch(() => {});
      const host = readJson<HostState>(join(this.dir, 'host.json'));
      // another engine's bridges (a server beside this test run) still need forwarding
      const others = otherGlassboxBridges(new Set(this.networks.map((n) => n.bridge)));
      if (host?.ipForwardBefore !== undefined && host.ipForwardBefore !== '1' && !others.length) writeSysctl('net.ipv4.ip_forward', host.ipForwardBefore);
      if (opts.removeState) rmSync(this.dir, { recursive: true, force: true });
      else rmSync(join(this.dir, 'host.json'), { force: true });
      this.initialized = false;
    });
  }

  // ---------------------------------------------------------------- for the diagrams

  async counters(): Promise<LinkCounters[]> {
    const out: LinkCounters[] = [];
    const byVeth = new Map<string, { e: EndpointRecord; a: Attachment }>();
    for (const e of Object.values(this.endpoints)) for (const a of e.attachments) byVeth.set(a.hostVeth, { e, a });
    const bridges = new Map(this.networks.map((n) => [n.bridge, n]));
    let names: string[] = [];
    try {
      // this engine's links only: another prefix's (a test run beside a server) are not ours to show
      const own = new Set(this.networks.map((n) => n.bridge));
      names = readdirSync('/sys/class/net').filter((n) => own.has(n) || byVeth.has(n) || this.names.vethRe.test(n));
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

  async topology(): Promise<Topology> {
    const eps = Object.values(this.endpoints);
    const networks: Topology['networks'] = this.networks.map((n) => ({
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
      e.attachments.map((a) => ({ hostName: a.hostVeth, containerIf: a.ifName, containerId: e.containerId, bridge: this.networks.find((n) => n.id === a.networkId)?.bridge ?? '', present: linkExists(a.hostVeth) })),
    );
    const ports: Topology['ports'] = eps.flatMap((e) => {
      const a = e.attachments[0];
      if (!a?.attached) return [];
      return e.ports.map((p) => ({ ...p, containerId: e.containerId, name: e.name, ip: a.ip, proxy: this.proxies.has(e.containerId) }));
    });
    const shared = eps.filter((e) => e.mode !== 'bridge').map((e) => ({ containerId: e.containerId, mode: e.mode, ...(e.joinContainer ? { joinContainer: e.joinContainer } : {}) }));
    const r = renderRules(this.natModel(), this.names.chains);
    return {
      time: Date.now(),
      ipForward: readSysctl('net.ipv4.ip_forward') === '1',
      networks,
      veths,
      nat: this.rules.length ? this.rules : [...r.filter, ...r.nat],
      ports,
      shared,
      isolation: this.isolation.state,
      ...(this.isolation.detail ? { isolationDetail: this.isolation.detail } : {}),
    };
  }

  // ---------------------------------------------------------------- firewall reconcile

  /**
   * Checks that our jumps and chains are what we wrote and re-adds them if not. The state stays
   * 'missing' until a later check finds them in place, so the diagram can say so for a moment.
   */
  async reconcileFirewall(onChange?: (c: IsolationChange) => void): Promise<FirewallCheck> {
    this.needInit();
    return this.serial(async () => {
      const found = await checkFirewall(this.names.chains, this.rules);
      if (found.ok) {
        if (this.isolation.state === 'missing') {
          this.isolation = { state: 'ok' };
          onChange?.({ state: 'restored', detail: 'isolation rules back in place', time: Date.now() });
        }
        return found;
      }
      const detail = describeCheck(found);
      this.isolation = { state: 'missing', detail: `isolation rules missing — re-adding (${detail})` };
      onChange?.({ state: 'missing', detail, time: Date.now() });
      await this.sync(undefined, 'iptables-reconcile', true);
      return found;
    });
  }

  /** Runs reconcileFirewall every intervalMs (the engine starts it; close() stops it). */
  startReconcile(intervalMs: number, onChange?: (c: IsolationChange) => void): void {
    this.stopReconcile();
    const tick = () => {
      this.reconcileTimer = setTimeout(() => {
        if (!this.initialized) return;
        void this.reconcileFirewall(onChange)
          .catch(() => {
            /* iptables busy or gone: the next tick tries again */
          })
          .finally(() => {
            if (this.reconcileTimer) tick();
          });
      }, intervalMs);
      this.reconcileTimer.unref();
    };
    tick();
  }

  stopReconcile(): void {
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
    this.reconcileTimer = null;
  }

  /** The chains the default prefix owns, for documentation and checks (an instance's: names.chains). */
  static readonly chains = CHAINS;
}

/** Bridges of other Glassbox engines on this host: gb* bridges that are not in `ours`. */
function otherGlassboxBridges(ours: Set<string>): string[] {
  try {
    return readdirSync('/sys/class/net').filter((n) => n.startsWith('gb') && !ours.has(n) && existsSync(`/sys/class/net/${n}/bridge`));
  } catch {
    return [];
  }
}
