// Linux bridges: one per Glassbox network (gb0 for the default one, gbr-<id> for user networks;
// other prefixes' names come from host/naming.ts), with the gateway address on the bridge itself.
import { ip, ipJson, linkExists, type IpLink, type IpRoute, type Recorder } from './ip.js';
import { formatCidr, parseCidr, type Cidr } from './ipam.js';

/** The default prefix's bridge (a serving Glassbox's); an engine uses its HostNames.bridge. */
export const DEFAULT_BRIDGE = 'gb0';

/** Creates the bridge if missing, puts the gateway address on it and brings it up. Idempotent. */
export async function ensureBridge(name: string, gateway: string, prefixLen: number, rec?: Recorder): Promise<void> {
  if (!/^gb/.test(name)) throw new Error(`refusing to manage a bridge not named gb*: ${name}`);
  if (!linkExists(name)) {
    await ip(['link', 'add', 'name', name, 'type', 'bridge'], { step: 'bridge-create', rec, detail: `a virtual switch for the network's containers` });
  }
  const [link] = await ipJson<IpLink[]>(['addr', 'show', 'dev', name]);
  const want = `${gateway}/${prefixLen}`;
  const have = (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  if (!have.includes(want)) {
    await ip(['addr', 'add', want, 'dev', name], { step: 'bridge-address', rec, detail: 'the gateway address, on the bridge' });
  }
  if (!(link?.flags ?? []).includes('UP')) await ip(['link', 'set', name, 'up'], { step: 'bridge-up', rec });
}

export async function deleteBridge(name: string, rec?: Recorder): Promise<void> {
  if (!/^gb/.test(name)) throw new Error(`refusing to delete a bridge not named gb*: ${name}`);
  if (linkExists(name)) await ip(['link', 'del', name], { step: 'bridge-delete', rec });
}

/** The gateway address already on a bridge (to adopt a gb0 left by an earlier run). */
export async function bridgeAddress(name: string): Promise<{ ip: string; prefixLen: number } | null> {
  if (!linkExists(name)) return null;
  const [link] = await ipJson<IpLink[]>(['addr', 'show', 'dev', name]);
  const a = (link?.addr_info ?? []).find((x) => x.family === 'inet');
  return a ? { ip: a.local, prefixLen: a.prefixlen } : null;
}

export interface HostPrefix {
  cidr: Cidr;
  text: string;
  dev?: string;
  what: 'route' | 'address';
}

/** Every IPv4 prefix the host uses (routes and addresses), except the default route. */
export async function hostPrefixes(): Promise<HostPrefix[]> {
  const out: HostPrefix[] = [];
  const [routes, links] = await Promise.all([ipJson<IpRoute[]>(['-4', 'route', 'show', 'table', 'all']), ipJson<IpLink[]>(['-4', 'addr', 'show'])]);
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || !/^[\d.]+(\/\d+)?$/.test(r.dst)) continue;
    if (r.dst.startsWith('127.') || r.dst.startsWith('255.') || /^22[4-9]\.|^23\d\./.test(r.dst)) continue; // local table noise
    const text = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    try {
      out.push({ cidr: parseCidr(text, false), text, dev: r.dev, what: 'route' });
    } catch {
      /* not IPv4 */
    }
  }
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.family !== 'inet' || a.local.startsWith('127.')) continue;
      const text = `${a.local}/${a.prefixlen}`;
      const c = parseCidr(text, false);
      out.push({ cidr: { base: c.base, bits: c.bits }, text: formatCidr(c), dev: l.ifname, what: 'address' });
    }
  }
  return out;
}
