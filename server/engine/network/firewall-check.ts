// Is the isolation still in place? Something outside Glassbox (a firewall reload, `iptables -F`,
// another tool) can remove the jumps into our chains or flush them; containers on different
// networks could then reach each other and nothing would say so. One `iptables-save` (it reads the
// tables without taking the xtables lock) tells whether the four jumps exist and whether our chains
// hold exactly the rules we wrote; reconcileFirewall() re-adds them when not, and the manager runs
// it on a timer (ReconcileTimer).
import { run } from './ip.js';
import { jumps, type Chains } from './nat.js';
import { syncNat } from './nat-sync.js';
import type { IsolationChange, NetState } from './types.js';

export interface FirewallCheck {
  ok: boolean;
  /** "FORWARD -j GLASSBOX-FORWARD", ... */
  missingJumps: string[];
  /** our chains that do not exist at all */
  missingChains: string[];
  /** a chain exists but its rules are not the ones we wrote (flushed, edited) */
  changedRules: boolean;
}

/** Parses `iptables-save` output into table -> lines (declarations ":X" and rules "-A X ..."). */
function byTable(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      cur = [];
      out.set(line.slice(1).trim(), cur);
    } else if (cur && (line.startsWith(':') || line.startsWith('-A '))) cur.push(line);
  }
  return out;
}

/** Compares the kernel's tables with what we applied (`expected`: the rules as syncRules rendered them). */
export function compareFirewall(saveText: string, c: Chains, expected: string[]): FirewallCheck {
  const tables = byTable(saveText);
  const lines = (t: string) => tables.get(t) ?? [];
  const missingJumps: string[] = [];
  for (const [table, chain, args] of jumps(c)) {
    const want = `-A ${chain} ${args.join(' ')}`;
    if (!lines(table).includes(want)) missingJumps.push(`${chain} ${args.join(' ')}`);
  }
  const ours: [string, string][] = [
    ['filter', c.forward],
    ['nat', c.dnat],
    ['nat', c.post],
  ];
  const missingChains = ours.filter(([t, ch]) => !lines(t).some((l) => l.startsWith(`:${ch} `))).map(([, ch]) => ch);
  const installed = ours.flatMap(([t, ch]) => lines(t).filter((l) => l.startsWith(`-A ${ch} `)));
  const want = [...expected].sort();
  const have = [...installed].sort();
  const changedRules = want.length !== have.length || want.some((r, i) => r !== have[i]);
  return { ok: !missingJumps.length && !missingChains.length && !changedRules, missingJumps, missingChains, changedRules };
}

export async function checkFirewall(c: Chains, expected: string[]): Promise<FirewallCheck> {
  const { stdout } = await run('iptables-save', []);
  return compareFirewall(stdout, c, expected);
}

export function describeCheck(r: FirewallCheck): string {
  const parts: string[] = [];
  if (r.missingJumps.length) parts.push(`missing jumps: ${r.missingJumps.join('; ')}`);
  if (r.missingChains.length) parts.push(`missing chains: ${r.missingChains.join(', ')}`);
  if (r.changedRules) parts.push('the rules in our chains were changed');
  return parts.join('; ') || 'isolation rules in place';
}

/** The last check's finding, shown by the topology view. */
export interface IsolationState {
  state: 'ok' | 'missing';
  detail?: string;
}

/**
 * Checks that our jumps and chains are what we wrote and re-adds them if not. `isolation` is
 * updated in place: it stays 'missing' until a later check finds them in place, so the diagram
 * can say so for a moment.
 */
export async function reconcileFirewall(s: NetState, isolation: IsolationState, onChange?: (c: IsolationChange) => void): Promise<FirewallCheck> {
  const found = await checkFirewall(s.names.chains, s.rules);
  if (found.ok) {
    if (isolation.state === 'missing') {
      isolation.state = 'ok';
      delete isolation.detail;
      onChange?.({ state: 'restored', detail: 'isolation rules back in place', time: Date.now() });
    }
    return found;
  }
  const detail = describeCheck(found);
  isolation.state = 'missing';
  isolation.detail = `isolation rules missing — re-adding (${detail})`;
  onChange?.({ state: 'missing', detail, time: Date.now() });
  await syncNat(s, undefined, 'iptables-reconcile', true);
  return found;
}

/** Runs a check every intervalMs, one at a time (the next is scheduled when one ends), until stop(). */
export class ReconcileTimer {
  private timer: NodeJS.Timeout | null = null;

  /** `alive`: false once the manager is torn down (the timer then ends). */
  start(intervalMs: number, check: () => Promise<unknown>, alive: () => boolean): void {
    this.stop();
    const tick = () => {
      this.timer = setTimeout(() => {
        if (!alive()) return;
        void check()
          .catch(() => {
            /* iptables busy or gone: the next tick tries again */
          })
          .finally(() => {
            if (this.timer) tick();
          });
      }, intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
