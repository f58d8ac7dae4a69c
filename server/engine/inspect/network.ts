// The network picture. The kernel is read directly (one read of /proc/net/dev a frame; the links
// and their addresses by one `ip -json -d addr` call when the set of links changed or every few
// seconds — see LinkCache; routes inside a container's namespace once per container start), and the
// network manager (server/engine/network/, issue 6) adds what only it knows — subnets, NAT rules,
// published ports — when it exists. Without it the snapshot says so and shows what the kernel has.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ContainerRecord } from '../types.js';
import type { NetBridge, NetCounters, NetEndpoint, NetInterface, NetworkSnapshot } from './types.js';
import { isActive } from '../lifecycle/state.js';

const run = promisify(execFile);

/** What the diagram needs from the network manager; every member optional, shapes checked at run time. */
export interface NetworkManagerLike {
  topology?: () => unknown;
  counters?: () => unknown;
}

interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
}
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  operstate?: string;
  address?: string;
  master?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_slave_kind?: string };
  addr_info?: IpAddrInfo[];
}

export interface KernelNetwork {
  links: IpLink[];
  counters: Map<string, { rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }>;
  time: number;
}

export function parseProcNetDev(text: string): KernelNetwork['counters'] {
  const out: KernelNetwork['counters'] = new Map();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    out.set(name, { rxBytes: f[0], rxPackets: f[1], txBytes: f[8], txPackets: f[9] });
  }
  return out;
}

/** The host namespace's links with their addresses (one `ip -json -d addr show`). */
async function readLinks(): Promise<IpLink[]> {
  try {
    const { stdout } = await run('ip', ['-json', '-d', 'addr', 'show'], { maxBuffer: 32 * 1024 * 1024 });
    return JSON.parse(stdout) as IpLink[];
  } catch {
    return [];
  }
}

/** The names of the host namespace's links: one readdir, no process. */
function linkNames(): string {
  try {
    return readdirSync('/sys/class/net').join('\n');
  } catch {
    return '';
  }
}

/**
 * The link list between frames. `ip -json -d addr show` was the frame's cost (a process, and at
 * 500 containers a megabyte of JSON: 35-80 ms of a 50 ms budget), yet links come and go only when
 * containers start and stop. The list is read again when the names in /sys/class/net differ from
 * the ones it was read with (a container started or went, a network was made), and at least every
 * maxAgeMs for what changes in place (an address, an operstate). Counters are never cached.
 */
export class LinkCache {
  private cached: { names: string; links: IpLink[]; time: number } | null = null;

  constructor(private readonly maxAgeMs = 5000) {}

  async links(now = Date.now()): Promise<IpLink[]> {
    const names = linkNames();
    const c = this.cached;
    if (c && c.names === names && names && now - c.time < this.maxAgeMs) return c.links;
    const links = await readLinks();
    this.cached = { names, links, time: now };
    return links;
  }
}

/** The host namespace's links with their addresses, and every interface's counters. */
export async function readKernelNetwork(cache?: LinkCache): Promise<KernelNetwork> {
  const links = cache ? await cache.links() : await readLinks();
  let counters: KernelNetwork['counters'] = new Map();
  try {
    counters = parseProcNetDev(readFileSync('/proc/net/dev', 'utf8'));
  } catch {
    /* no procfs net */
  }
  return { links, counters, time: Date.now() };
}

function addrs(l: IpLink): string[] {
  return (l.addr_info ?? []).filter((a) => a.family === 'inet' || (a.family === 'inet6' && a.scope === 'global')).map((a) => `${a.local}/${a.prefixlen}`);
}

function subnetOf(cidr: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const bits = Number(m[5]);
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${bits}`;
}

interface InsideInfo {
  key: string;
  routes: string[];
  ifName?: string;
  ip?: string;
  mac?: string;
}

/** Reads the routes and eth0 of a container's network namespace with nsenter (once per start). */
async function readInside(pid: number): Promise<Omit<InsideInfo, 'key'>> {
  const out: Omit<InsideInfo, 'key'> = { routes: [] };
  try {
    const { stdout } = await run('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-json', 'route', 'show'], { timeout: 3000 });
    const routes = JSON.parse(stdout) as { dst: string; gateway?: string; dev?: string; prefsrc?: string }[];
    out.routes = routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.prefsrc ? ` src ${r.prefsrc}` : ''}`);
  } catch {
    /* no nsenter or the process went */
  }
  try {
    const { stdout } = await run('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-json', 'addr', 'show'], { timeout: 3000 });
    const links = JSON.parse(stdout) as IpLink[];
    const eth = links.find((l) => l.ifname !== 'lo' && (l.addr_info ?? []).some((a) => a.family === 'inet')) ?? links.find((l) => l.ifname !== 'lo');
    if (eth) {
      out.ifName = eth.ifname;
      out.ip = addrs(eth)[0];
      out.mac = eth.address;
    }
  } catch {
    /* as above */
  }
  return out;
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** Pulls bridges/subnets/NAT out of whatever the network manager's topology() returns. */
type ManagerEndpoint = { ip?: string; gateway?: string; hostVeth?: string; mac?: string; containerIf?: string; routes?: string[] };

type FromManager = { bridges: Map<string, { subnet?: string; gateway?: string }>; nat: string[]; endpoints: Map<string, ManagerEndpoint>; isolation?: 'ok' | 'missing'; isolationDetail?: string };

function fromManager(topo: unknown): FromManager {
  const bridges = new Map<string, { subnet?: string; gateway?: string }>();
  const endpoints = new Map<string, ManagerEndpoint>();
  const nat: string[] = [];
  if (!isObj(topo)) return { bridges, nat, endpoints };
  const isolation = topo.isolation === 'missing' ? ('missing' as const) : topo.isolation === 'ok' ? ('ok' as const) : undefined;
  const isolationDetail = typeof topo.isolationDetail === 'string' ? topo.isolationDetail : undefined;
  const nets = (topo.networks ?? topo.bridges) as unknown;
  if (Array.isArray(nets)) {
    for (const n of nets) {
      if (!isObj(n)) continue;
      const name = String(n.bridge ?? n.name ?? '');
      if (name) bridges.set(name, { subnet: n.subnet ? String(n.subnet) : undefined, gateway: n.gateway ? String(n.gateway) : undefined });
      const eps = n.endpoints ?? n.containers;
      if (Array.isArray(eps)) {
        for (const e of eps) {
          if (!isObj(e)) continue;
          const id = String(e.containerId ?? e.id ?? '');
          const ip = e.ip ?? e.ipAddress;
          if (id)
            endpoints.set(id, {
              ip: ip ? `${String(ip)}${typeof e.prefixLen === 'number' ? `/${e.prefixLen}` : ''}` : undefined,
              gateway: e.gateway ? String(e.gateway) : undefined,
              hostVeth: e.hostVeth ? String(e.hostVeth) : e.veth ? String(e.veth) : undefined,
              mac: e.mac ? String(e.mac) : undefined,
              containerIf: e.containerIf ? String(e.containerIf) : undefined,
              routes: Array.isArray(e.routes) ? e.routes.map(String) : undefined,
            });
        }
      }
    }
  }
  const rules = topo.nat ?? topo.rules;
  if (Array.isArray(rules)) for (const r of rules) nat.push(typeof r === 'string' ? r : JSON.stringify(r));
  return { bridges, nat, endpoints, ...(isolation ? { isolation } : {}), ...(isolationDetail ? { isolationDetail } : {}) };
}

export class NetworkInspector {
  private prev = new Map<string, { rxBytes: number; txBytes: number; time: number }>();
  private inside = new Map<string, InsideInfo>();
  private nat: { text: string[]; time: number } = { text: [], time: 0 };
  private manager: NetworkManagerLike | null;
  private managerChecked = false;
  private managerMessage = '';
  private readonly linkCache = new LinkCache();

  constructor(manager?: NetworkManagerLike | null) {
    this.manager = manager ?? null;
    if (manager) this.managerChecked = true;
  }

  /** Finds the network manager when none was handed in: the module may not exist yet. */
  private async findManager(engine: unknown): Promise<void> {
    if (this.managerChecked) return;
    this.managerChecked = true;
    if (isObj(engine)) {
      for (const k of ['network', 'networks', 'networkManager']) {
        const m = engine[k];
        if (isObj(m) && typeof m.topology === 'function') {
          this.manager = m as NetworkManagerLike;
          return;
        }
      }
    }
    try {
      const spec = '../network/index.js';
      const mod = (await import(/* @vite-ignore */ spec)) as Record<string, unknown>;
      const cand = mod.networkManager ?? mod.default;
      if (isObj(cand) && typeof cand.topology === 'function') {
        this.manager = cand as NetworkManagerLike;
        return;
      }
      this.managerMessage = 'the network manager is present but not handed to the inspector: showing what the kernel has';
    } catch {
      this.managerMessage = 'networking not available (no network manager): showing what the kernel has';
    }
  }

  private rate(name: string, c: { rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }, now: number): NetCounters {
    const p = this.prev.get(name);
    const dt = p ? (now - p.time) / 1000 : 0;
    const out: NetCounters = {
      ...c,
      rxBps: p && dt > 0 ? Math.max(0, (c.rxBytes - p.rxBytes) / dt) : 0,
      txBps: p && dt > 0 ? Math.max(0, (c.txBytes - p.txBytes) / dt) : 0,
    };
    return out;
  }

  private async readNat(): Promise<string[]> {
    if (Date.now() - this.nat.time < 5000) return this.nat.text;
    this.nat.time = Date.now();
    try {
      const { stdout } = await run('iptables', ['-w', '-t', 'nat', '-S'], { timeout: 3000 });
      this.nat.text = stdout.split('\n').filter((l) => /gb|glassbox|GLASSBOX|DNAT/.test(l) && l.startsWith('-A'));
    } catch {
      this.nat.text = [];
    }
    return this.nat.text;
  }

  async snapshot(records: ContainerRecord[], engine?: unknown): Promise<NetworkSnapshot> {
    await this.findManager(engine);
    const k = await readKernelNetwork(this.linkCache);
    const now = k.time;
    let mgr: FromManager = { bridges: new Map(), nat: [], endpoints: new Map() };
    let state: NetworkSnapshot['state'] = this.manager ? 'ok' : 'kernel-only';
    let message = this.manager ? undefined : this.managerMessage;
    if (this.manager?.topology) {
      try {
        mgr = fromManager(await this.manager.topology());
      } catch (e) {
        state = 'kernel-only';
        message = `network manager failed: ${(e as Error).message}`;
      }
    }
    const counters = (name: string) => {
      const c = k.counters.get(name);
      return c ? this.rate(name, c, now) : undefined;
    };

    const running = records.filter((r) => isActive(r.state.status));
    // with a manager, its own bridges only (another engine's, e.g. a test run's, are not this picture's)
    const bridgeLinks = k.links.filter((l) => l.linkinfo?.info_kind === 'bridge' && (mgr.bridges.size ? mgr.bridges.has(l.ifname) : l.ifname.startsWith('gb')));
    const bridges: NetBridge[] = bridgeLinks.map((l) => {
      const a = addrs(l);
      const m = mgr.bridges.get(l.ifname);
      return { name: l.ifname, addresses: a, subnet: m?.subnet ?? (a[0] ? subnetOf(a[0]) : undefined), gateway: m?.gateway ?? a[0]?.split('/')[0], state: l.operstate ?? 'UNKNOWN', counters: counters(l.ifname) };
    });
    const veths = k.links.filter((l) => l.linkinfo?.info_kind === 'veth');
    // looked up once per container below: by name, and (without a manager) by the id part of a
    // name like ours (gb…v<id prefix>), so 500 containers cost 500 lookups, not 500 × 500 scans
    const vethByName = new Map(veths.map((v) => [v.ifname, v]));
    const vethByIdPart = new Map<string, IpLink>();
    for (const v of veths) if (/^gb[a-z0-9]*v[0-9a-f]+$/.test(v.ifname)) vethByIdPart.set(v.ifname.slice(v.ifname.lastIndexOf('v') + 1), v);
    const idPartLengths = [...new Set([...vethByIdPart.keys()].map((k) => k.length))];
    const vethOf = (id: string, hostVeth?: string) => (hostVeth ? vethByName.get(hostVeth) : undefined) ?? idPartLengths.map((n) => vethByIdPart.get(id.slice(0, n))).find((v) => v);

    // host interfaces Glassbox made or uses: its bridges and veths, and the uplink (default route)
    const hostInterfaces: NetInterface[] = k.links
      .filter((l) => l.ifname === 'lo' || l.ifname.startsWith('gb') || (l.operstate === 'UP' && l.linkinfo?.info_kind === undefined && l.ifname !== 'lo'))
      .filter((l) => l.linkinfo?.info_kind !== 'veth' && l.linkinfo?.info_kind !== 'bridge')
      .map((l) => ({ name: l.ifname, kind: l.linkinfo?.info_kind ?? (l.flags?.includes('LOOPBACK') ? 'loopback' : 'device'), state: l.operstate ?? 'UNKNOWN', mac: l.address, addresses: addrs(l), master: l.master, counters: counters(l.ifname) }));

    const endpoints: NetEndpoint[] = [];
    const isolated: NetworkSnapshot['isolated'] = [];
    const hostStack: NetworkSnapshot['hostStack'] = [];
    const shared: NetworkSnapshot['shared'] = [];
    const insideWanted: { key: string; id: string; pid: number }[] = [];
    for (const r of running) {
      const mode = r.network?.mode ?? 'none';
      if (mode === 'none') {
        isolated.push({ containerId: r.id, name: r.name });
        continue;
      }
      if (mode === 'host') {
        hostStack.push({ containerId: r.id, name: r.name });
        continue;
      }
      if (mode.startsWith('container:')) {
        shared.push({ containerId: r.id, name: r.name, with: mode.slice('container:'.length) });
        continue;
      }
      const m = mgr.endpoints.get(r.id);
      const veth = vethOf(r.id, m?.hostVeth);
      const key = `${r.id}:${r.state.pid}`;
      const ins = this.inside.get(r.id);
      // the manager knows the routes it set; otherwise read them inside the namespace
      if (!m?.routes && (!ins || ins.key !== key)) insideWanted.push({ key, id: r.id, pid: r.state.pid });
      const hc = veth ? counters(veth.ifname) : undefined;
      endpoints.push({
        containerId: r.id,
        name: r.name,
        mode,
        hostVeth: veth?.ifname,
        containerIf: m?.containerIf ?? ins?.ifName ?? (veth ? 'eth0' : undefined),
        bridge: veth?.master,
        ip: m?.ip ?? r.network.ipAddress ?? ins?.ip?.split('/')[0],
        gateway: m?.gateway ?? r.network.gateway,
        mac: m?.mac ?? r.network.macAddress ?? ins?.mac,
        routes: m?.routes ?? ins?.routes ?? [],
        ports: (r.config.ports ?? []).map((p) => ({ ...p })),
        // what leaves the host end enters the container: swap rx and tx
        counters: hc ? { rxBytes: hc.txBytes, txBytes: hc.rxBytes, rxPackets: hc.txPackets, txPackets: hc.rxPackets, rxBps: hc.txBps, txBps: hc.rxBps } : undefined,
      });
    }
    // read at most a few namespaces per snapshot so 200 starting containers never stall it
    for (const w of insideWanted.slice(0, 8)) {
      const info = await readInside(w.pid);
      this.inside.set(w.id, { key: w.key, ...info });
    }
    const runningIds = new Set(running.map((r) => r.id));
    for (const id of this.inside.keys()) if (!runningIds.has(id)) this.inside.delete(id);

    this.prev.clear();
    for (const [name, c] of k.counters) this.prev.set(name, { rxBytes: c.rxBytes, txBytes: c.txBytes, time: now });

    const nat = mgr.nat.length ? mgr.nat : bridges.length || endpoints.length ? await this.readNat() : [];
    const isolation = mgr.isolation ? { isolation: mgr.isolation, ...(mgr.isolationDetail ? { isolationDetail: mgr.isolationDetail } : {}) } : {};
    return { kind: 'network', time: now, state, ...(message ? { message } : {}), hostInterfaces, bridges, endpoints, isolated, hostStack, shared, nat, ...isolation };
  }
}
