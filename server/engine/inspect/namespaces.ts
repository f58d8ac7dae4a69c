// The namespace picture from a scan of /proc: for every process, the inode of each of its
// namespaces (readlink /proc/PID/ns/<type> → "pid:[4026531836]"), its pid at each pid-namespace
// level (NSpid in /proc/PID/status) and which container it belongs to (init pid, monitor pid, or a
// cgroup path containing glassbox/<id>).
//
// Cost: per process one read of status, one of cgroup and eight readlinks; cmdline is read once per
// process (cached by pid + start of life: comm and NSpid). The scan yields to the event loop every
// few hundred processes so a terminal never waits on it.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ContainerRecord, Namespace } from '../types.js';
import { NAMESPACES } from '../types.js';
import type { IdMapLine, NamespaceNode, NamespaceSnapshot, NsProcess, PidNsLevel } from './types.js';
import { isAlive } from '../lifecycle/state.js';

export interface ScanOptions {
  /** container records (engine.list({ all: true })); only running ones matter */
  containers?: ContainerRecord[];
  /** include kernel threads (children of kthreadd) — off by default: they only clutter */
  kernelThreads?: boolean;
  /** at most this many host processes (not in any container) are listed; the rest are counted. Default 400 */
  maxHostProcesses?: number;
  /** root of procfs, for tests */
  proc?: string;
}

interface Cached {
  comm: string;
  nspidKey: string;
  cmdline: string;
  /** the glassbox/<id> of /proc/PID/cgroup, read again whenever the namespaces or comm change */
  nsKey?: string;
  cgroupId?: string | null;
}

// any prefix's parent (host/naming.ts), with or without a learner's group between it and the
// container (<parent>/learners/<learner id>/<id>, issue 13's quota); <parent>/…/<id>/monitor is the
// container's monitor (charged to the container, cgroups/types.ts): not one of its processes
const CGROUP_RE = /\/glassbox(?:-t[a-z0-9]{1,2})?(?:\/learners\/[a-z0-9]{4,32})?\/([0-9a-f]{12,64})(?=\n|$|\/(?!monitor(?:\/|\n|$)))/;

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

function nsInode(link: string): number | null {
  // "pid:[4026531836]"
  const open = link.indexOf('[');
  if (open < 0) return null;
  const n = Number(link.slice(open + 1, -1));
  return Number.isFinite(n) ? n : null;
}

export function parseIdMap(text: string | null): IdMapLine[] {
  if (!text) return [];
  const out: IdMapLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    out.push({ inside: Number(f[0]), outside: Number(f[1]), count: Number(f[2]) });
  }
  return out;
}

/** Pulls Name, PPid, Uid and NSpid out of /proc/PID/status without splitting the whole file. */
export function parseStatus(text: string): { comm: string; ppid: number; uid: number; nspid: number[] } {
  const field = (name: string): string => {
    const i = text.indexOf(`\n${name}:`);
    const start = i < 0 ? (text.startsWith(`${name}:`) ? name.length + 1 : -1) : i + name.length + 2;
    if (start < 0) return '';
    const end = text.indexOf('\n', start);
    return text.slice(start, end < 0 ? undefined : end).trim();
  };
  const nspid = field('NSpid')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return {
    comm: field('Name'),
    ppid: Number(field('PPid')) || 0,
    uid: Number(field('Uid').split(/\s+/)[0]) || 0,
    nspid,
  };
}

/** The state letter of /proc/PID/status ("State:\tZ (zombie)" → "Z"). */
export function statusState(text: string): string {
  const i = text.indexOf('\nState:');
  return i < 0 ? '' : text.slice(i + 7).trimStart().charAt(0);
}

/** The container a /proc/PID/cgroup text puts a process in, by the glassbox/<id> path. */
export function containerFromCgroup(text: string | null): string | null {
  if (!text) return null;
  const m = CGROUP_RE.exec(text);
  return m ? m[1] : null;
}

export class NamespaceScanner {
  private cache = new Map<number, Cached>();
  private readonly proc: string;

  constructor(opts: { proc?: string } = {}) {
    this.proc = opts.proc ?? '/proc';
  }

  async scan(opts: ScanOptions = {}): Promise<NamespaceSnapshot> {
    const t0 = performance.now();
    const proc = this.proc;
    const records = (opts.containers ?? []).filter((r) => r.state.pid > 0 && isAlive(r.state.status));
    const byInit = new Map<number, ContainerRecord>();
    const byMonitor = new Map<number, ContainerRecord>();
    const ids = new Map<string, ContainerRecord>();
    for (const r of records) {
      byInit.set(r.state.pid, r);
      if (r.state.monitorPid > 0) byMonitor.set(r.state.monitorPid, r);
      ids.set(r.id, r);
    }
    // ids in cgroup paths may be the full id; records are matched by prefix either way
    const idOf = (cgId: string): string | null => {
      if (ids.has(cgId)) return cgId;
      for (const id of ids.keys()) if (id.startsWith(cgId) || cgId.startsWith(id)) return id;
      return null;
    };

    const pids: number[] = [];
    for (const name of readdirSync(proc)) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) pids.push(Number(name));
    }
    pids.sort((a, b) => a - b);

    const processes: NsProcess[] = [];
    const seen = new Set<number>();
    let kernelThreads = 0;
    let n = 0;
    for (const pid of pids) {
      if (++n % 300 === 0) await new Promise((r) => setImmediate(r));
      const statusText = readText(`${proc}/${pid}/status`);
      if (!statusText) continue; // gone
      const st = parseStatus(statusText);
      // A zombie (Z) has exited and waits for its parent's wait(): it holds a pid and a slot in
      // pids.max, so it stays in the picture (60 of them under a PID 1 that reaps nothing are the
      // PID 1 lesson). X is a process being torn down right now: gone.
      const state = statusState(statusText);
      if (state === 'X') continue;
      if (pid === 2 || st.ppid === 2) {
        kernelThreads++;
        if (!opts.kernelThreads) continue;
      }
      const ns: Partial<Record<Namespace, number>> = {};
      for (const t of NAMESPACES) {
        try {
          const inode = nsInode(readlinkSync(`${proc}/${pid}/ns/${t}`));
          if (inode !== null) ns[t] = inode;
        } catch {
          /* zombie, or the kernel lacks this namespace type */
        }
      }
      seen.add(pid);
      const nspidKey = st.nspid.join(' ');
      let cached = this.cache.get(pid);
      if (!cached || cached.comm !== st.comm || cached.nspidKey !== nspidKey) {
        const raw = readText(`${proc}/${pid}/cmdline`) ?? '';
        const cmdline = raw.replace(/\0+$/, '').split('\0').join(' ').slice(0, 200);
        cached = { comm: st.comm, nspidKey, cmdline };
        this.cache.set(pid, cached);
      }
      let containerId: string | null = null;
      let role: NsProcess['role'] = 'host';
      const init = byInit.get(pid);
      const mon = byMonitor.get(pid);
      if (init) {
        containerId = init.id;
        role = 'init';
      } else if (mon) {
        containerId = mon.id;
        role = 'monitor';
      } else if (records.length) {
        // a process changes cgroup only when something moves it (exec sessions join before they
        // exec, which changes comm; setns changes the inodes): cache on those
        const nsKey = NAMESPACES.map((t) => ns[t] ?? 0).join(',');
        if (cached.nsKey !== nsKey || cached.cgroupId === undefined) {
          cached.nsKey = nsKey;
          cached.cgroupId = containerFromCgroup(readText(`${proc}/${pid}/cgroup`));
        }
        const cg = cached.cgroupId;
        const id = cg ? idOf(cg) : null;
        if (id) {
          containerId = id;
          role = 'member';
        }
      }
      processes.push({ pid, ppid: st.ppid, nspid: st.nspid.length ? st.nspid : [pid], comm: st.comm, cmdline: cached.cmdline, uid: st.uid, ns, containerId, role, state });
    }
    // A zombie's /proc/PID/ns links are gone with its nsproxy, yet it still has its pid in its
    // parent's namespaces (NSpid): show it where its parent is.
    const byPidFirst = new Map(processes.map((p) => [p.pid, p]));
    for (const p of processes) {
      if (p.state !== 'Z' || Object.keys(p.ns).length) continue;
      const parent = byPidFirst.get(p.ppid);
      if (parent) {
        p.ns = { ...parent.ns };
        if (!p.containerId && parent.containerId && parent.role !== 'monitor') {
          p.containerId = parent.containerId;
          p.role = 'member';
        }
      }
    }
    for (const pid of this.cache.keys()) if (!seen.has(pid)) this.cache.delete(pid);

    // Members of a container found through the process tree too (a process that set its own
    // cgroup would still be a child of the container's init).
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    for (const p of processes) {
      if (p.containerId) continue;
      let q = byPid.get(p.ppid);
      let hops = 0;
      while (q && hops++ < 64) {
        if (q.containerId && q.role !== 'monitor') {
          p.containerId = q.containerId;
          p.role = 'member';
          break;
        }
        if (q.role === 'monitor') break;
        q = byPid.get(q.ppid);
      }
    }

    // The host's namespaces: PID 1's, or, where PID 1 cannot be read (some VMs guard it), the
    // server's own (it runs on the host).
    let hostProc = byPid.get(1);
    if (!hostProc || hostProc.ns.pid === undefined) hostProc = byPid.get(process.pid) ?? hostProc;
    const host: Partial<Record<Namespace, number>> = hostProc ? { ...hostProc.ns } : {};

    // Cap host processes: keep those in a non-host namespace, monitors, and ancestors of containers.
    const maxHost = opts.maxHostProcesses ?? 400;
    let kept = processes;
    let omittedHost = 0;
    const hostOnly = processes.filter((p) => !p.containerId && NAMESPACES.every((t) => p.ns[t] === undefined || p.ns[t] === host[t]));
    if (hostOnly.length > maxHost) {
      const drop = new Set<number>(hostOnly.slice(maxHost).map((p) => p.pid));
      drop.delete(1);
      kept = processes.filter((p) => !drop.has(p.pid));
      omittedHost = processes.length - kept.length;
    }

    // Group by namespace.
    const types = Object.fromEntries(NAMESPACES.map((t) => [t, [] as NamespaceNode[]])) as Record<Namespace, NamespaceNode[]>;
    const nodeMaps = Object.fromEntries(NAMESPACES.map((t) => [t, new Map<number, NamespaceNode>()])) as Record<Namespace, Map<number, NamespaceNode>>;
    const ownerSets = new Map<NamespaceNode, Set<string>>();
    for (const p of processes) {
      for (const t of NAMESPACES) {
        const inode = p.ns[t];
        if (inode === undefined) continue;
        let node = nodeMaps[t].get(inode);
        if (!node) {
          node = { type: t, inode, owners: [], pids: [], isHost: host[t] === inode };
          nodeMaps[t].set(inode, node);
          types[t].push(node);
          ownerSets.set(node, new Set());
        }
        node.pids.push(p.pid);
        // A monitor sits in the host's namespaces: it does not make the container an owner.
        ownerSets.get(node)!.add(p.containerId && p.role !== 'monitor' ? p.containerId : 'host');
      }
    }
    for (const [node, owners] of ownerSets) {
      node.owners = [...owners].sort((a, b) => (a === 'host' ? -1 : b === 'host' ? 1 : a.localeCompare(b)));
    }
    // user namespaces: the maps, read from one member
    for (const node of types.user) {
      const pid = node.pids[0];
      node.uidMap = parseIdMap(readText(`${proc}/${pid}/uid_map`));
      node.gidMap = parseIdMap(readText(`${proc}/${pid}/gid_map`));
    }

    // PID namespace tree: the level of a pid namespace is NSpid.length − 1 of its members; its
    // parent is the pid namespace of the nearest ancestor process one level up.
    for (const node of types.pid) {
      const member = byPid.get(node.pids[0])!;
      node.level = member.nspid.length - 1;
      node.parent = null;
      if (node.level === 0) continue;
      // the namespace's init (local pid 1) was forked by a process of the parent namespace
      const candidates = node.pids.map((pid) => byPid.get(pid)!).sort((a, b) => a.nspid[a.nspid.length - 1] - b.nspid[b.nspid.length - 1]);
      for (const c of candidates) {
        let q = byPid.get(c.ppid);
        let hops = 0;
        while (q && hops++ < 64 && q.nspid.length > node.level) q = byPid.get(q.ppid);
        if (q && q.nspid.length === node.level && q.ns.pid !== undefined) {
          node.parent = q.ns.pid;
          break;
        }
      }
    }
    let pidTree: PidNsLevel | null = null;
    const levels = new Map<number, PidNsLevel>();
    for (const node of types.pid) {
      levels.set(node.inode, {
        inode: node.inode,
        level: node.level ?? 0,
        owners: node.owners,
        processes: node.pids.map((pid) => {
          const p = byPid.get(pid)!;
          return { pid, localPid: p.nspid[p.nspid.length - 1], comm: p.comm, containerId: p.containerId };
        }),
        children: [],
      });
    }
    for (const node of types.pid) {
      const lvl = levels.get(node.inode)!;
      if (node.isHost) pidTree = lvl;
      else if (node.parent != null && levels.has(node.parent)) levels.get(node.parent)!.children.push(lvl);
      else if (host.pid !== undefined && levels.has(host.pid) && node.inode !== host.pid) levels.get(host.pid)!.children.push(lvl); // parent unknown: hang it under the host
    }

    // Host-only processes that were capped are dropped from the process list but still counted in
    // the namespace nodes' pids, so a node's size stays true.
    const containers = records.map((r) => ({ id: r.id, name: r.name, status: r.state.status, initPid: r.state.pid, monitorPid: r.state.monitorPid }));
    for (const list of Object.values(types)) list.sort((a, b) => Number(b.isHost) - Number(a.isHost) || a.inode - b.inode);
    return {
      kind: 'namespaces',
      time: Date.now(),
      host,
      types,
      pidTree,
      processes: kept,
      containers,
      omitted: { kernelThreads: opts.kernelThreads ? 0 : kernelThreads, hostProcesses: omittedHost },
      scanMs: Math.round((performance.now() - t0) * 100) / 100,
    };
  }
}
