// IPv4 address arithmetic and the address allocator. Pure functions: the manager keeps the leases
// on disk and passes in what is taken.
import { InvalidArgument } from '../types.js';

export interface Cidr {
  /** network address as an unsigned 32-bit integer */
  base: number;
  bits: number;
}

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) throw new InvalidArgument(`invalid IPv4 address: ${JSON.stringify(ip)}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new InvalidArgument(`invalid IPv4 address: ${JSON.stringify(ip)}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function maskOf(bits: number): number {
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

/** Parses "a.b.c.d/n"; with strict, host bits must be zero (Docker's "invalid subnet"). */
export function parseCidr(text: string, strict = true): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new InvalidArgument(`invalid subnet ${JSON.stringify(text)}: expected an IPv4 CIDR such as 10.90.0.0/24`);
  const bits = Number(m[2]);
  if (bits > 32) throw new InvalidArgument(`invalid subnet ${JSON.stringify(text)}: prefix length must be 0..32`);
  const n = ipToInt(m[1]);
  const base = (n & maskOf(bits)) >>> 0;
  if (strict && base !== n) throw new InvalidArgument(`invalid subnet ${text}: host bits are set (did you mean ${intToIp(base)}/${bits}?)`);
  return { base, bits };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.bits}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.bits)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const m = maskOf(bits);
  return ((a.base & m) >>> 0) === ((b.base & m) >>> 0);
}

/** The first usable address (network + 1): the gateway by default. */
export function firstHost(c: Cidr): string {
  return intToIp(c.base + 1);
}

/** Checks a gateway given by the user: inside the subnet, not the network or broadcast address. */
export function checkGateway(c: Cidr, gateway: string): void {
  const g = ipToInt(gateway);
  if (!contains(c, g)) throw new InvalidArgument(`gateway ${gateway} is not inside the subnet ${formatCidr(c)}`);
  if (c.bits < 31 && (g === c.base || g === c.base + size(c) - 1)) {
    throw new InvalidArgument(`gateway ${gateway} is the network or broadcast address of ${formatCidr(c)}`);
  }
}

/**
 * The next free address after `cursor` (round robin, like Docker, so a just-released address is not
 * handed out again at once and stale ARP entries age out). Skips network, broadcast and gateway.
 */
export function allocate(c: Cidr, gateway: string, taken: Set<string>, cursor?: string, subnet?: Cidr): string {
  if (c.bits > 30) throw new InvalidArgument(`subnet ${formatCidr(c)} is too small for containers`);
  // a range inside a subnet (--ip-range) may use its own first and last address, unless they are the subnet's
  const first = subnet ? Math.max(c.base, subnet.base + 1) : c.base + 1;
  const last = subnet ? Math.min(c.base + size(c) - 1, subnet.base + size(subnet) - 2) : c.base + size(c) - 2;
  const span = last - first + 1;
  const gw = ipToInt(gateway);
  let start = cursor ? ipToInt(cursor) + 1 : first;
  if (start < first || start > last) start = first;
  for (let i = 0; i < span; i++) {
    const n = first + ((start - first + i) % span);
    if (n === gw) continue;
    const ip = intToIp(n);
    if (!taken.has(ip)) return ip;
  }
  throw new InvalidArgument(`no free address left in ${formatCidr(c)}`);
}

/** Docker's MAC for an address: 02:42 then the four bytes of the IPv4 address. */
export function macFromIp(ip: string): string {
  const n = ipToInt(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Candidate subnets for the default network, then for user networks (first free one wins). */
export function* defaultCandidates(): Generator<string> {
  yield '172.29.0.0/16';
  yield '10.89.0.0/16';
  yield '172.30.0.0/16';
  yield '172.31.0.0/16';
  for (let i = 0; i < 256; i += 16) yield `192.168.${i === 0 ? 229 : i}.0/24`;
}

export function* userCandidates(): Generator<string> {
  for (let a = 90; a < 100; a++) for (let b = 0; b < 256; b++) yield `10.${a}.${b}.0/24`;
}
