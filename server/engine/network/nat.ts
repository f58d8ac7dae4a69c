// iptables rules, only in chains Glassbox owns: GLASSBOX-FORWARD (filter), GLASSBOX-DNAT and
// GLASSBOX-POSTROUTING (nat), plus one jump to each from a built-in chain. The whole content of
// the chains is rewritten from a model in one iptables-restore --noflush per change (atomic per
// table; the host's other chains are not touched).
import { formatCall, run, type Recorder } from './ip.js';

export const CHAINS = { forward: 'GLASSBOX-FORWARD', dnat: 'GLASSBOX-DNAT', post: 'GLASSBOX-POSTROUTING' } as const;

export interface NatNetwork {
  bridge: string;
  subnet: string;
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
export const JUMPS: [string, string, string[]][] = [
  ['filter', 'FORWARD', ['-j', CHAINS.forward]],
  ['nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAINS.dnat]],
  // 127.0.0.0/8 is left to the userland proxy (no route_localnet needed)
  ['nat', 'OUTPUT', ['!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAINS.dnat]],
  ['nat', 'POSTROUTING', ['-j', CHAINS.post]],
];

function isLoopback(hostIp?: string): boolean {
  return !!hostIp && hostIp.startsWith('127.');
}

function isAny(hostIp?: string): boolean {
  return !hostIp || hostIp === '0.0.0.0';
}

/** The rules, in iptables -S form, for each of our chains. */
export function renderRules(m: NatModel): { filter: string[]; nat: string[] } {
  const f = CHAINS.forward;
  const filter: string[] = [];
  for (const n of m.networks) filter.push(`-A ${f} -i ${n.bridge} -o ${n.bridge} -j ACCEPT`);
  // isolation: no traffic from one Glassbox network to another
  filter.push(`-A ${f} -i gb+ -o gb+ -j DROP`);
  for (const n of m.networks) filter.push(`-A ${f} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  for (const p of m.ports) filter.push(`-A ${f} -d ${p.ip}/32 -o ${p.bridge} -p ${p.protocol} -m ${p.protocol} --dport ${p.containerPort} -j ACCEPT`);
  for (const n of m.networks) filter.push(`-A ${f} -i ${n.bridge} -j ACCEPT`);
  // nothing else gets in to a bridge from outside (published ports are accepted above)
  for (const n of m.networks) filter.push(`-A ${f} -o ${n.bridge} -j DROP`);

  const nat: string[] = [];
  for (const p of m.ports) {
    if (isLoopback(p.hostIp)) continue; // only the proxy listens there
    const dst = isAny(p.hostIp) ? '' : ` -d ${p.hostIp}/32`;
    // traffic from our bridges goes to the proxy (hairpin and other networks), like docker-proxy
    nat.push(`-A ${CHAINS.dnat}${dst} ! -i gb+ -p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j DNAT --to-destination ${p.ip}:${p.containerPort}`);
  }
  for (const n of m.networks) nat.push(`-A ${CHAINS.post} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
  return { filter, nat };
}

function restoreText(r: { filter: string[]; nat: string[] }): string {
  return [
    '*filter',
    `:${CHAINS.forward} - [0:0]`,
    ...r.filter,
    'COMMIT',
    '*nat',
    `:${CHAINS.dnat} - [0:0]`,
    `:${CHAINS.post} - [0:0]`,
    ...r.nat,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Rewrites our chains from the model (skipped when the rules are what was applied last, `applied`);
 * with checkJumps, also adds the jumps from the built-in chains if missing.
 */
export async function syncRules(m: NatModel, o: { rec?: Recorder; step?: string; applied?: string[]; checkJumps?: boolean } = {}): Promise<string[]> {
  const rules = renderRules(m);
  const all = [...rules.filter, ...rules.nat];
  const same = o.applied !== undefined && o.applied.length === all.length && o.applied.every((r, i) => r === all[i]);
  if (!same) {
    const t = performance.now();
    await run('iptables-restore', ['-w', '--noflush'], { input: restoreText(rules) });
    o.rec?.({ step: o.step ?? 'iptables', ms: performance.now() - t, started: t, call: 'iptables-restore -w --noflush', detail: `${CHAINS.forward}, ${CHAINS.dnat}, ${CHAINS.post} rewritten: ${all.length} rules` });
  }
  if (o.checkJumps) await ensureJumps(o.rec);
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

export async function ensureJumps(rec?: Recorder): Promise<void> {
  for (const [table, chain, args] of JUMPS) {
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
export async function removeAllRules(): Promise<void> {
  for (const [table, chain, args] of JUMPS) {
    for (let i = 0; i < 10 && (await has(table, chain, args)); i++) await run('iptables', ['-w', '-t', table, '-D', chain, ...args]);
  }
  for (const [table, chain] of [['filter', CHAINS.forward], ['nat', CHAINS.dnat], ['nat', CHAINS.post]] as const) {
    if (!(await chainExists(table, chain))) continue;
    await run('iptables', ['-w', '-t', table, '-F', chain]);
    await run('iptables', ['-w', '-t', table, '-X', chain]);
  }
}

/** What is installed now (iptables -S of our chains), for checks and the topology. */
export async function installedRules(): Promise<string[]> {
  const out: string[] = [];
  for (const [table, chain] of [['filter', CHAINS.forward], ['nat', CHAINS.dnat], ['nat', CHAINS.post]] as const) {
    try {
      const { stdout } = await run('iptables', ['-w', '-t', table, '-S', chain]);
      out.push(...stdout.split('\n').filter((l) => l.startsWith('-A ')));
    } catch {
      /* chain absent */
    }
  }
  return out;
}
