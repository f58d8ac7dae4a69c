// iptables rules, only in chains Glassbox owns: GLASSBOX-FORWARD (filter), GLASSBOX-DNAT and
// GLASSBOX-POSTROUTING (nat), plus one jump to each from a built-in chain. The whole content of
// the chains is rewritten from a model in one iptables-restore --noflush per change (atomic per
// table; the host's other chains are not touched). Another prefix (a test run beside a server) has
// chains of its own (GLASSBOX-T7-FORWARD ...): every verdict here names one of this engine's own
// bridges, so a packet between another engine's bridges passes through these chains untouched.
import { formatCall, run, type Recorder } from './ip.js';

export interface Chains {
  forward: string;
  dnat: string;
  post: string;
}

/** The default prefix's chains (a serving Glassbox's). */
export const CHAINS: Chains = { forward: 'GLASSBOX-FORWARD', dnat: 'GLASSBOX-DNAT', post: 'GLASSBOX-POSTROUTING' };

export interface NatNetwork {
  bridge: string;
  subnet: string;
  /** --internal: containers reach each other on the bridge, and nothing beyond it */
  internal?: boolean;
}

export interface NatPort {
  containerId: string;
  ip: string;
  bridge: string;
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface NatModel {
  networks: NatNetwork[];
  ports: NatPort[];
}

/** The jumps from the built-in chains: [table, chain, rule args]. */
export function jumps(c: Chains = CHAINS): [string, string, string[]][] {
  return [
    ['filter', 'FORWARD', ['-j', c.forward]],
    ['nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
    // 127.0.0.0/8 is left to the userland proxy (no route_localnet needed)
    ['nat', 'OUTPUT', ['!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
    ['nat', 'POSTROUTING', ['-j', c.post]],
  ];
}

export const JUMPS = jumps(CHAINS);

function isLoopback(hostIp?: string): boolean {
  return !!hostIp && hostIp.startsWith('127.');
}

function isAny(hostIp?: string): boolean {
  return !hostIp || hostIp === '0.0.0.0';
}

/** The rules, in iptables -S form, for each of our chains. */
export function renderRules(m: NatModel, c: Chains = CHAINS): { filter: string[]; nat: string[] } {
  const f = c.forward;
  const filter: string[] = [];
  for (const n of m.networks) filter.push(`-A ${f} -i ${n.bridge} -o ${n.bridge} -j ACCEPT`);
  // isolation: no traffic from one Glassbox network to another (any prefix's: gb+), in either
  // direction; only our own bridges are named, so another engine's traffic between its own
  // bridges gets its verdict in its own chain
  for (const n of m.networks) {
    filter.push(`-A ${f} -i ${n.bridge} -o gb+ -j DROP`);
    filter.push(`-A ${f} -i gb+ -o ${n.bridge} -j DROP`);
  }
  for (const n of m.networks) filter.push(`-A ${f} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  const internal = new Set(m.networks.filter((n) => n.internal).map((n) => n.bridge));
  // an internal network publishes nothing (as Docker) and forwards nothing out
  for (const p of m.ports) if (!internal.has(p.bridge)) filter.push(`-A ${f} -d ${p.ip}/32 -o ${p.bridge} -p ${p.protocol} -m ${p.protocol} --dport ${p.containerPort} -j ACCEPT`);
  for (const n of m.networks) filter.push(`-A ${f} -i ${n.bridge} -j ${n.internal ? 'DROP' : 'ACCEPT'}`);
  // nothing else gets in to a bridge from outside (published ports are accepted above)
  for (const n of m.networks) filter.push(`-A ${f} -o ${n.bridge} -j DROP`);

  const nat: string[] = [];
  for (const p of m.ports) {
    if (isLoopback(p.hostIp) || internal.has(p.bridge)) continue; // only the proxy listens there
    const dst = isAny(p.hostIp) ? '' : ` -d ${p.hostIp}/32`;
    // traffic from our bridges goes to the proxy (hairpin and other networks), like docker-proxy
    nat.push(`-A ${c.dnat}${dst} ! -i gb+ -p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j DNAT --to-destination ${p.ip}:${p.containerPort}`);
  }
  for (const n of m.networks) if (!n.internal) nat.push(`-A ${c.post} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
  return { filter, nat };
}

function restoreText(r: { filter: string[]; nat: string[] }, c: Chains): string {
  return [
    '*filter',
    `:${c.forward} - [0:0]`,
    ...r.filter,
    'COMMIT',
    '*nat',
    `:${c.dnat} - [0:0]`,
    `:${c.post} - [0:0]`,
    ...r.nat,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Rewrites our chains from the model (skipped when the rules are what was applied last, `applied`);
 * with checkJumps, also adds the jumps from the built-in chains if missing.
 */
export async function syncRules(m: NatModel, o: { chains?: Chains; rec?: Recorder; step?: string; applied?: string[]; checkJumps?: boolean } = {}): Promise<string[]> {
  const c = o.chains ?? CHAINS;
  const rules = renderRules(m, c);
  const all = [...rules.filter, ...rules.nat];
  const same = o.applied !== undefined && o.applied.length === all.length && o.applied.every((r, i) => r === all[i]);
  if (!same) {
    const t = performance.now();
    await run('iptables-restore', ['-w', '--noflush'], { input: restoreText(rules, c) });
    o.rec?.({ step: o.step ?? 'iptables', ms: performance.now() - t, started: t, call: 'iptables-restore -w --noflush', detail: `${c.forward}, ${c.dnat}, ${c.post} rewritten: ${all.length} rules` });
  }
  if (o.checkJumps) await ensureJumps(c, o.rec);
  return all;
}

async function has(table: string, chain: string, args: string[]): Promise<boolean> {
  try {
    await run('iptables', ['-w', '-t', table, '-C', chain, ...args]);
    return true;
  } catch {
    return false;
  }
}

export async function ensureJumps(c: Chains = CHAINS, rec?: Recorder): Promise<void> {
  for (const [table, chain, args] of jumps(c)) {
    if (await has(table, chain, args)) continue;
    const argv = ['-w', '-t', table, '-I', chain, '1', ...args];
    const t = performance.now();
    await run('iptables', argv);
    rec?.({ step: 'iptables-jump', ms: performance.now() - t, started: t, call: formatCall('iptables', argv) });
  }
}

async function chainExists(table: string, chain: string): Promise<boolean> {
  try {
    await run('iptables', ['-w', '-t', table, '-S', chain]);
    return true;
  } catch {
    return false;
  }
}

/** Removes the jumps and our chains (the host's own rules stay as they were). */
export async function removeAllRules(c: Chains = CHAINS): Promise<void> {
  for (const [table, chain, args] of jumps(c)) {
    for (let i = 0; i < 10 && (await has(table, chain, args)); i++) await run('iptables', ['-w', '-t', table, '-D', chain, ...args]);
  }
  for (const [table, chain] of [['filter', c.forward], ['nat', c.dnat], ['nat', c.post]] as const) {
    if (!(await chainExists(table, chain))) continue;
    await run('iptables', ['-w', '-t', table, '-F', chain]);
    await run('iptables', ['-w', '-t', table, '-X', chain]);
  }
}

/** What is installed now (iptables -S of our chains), for checks and the topology. */
export async function installedRules(c: Chains = CHAINS): Promise<string[]> {
  const out: string[] = [];
  for (const [table, chain] of [['filter', c.forward], ['nat', c.dnat], ['nat', c.post]] as const) {
    try {
      const { stdout } = await run('iptables', ['-w', '-t', table, '-S', chain]);
      out.push(...stdout.split('\n').filter((l) => l.startsWith('-A ')));
    } catch {
      /* chain absent */
    }
  }
  return out;
}
