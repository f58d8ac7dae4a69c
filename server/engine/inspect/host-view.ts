// "Same command, three views": what `ps`, `ip link`, `hostname` and `mount` answer, read by the
// server from /proc for the host and for a container, never by running a command anywhere. Each
// answer is read through a process of the namespace it is about:
//   processes  /proc/*/ns/pid == the process's pid namespace; the pid shown is the one it has there
//              (the last NSpid); comm only: no command lines, no other users' arguments
//   links      /proc/PID/net/dev lists the interfaces of PID's network namespace
//   mounts     /proc/PID/mountinfo: the mounts of PID's mount namespace
//   hostname   the host's from os.hostname(); a container's from its record (set at start)
// Read only, small on purpose: at most MAX_PROCS processes and MAX_MOUNTS mounts.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { hostnameOf } from '../lifecycle/etc-files.js';
import { isActive } from '../lifecycle/state.js';
import { Conflict, type ContainerRecord } from '../types.js';
import { parseMountinfo } from '../util/mountinfo.js';
import { parseStatus } from './namespaces.js';
import type { NsProcess } from './types.js';

const MAX_PROCS = 300;
const MAX_MOUNTS = 200;
export const VIEW_NS = ['pid', 'net', 'uts', 'mnt'] as const;
export type ViewNs = (typeof VIEW_NS)[number];

export interface ProcView {
  /** 'host' or the container id */
  who: string;
  name: string;
  /** the process the answers were read through */
  pid: number;
  ns: Partial<Record<ViewNs, number>>;
  /** per namespace type: true when it is the host's */
  sharesHost: Partial<Record<ViewNs, boolean>>;
  processes: { pid: number; comm: string }[];
  processCount: number;
  links: { name: string; rxBytes: number; txBytes: number }[];
  hostname: string;
  mounts: { mountPoint: string; fsType: string; source: string }[];
  mountCount: number;
  /** a learner's view: what is on the host but not theirs, counted, not shown */
  hidden?: { processes: number; links: number; mounts: number };
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

function inode(pid: number, t: string): number | undefined {
  try {
    const l = readlinkSync(`/proc/${pid}/ns/${t}`);
    return Number(l.slice(l.indexOf('[') + 1, -1));
  } catch {
    return undefined;
  }
}

/** /proc/PID/net/dev: "  eth0: 1234 5 0 0 0 0 0 0 5678 …" (rx bytes first, tx bytes ninth). */
export function parseNetDev(text: string): ProcView['links'] {
  const out: ProcView['links'] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    out.push({ name: line.slice(0, colon).trim(), rxBytes: f[0] ?? 0, txBytes: f[8] ?? 0 });
  }
  return out;
}

function processesIn(pidNs: number | undefined): { list: ProcView['processes']; count: number } {
  const list: ProcView['processes'] = [];
  let count = 0;
  if (pidNs === undefined) return { list, count };
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (inode(pid, 'pid') !== pidNs) continue;
    const status = read(`/proc/${pid}/status`);
    if (!status) continue;
    const st = parseStatus(status);
    if (st.ppid === 2 || pid === 2) continue; // kernel threads
    count++;
    if (list.length < MAX_PROCS) list.push({ pid: st.nspid[st.nspid.length - 1] ?? pid, comm: st.comm });
  }
  list.sort((a, b) => a.pid - b.pid);
  return { list, count };
}

function viewThrough(pid: number, who: string, name: string, hostname: string, host: Partial<Record<ViewNs, number>>): ProcView {
  const ns: Partial<Record<ViewNs, number>> = {};
  for (const t of VIEW_NS) ns[t] = inode(pid, t);
  const sharesHost: Partial<Record<ViewNs, boolean>> = {};
  for (const t of VIEW_NS) sharesHost[t] = ns[t] !== undefined && ns[t] === host[t];
  const procs = processesIn(ns.pid);
  const mounts = parseMountinfo(read(`/proc/${pid}/mountinfo`) ?? '');
  return {
    who,
    name,
    pid,
    ns,
    sharesHost,
    processes: procs.list,
    processCount: procs.count,
    links: parseNetDev(read(`/proc/${pid}/net/dev`) ?? ''),
    hostname,
    mounts: mounts.slice(0, MAX_MOUNTS).map((m) => ({ mountPoint: m.mountPoint, fsType: m.fsType, source: m.source })),
    mountCount: mounts.length,
  };
}

/** The host's namespaces: the server's own (it runs on the host, as the namespace scan assumes too). */
function hostNs(): Partial<Record<ViewNs, number>> {
  const ns: Partial<Record<ViewNs, number>> = {};
  for (const t of VIEW_NS) ns[t] = inode(process.pid, t);
  return ns;
}

export function hostView(): ProcView {
  const host = hostNs();
  return viewThrough(process.pid, 'host', 'host', osHostname(), host);
}

/** The same answers for a running container, read through its init. */
export function containerView(rec: ContainerRecord): ProcView {
  if (!isActive(rec.state.status) || !(rec.state.pid > 0)) throw new Conflict(`${rec.name} is not running: its namespaces exist only while it runs`);
  const host = hostNs();
  const v = viewThrough(rec.state.pid, rec.id, rec.name, hostnameOf(rec), host);
  if (v.sharesHost.uts) v.hostname = osHostname();
  return v;
}

/** What of the host is one learner's: their containers' processes, their veths and bridges, their containers. */
export interface LearnerHostScope {
  /** the learner's containers' processes as the namespace scan found them (host pids) */
  processes: readonly Pick<NsProcess, 'pid' | 'comm'>[];
  /** names of the learner's host interfaces: the host ends of their veths, their bridges */
  links: ReadonlySet<string>;
  containers: readonly ContainerRecord[];
}

/** A host mount is a learner's when it is one of their containers' (its rootfs, a mount under its bundle). */
function ownMount(mountPoint: string, containers: readonly ContainerRecord[]): boolean {
  return containers.some((c) => [c.paths.rootfs, c.paths.bundle].some((d) => d && (mountPoint === d || mountPoint.startsWith(`${d}/`))));
}

/**
 * The host column of the compare page for a learner: the host's answers, cut to what is theirs.
 * ps shows their containers' processes with the pids the host gives them (the lesson: the same
 * process has two pids), ip link their veths and bridges, mount their containers' overlays; the
 * rest is counted in `hidden`, never named (another learner's command, interface or container id).
 */
export function learnerHostView(scope: LearnerHostScope): ProcView {
  const host = hostNs();
  const all = viewThrough(process.pid, 'host', 'host', osHostname(), host);
  const processes = [...scope.processes].map((p) => ({ pid: p.pid, comm: p.comm })).sort((a, b) => a.pid - b.pid);
  const links = all.links.filter((l) => scope.links.has(l.name));
  const mounts = parseMountinfo(read('/proc/self/mountinfo') ?? '').filter((m) => ownMount(m.mountPoint, scope.containers));
  return {
    ...all,
    processes: processes.slice(0, MAX_PROCS),
    processCount: processes.length,
    links,
    mounts: mounts.slice(0, MAX_MOUNTS).map((m) => ({ mountPoint: m.mountPoint, fsType: m.fsType, source: m.source })),
    mountCount: mounts.length,
    hidden: { processes: Math.max(0, all.processCount - processes.length), links: all.links.length - links.length, mounts: Math.max(0, all.mountCount - mounts.length) },
  };
}

/**
 * A learner's container's column. Its own namespaces answer for themselves; a namespace it shares
 * with the host (a learner cannot ask for one, a teacher could label such a container theirs) would
 * answer with the host's list: that part is the learner's host column instead.
 */
export function learnerContainerView(rec: ContainerRecord, learnerHost: ProcView): ProcView {
  const v = containerView(rec);
  if (v.sharesHost.pid) Object.assign(v, { processes: learnerHost.processes, processCount: learnerHost.processCount });
  if (v.sharesHost.net) v.links = learnerHost.links;
  if (v.sharesHost.mnt) Object.assign(v, { mounts: learnerHost.mounts, mountCount: learnerHost.mountCount });
  return v;
}
