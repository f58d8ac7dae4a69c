// Per-interface counters of a container's network namespace: /proc/<pid>/net/dev of a process in
// it shows the interfaces of *its* namespace (the file follows the reader's target, not the host),
// which is where Docker's stats "networks" come from too. lo is left out, as Docker leaves it out.
import { readFileSync } from 'node:fs';

export interface NetDevCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** The text of /proc/<pid>/net/dev → counters by interface name (lo left out). */
export function parseNetDev(text: string): Record<string, NetDevCounters> {
  const out: Record<string, NetDevCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs drop ...
    out[m[1]] = { rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3], txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11] };
  }
  return out;
}

/** The counters of the namespace init lives in; empty when the process is gone. */
export function readNetDev(pid: number): Record<string, NetDevCounters> {
  try {
    return parseNetDev(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
  } catch {
    return {};
  }
}
