// Networks: one Linux bridge each. The default network "bridge" (gb0) is made at init, on a
// subnet that collides with nothing on the host; user networks (gbr-<id>) get a given subnet or
// the next free candidate. "host" and "none" are pseudo networks: no bridge, listed for Docker.
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, NotFound } from '../types.js';
import { bridgeAddress, deleteBridge, ensureBridge, hostPrefixes } from './bridge.js';
import type { Recorder } from './ip.js';
import { checkGateway, contains, defaultCandidates, firstHost, formatCidr, ipToInt, overlaps, parseCidr, userCandidates } from './ipam.js';
import { syncNat } from './nat-sync.js';
import { saveState } from './state-file.js';
import type { NetState, NetworkCreateRequest, NetworkInfo, NetworkRecord } from './types.js';

const PSEUDO = {
  host: { id: 'e5d2a3c1b9f84e6d8c7b6a5948372615e5d2a3c1b9f84e6d8c7b6a5948372615', driver: 'host' as const },
  none: { id: '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', driver: 'null' as const },
};

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** By name, full id, or an unambiguous id prefix of 3 characters or more. */
export function findNetwork(s: NetState, idOrName: string): NetworkRecord {
  const n =
    s.networks.find((x) => x.name === idOrName) ??
    s.networks.find((x) => x.id === idOrName) ??
    (idOrName.length >= 3 ? s.networks.filter((x) => x.id.startsWith(idOrName)) : []).find((_, __, all) => all.length === 1);
  if (!n) throw new NotFound(`network ${idOrName} not found`);
  return n;
}

function info(s: NetState, n: NetworkRecord): NetworkInfo {
  const containers: NetworkInfo['containers'] = {};
  for (const e of Object.values(s.endpoints)) {
    const a = e.attachments.find((x) => x.networkId === n.id);
    if (a) containers[e.containerId] = { name: e.name, ip: a.ip, prefixLen: n.prefixLen, mac: a.mac, veth: a.hostVeth, ifName: a.ifName, attached: a.attached };
  }
  return { id: n.id, name: n.name, driver: 'bridge', scope: 'local', created: n.created, builtin: n.builtin, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, ...(n.ipRange ? { ipRange: n.ipRange } : {}), ...(n.internal ? { internal: true } : {}), labels: { ...n.labels }, containers };
}

function pseudoInfo(s: NetState, name: 'host' | 'none'): NetworkInfo {
  const containers: NetworkInfo['containers'] = {};
  for (const e of Object.values(s.endpoints)) {
    if (e.mode === name) containers[e.containerId] = { name: e.name, ip: '', prefixLen: 0, mac: '', veth: '', ifName: '', attached: e.pid !== null };
  }
  return { id: PSEUDO[name].id, name, driver: PSEUDO[name].driver, scope: 'local', created: new Date(0).toISOString(), builtin: true, labels: {}, containers };
}

export function listNetworks(s: NetState): NetworkInfo[] {
  return [...s.networks.map((n) => info(s, n)), pseudoInfo(s, 'host'), pseudoInfo(s, 'none')];
}

export function inspectNetwork(s: NetState, idOrName: string): NetworkInfo {
  for (const p of ['host', 'none'] as const) if (idOrName === p || idOrName === PSEUDO[p].id) return pseudoInfo(s, p);
  return info(s, findNetwork(s, idOrName));
}

/** The first candidate that overlaps neither the host's routes/addresses nor another network. */
async function pickSubnet(s: NetState, candidates: Iterable<string>, what: string): Promise<string> {
  const host = await hostPrefixes();
  const ours = new Set(s.networks.map((n) => n.bridge));
  for (const cand of candidates) {
    const c = parseCidr(cand);
    if (s.networks.some((n) => overlaps(parseCidr(n.subnet), c))) continue;
    if (host.some((h) => !(h.dev && ours.has(h.dev)) && overlaps(h.cidr, c))) continue;
    return cand;
  }
  throw new InvalidArgument(`no free subnet for ${what}: every candidate overlaps the host's routes or another network; give one with --subnet`);
}

/** At init: the default network's record (made or adopted, first in the list) and every bridge in place. */
export async function ensureNetworks(s: NetState, rec: Recorder): Promise<void> {
  let def = s.networks.find((n) => n.builtin);
  if (def && def.bridge !== s.names.bridge) {
    throw new InvalidArgument(`the state under ${s.root} belongs to the Glassbox prefix whose bridge is ${def.bridge}, not ${s.names.bridge}: open it with that GLASSBOX_PREFIX, or use another GLASSBOX_ROOT`);
  }
  if (!def) {
    const existing = await bridgeAddress(s.names.bridge);
    let subnet: string;
    let gateway: string;
    if (existing) {
      // a gb0 made by an earlier Glassbox (state lost): adopt its subnet
      const c = parseCidr(`${existing.ip}/${existing.prefixLen}`, false);
      subnet = formatCidr(c);
      gateway = existing.ip;
    } else {
      subnet = await pickSubnet(s, defaultCandidates(), 'the default network');
      gateway = firstHost(parseCidr(subnet));
    }
    def = {
      id: randomBytes(32).toString('hex'),
      name: 'bridge',
      driver: 'bridge',
      bridge: s.names.bridge,
      subnet,
      gateway,
      prefixLen: parseCidr(subnet).bits,
      labels: {},
      created: new Date().toISOString(),
      builtin: true,
    };
    s.networks.unshift(def);
    saveState(s);
  }
  for (const n of s.networks) await ensureBridge(n.bridge, n.gateway, n.prefixLen, rec);
}

export async function createNetwork(s: NetState, req: NetworkCreateRequest): Promise<NetworkInfo> {
  const name = req.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw new InvalidArgument(`invalid network name ${JSON.stringify(name)}: use letters, digits, '_', '.' and '-' (at most 63 characters)`);
  if (name === 'host' || name === 'none' || name === 'bridge' || name === 'default') throw new InvalidArgument(`network name ${name} is reserved`);
  if (s.networks.some((n) => n.name === name)) throw new Conflict(`network with name ${name} already exists`);
  let subnet: string;
  if (req.subnet) {
    const c = parseCidr(req.subnet);
    if (c.bits > 30) throw new InvalidArgument(`subnet ${req.subnet} is too small: use a prefix of /30 or shorter`);
    subnet = formatCidr(c);
    const other = s.networks.find((n) => overlaps(parseCidr(n.subnet), c));
    if (other) throw new InvalidArgument(`invalid pool request: subnet ${subnet} overlaps with network ${other.name} (${other.subnet})`);
    const ours = new Set(s.networks.map((n) => n.bridge));
    const host = (await hostPrefixes()).find((h) => !(h.dev && ours.has(h.dev)) && overlaps(h.cidr, c));
    if (host) throw new InvalidArgument(`invalid pool request: subnet ${subnet} overlaps with the host's ${host.what} ${host.text}${host.dev ? ` on ${host.dev}` : ''}`);
  } else {
    if (req.gateway) throw new InvalidArgument('a gateway needs a subnet (--subnet)');
    subnet = await pickSubnet(s, userCandidates(), `network ${name}`);
  }
  const c = parseCidr(subnet);
  const gateway = req.gateway ?? firstHost(c);
  ipToInt(gateway);
  checkGateway(c, gateway);
  let ipRange: string | undefined;
  if (req.ipRange) {
    // --ip-range: a CIDR inside the subnet that addresses are handed out from
    if (!req.subnet) throw new InvalidArgument('--ip-range needs a subnet (--subnet)');
    const r = parseCidr(req.ipRange);
    if (r.bits < c.bits || !contains(c, r.base)) throw new InvalidArgument(`--ip-range ${req.ipRange} is not inside the subnet ${subnet}`);
    if (r.bits > 30) throw new InvalidArgument(`--ip-range ${req.ipRange} is too small: use a prefix of /30 or shorter`);
    ipRange = formatCidr(r);
  }
  const id = randomBytes(32).toString('hex');
  const net: NetworkRecord = {
    id,
    name,
    driver: 'bridge',
    bridge: s.names.userBridge(id),
    subnet,
    gateway,
    prefixLen: c.bits,
    labels: { ...(req.labels ?? {}) },
    created: new Date().toISOString(),
    builtin: false,
    ...(ipRange ? { ipRange } : {}),
    ...(req.internal ? { internal: true } : {}),
  };
  await ensureBridge(net.bridge, gateway, c.bits);
  s.networks.push(net);
  try {
    saveState(s);
    await syncNat(s);
  } catch (e) {
    s.networks = s.networks.filter((n) => n.id !== id);
    saveState(s);
    await deleteBridge(net.bridge).catch(() => {});
    throw e;
  }
  return info(s, net);
}

export async function removeNetwork(s: NetState, idOrName: string): Promise<void> {
  if (idOrName === 'host' || idOrName === 'none' || idOrName === PSEUDO.host.id || idOrName === PSEUDO.none.id) {
    throw new InvalidArgument(`${idOrName} is a pre-defined network and cannot be removed`);
  }
  const n = findNetwork(s, idOrName);
  if (n.builtin) throw new InvalidArgument(`${n.name} is a pre-defined network and cannot be removed`);
  const users = Object.values(s.endpoints).filter((e) => e.attachments.some((a) => a.networkId === n.id));
  if (users.length) throw new Conflict(`error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.map((u) => u.name).join(', ')})`);
  s.networks = s.networks.filter((x) => x.id !== n.id);
  saveState(s);
  await syncNat(s);
  await deleteBridge(n.bridge);
}
