// An endpoint's leases: on each network it joins, an address (round-robin IPAM from ipam.ts, the
// network's cursor moves on), the MAC derived from it, a free host veth name and the next free
// ethN inside. The lease is only a record: wiring.ts makes the veth pair.
import { Conflict, InvalidArgument, NotFound } from '../types.js';
import { allocate, contains, intToIp, ipToInt, macFromIp, parseCidr, size } from './ipam.js';
import { ownFiles } from './state-file.js';
import type { Attachment, EndpointRecord, NetState, NetworkRecord } from './types.js';

export function endpointOf(s: NetState, containerId: string): EndpointRecord {
  const e = s.endpoints[containerId];
  if (!e) throw new NotFound(`container ${containerId} has no network endpoint (prepare() was not called)`);
  return e;
}

/** A bridge-mode endpoint with no leases yet (connect() before the container's first start). */
export function blankEndpoint(s: NetState, containerId: string, requested: string): EndpointRecord {
  const short = containerId.slice(0, 12);
  return { containerId, name: short, hostname: short, mode: 'bridge', requested, ports: [], attachments: [], pid: null, files: ownFiles(s, containerId) };
}

function usedVeths(s: NetState): Set<string> {
  return new Set(Object.values(s.endpoints).flatMap((e) => e.attachments.map((a) => a.hostVeth)));
}

export function lease(s: NetState, e: EndpointRecord, net: NetworkRecord, want: { ip?: string; mac?: string } = {}): Attachment {
  const taken = new Set(Object.values(s.endpoints).flatMap((x) => x.attachments.filter((a) => a.networkId === net.id && x.containerId !== e.containerId).map((a) => a.ip)));
  let addr: string;
  if (want.ip) {
    // --ip: Docker gives a chosen address only on a user-defined network, inside its subnet, free
    if (net.builtin) throw new InvalidArgument('--ip: user specified IP address is supported on user defined networks only');
    const cidr = parseCidr(net.subnet);
    if (!contains(cidr, ipToInt(want.ip)) || want.ip === net.gateway || want.ip === intToIp(cidr.base) || want.ip === intToIp(cidr.base + size(cidr) - 1)) {
      throw new InvalidArgument(`--ip ${want.ip}: not a host address of ${net.name}'s subnet ${net.subnet} (the gateway is ${net.gateway})`);
    }
    if (taken.has(want.ip)) throw new Conflict(`--ip ${want.ip}: Address already in use on network ${net.name}`);
    addr = want.ip;
  } else {
    // --ip-range: from the range; its own network and broadcast addresses are hosts of the subnet
    addr = allocate(parseCidr(net.ipRange ?? net.subnet), net.gateway, taken, net.cursor, net.ipRange ? parseCidr(net.subnet) : undefined);
    net.cursor = addr;
  }
  const used = usedVeths(s);
  let hostVeth = s.names.veth(e.containerId, 0);
  for (let k = 1; used.has(hostVeth); k++) hostVeth = s.names.veth(e.containerId, k);
  const ifs = new Set(e.attachments.map((a) => a.ifName));
  let n = 0;
  while (ifs.has(`eth${n}`)) n++;
  return { networkId: net.id, ip: addr, mac: want.mac?.toLowerCase() ?? macFromIp(addr), ifName: `eth${n}`, hostVeth, attached: false };
}
