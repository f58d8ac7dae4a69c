// The host's side of the memory figure: every host process that belongs to a container — its
// cgroup's processes, its monitor, and the monitor's descendants (a runtime's sandbox or a UML
// kernel may sit under the monitor rather than in the cgroup) — with the memory of each as its
// PSS (smaps_rollup): a page shared by several of them (UML's guest memory is mapped in each of
// its host processes, gVisor's in its stubs) is counted once over all, not once per process as
// summing RSS would. A page shared with processes outside the set (libc, the sealed helper every
// monitor runs from) is divided among all of them: PSS is each one's share, not its whole size.
import { readdirSync, readFileSync } from 'node:fs';
import type { HostProcess } from './types.js';

function readStat(pid: number): { comm: string; ppid: number } | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = st.lastIndexOf(')');
    const comm = st.slice(st.indexOf('(') + 1, close);
    const ppid = Number(st.slice(close + 2).split(' ')[1]);
    return { comm, ppid };
  } catch {
    return null;
  }
}

/** Pss in kB (VmRSS where smaps_rollup cannot be read; 0 for a zombie; null when the process is gone). */
export function memoryKb(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* gone, or no smaps_rollup: the status file says */
  }
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Every descendant of `root` (not root itself), from one pass over /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(name));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** The container's host processes, each once, with its PSS; the gone ones are left out. */
export function containerProcesses(opts: { cgroupPids: number[]; monitorPid: number }): HostProcess[] {
  const via = new Map<number, HostProcess['via']>();
  if (opts.monitorPid > 0) via.set(opts.monitorPid, 'monitor');
  for (const p of opts.cgroupPids) if (!via.has(p)) via.set(p, 'cgroup');
  if (opts.monitorPid > 0) for (const p of descendants(opts.monitorPid)) if (!via.has(p)) via.set(p, 'tree');
  const out: HostProcess[] = [];
  for (const [pid, how] of via) {
    const rss = memoryKb(pid);
    const st = readStat(pid);
    if (rss === null || !st) continue;
    out.push({ pid, comm: st.comm, kb: rss, via: how });
  }
  return out.sort((a, b) => a.pid - b.pid);
}
