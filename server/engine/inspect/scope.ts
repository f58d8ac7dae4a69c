// One learner's share of the diagrams. A class shares one host: the teacher's snapshots show every
// process, bridge and cgroup on it, and a learner must see none of the others' (another learner's
// command lines, addresses, container names). Each function here takes the host-wide snapshot the
// hub read once and builds the learner's copy from the fields it knows, keeping only what is the
// learner's: a field added to a snapshot type later is left out of a learner's copy until someone
// decides how to scope it (the safe default), rather than passed through unseen.
//
// What "the learner's" means: a container whose glassbox.owner label is the learner's id (the
// LearnerEngine's list), the processes the namespace scan put in those containers (by cgroup path,
// init/monitor pid and process tree: nothing a process inside can forge), and the networks
// labelled with the learner's id. The host appears only as what every learner shares anyway (the
// inodes of the host's namespaces, the uplink) and as counts.
import { cgroupSnapshotFor } from './cgroups.js';
import type { ContainerRecord } from '../types.js';
import type { NetworkInfo } from '../network/index.js';
import type { CgroupSnapshot, LayerSnapshot, MountSnapshot, NamespaceNode, NamespaceSnapshot, NetworkSnapshot, NsProcess, PidNsLevel } from './types.js';

/** What one learner owns, read from the LearnerEngine at the time of the snapshot. */
export interface LearnerScope {
  learnerId: string;
  /** full ids of the learner's containers */
  containerIds: ReadonlySet<string>;
  /** the learner's networks (their bridges, subnets, gateways) */
  networks: readonly NetworkInfo[];
}

export function scopeOf(learnerId: string, containers: readonly ContainerRecord[], networks: readonly NetworkInfo[]): LearnerScope {
  return { learnerId, containerIds: new Set(containers.map((c) => c.id)), networks };
}

// ---------------------------------------------------------------- namespaces

/**
 * The namespace picture of the learner's containers. Kept: their processes (init, members, their
 * monitors), the namespaces those processes are in, the inodes of the host's namespaces. The host's
 * own processes and everybody else's are only counted (node.otherPids, omitted.hostProcesses).
 */
export function scopeNamespaces(snap: NamespaceSnapshot, scope: LearnerScope): NamespaceSnapshot {
  const mine = (p: { containerId: string | null }) => p.containerId !== null && scope.containerIds.has(p.containerId);
  const processes: NsProcess[] = snap.processes.filter(mine).map((p) => ({ ...p, ns: { ...p.ns }, nspid: [...p.nspid] }));
  const myPids = new Set(processes.map((p) => p.pid));
  const types = {} as NamespaceSnapshot['types'];
  for (const [t, nodes] of Object.entries(snap.types) as [keyof NamespaceSnapshot['types'], NamespaceNode[]][]) {
    types[t] = [];
    for (const n of nodes) {
      const pids = n.pids.filter((pid) => myPids.has(pid));
      // someone else's namespace: not even its inode (the learner has no business knowing it exists)
      if (!n.isHost && !pids.length) continue;
      const owners = n.owners.filter((o) => scope.containerIds.has(o));
      if (n.isHost || n.owners.includes('host')) owners.unshift('host');
      types[t].push({
        type: n.type,
        inode: n.inode,
        owners,
        pids,
        isHost: n.isHost,
        ...(n.pids.length > pids.length ? { otherPids: n.pids.length - pids.length } : {}),
        ...(n.uidMap ? { uidMap: n.uidMap } : {}),
        ...(n.gidMap ? { gidMap: n.gidMap } : {}),
        ...(n.level !== undefined ? { level: n.level } : {}),
        ...(n.parent !== undefined ? { parent: n.parent } : {}),
      });
    }
  }
  const level = (l: PidNsLevel, isRoot: boolean): PidNsLevel | null => {
    const procs = l.processes.filter(mine);
    const children = l.children.map((c) => level(c, false)).filter((c): c is PidNsLevel => c !== null);
    if (!isRoot && !procs.length && !children.length) return null;
    return {
      inode: l.inode,
      level: l.level,
      owners: [...(isRoot ? ['host'] : []), ...l.owners.filter((o) => scope.containerIds.has(o))],
      processes: procs.map((p) => ({ ...p })),
      children,
    };
  };
  const hostListed = snap.processes.filter((p) => !mine(p)).length;
  return {
    kind: 'namespaces',
    time: snap.time,
    host: { ...snap.host },
    types,
    pidTree: snap.pidTree ? level(snap.pidTree, true) : null,
    processes,
    containers: snap.containers.filter((c) => scope.containerIds.has(c.id)).map((c) => ({ ...c, ...(c.pids ? { pids: { ...c.pids } } : {}) })),
    omitted: { kernelThreads: snap.omitted.kernelThreads, hostProcesses: snap.omitted.hostProcesses + hostListed },
    scanMs: snap.scanMs,
  };
}

// ---------------------------------------------------------------- network

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

/**
 * A NAT/filter rule line is the learner's when every address and every bridge it names is theirs
 * (or the loopback / any address), and it names at least one thing of theirs: a rule with another
 * learner's bridge, address or port target in it is not shown.
 */
export function ruleIsMine(line: string, mine: { bridges: ReadonlySet<string>; addresses: ReadonlySet<string> }, bridgePrefix: string): boolean {
  let own = false;
  for (const raw of line.split(/\s+/)) {
    if (!raw) continue;
    // 10.88.1.2:80, 10.88.1.2/32, 10.88.1.0/24
    const tok = raw.replace(/:\d+$/, '');
    const addr = tok.replace(/\/32$/, '');
    if (IPV4.test(addr) || /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(tok)) {
      if (addr === '127.0.0.1' || addr === '0.0.0.0' || tok === '0.0.0.0/0') continue;
      if (mine.addresses.has(addr) || mine.addresses.has(tok)) own = true;
      else return false;
      continue;
    }
    if (bridgePrefix && raw.startsWith(bridgePrefix) && !raw.endsWith('+')) {
      if (mine.bridges.has(raw)) own = true;
      else return false;
    }
  }
  return own;
}

/**
 * The learner's networks and containers: their bridges, their endpoints (veth, address, ports,
 * counters), their isolated containers and the NAT rules about them. The host's uplink and lo stay
 * (every learner's traffic leaves through them) without counters, which would show everyone's
 * traffic; any other host interface is left out.
 */
export function scopeNetwork(snap: NetworkSnapshot, scope: LearnerScope, bridgePrefix = 'gb'): NetworkSnapshot {
  const bridges = new Set(scope.networks.map((n) => n.bridge).filter((b): b is string => !!b));
  const endpoints = snap.endpoints.filter((e) => scope.containerIds.has(e.containerId)).map((e) => ({ ...e, routes: [...e.routes], ports: e.ports.map((p) => ({ ...p })), ...(e.counters ? { counters: { ...e.counters } } : {}) }));
  const addresses = new Set<string>();
  for (const n of scope.networks) {
    if (n.subnet) addresses.add(n.subnet);
    if (n.gateway) addresses.add(n.gateway);
    for (const c of Object.values(n.containers)) if (c.ip) addresses.add(c.ip);
  }
  for (const e of endpoints) if (e.ip) addresses.add(e.ip.split('/')[0]);
  return {
    kind: 'network',
    time: snap.time,
    state: snap.state,
    ...(snap.message ? { message: snap.message } : {}),
    hostInterfaces: snap.hostInterfaces
      .filter((i) => !i.name.startsWith(bridgePrefix))
      .map((i) => ({ name: i.name, kind: i.kind, state: i.state, ...(i.mac ? { mac: i.mac } : {}), addresses: [...i.addresses] })),
    bridges: snap.bridges.filter((b) => bridges.has(b.name)).map((b) => ({ ...b, addresses: [...b.addresses], ...(b.counters ? { counters: { ...b.counters } } : {}) })),
    endpoints: endpoints.map((e) => (e.bridge && !bridges.has(e.bridge) ? { ...e, bridge: undefined } : e)),
    isolated: snap.isolated.filter((c) => scope.containerIds.has(c.containerId)).map((c) => ({ ...c })),
    hostStack: snap.hostStack.filter((c) => scope.containerIds.has(c.containerId)).map((c) => ({ ...c })),
    // joined to a container of the learner's (by id; a name the learner cannot check is left out)
    shared: snap.shared.filter((c) => scope.containerIds.has(c.containerId) && [...scope.containerIds].some((id) => id.startsWith(c.with))).map((c) => ({ ...c })),
    nat: snap.nat.filter((l) => ruleIsMine(l, { bridges, addresses }, bridgePrefix)),
    ...(snap.isolation ? { isolation: snap.isolation } : {}),
  };
}

// ---------------------------------------------------------------- cgroups, layers, mounts

/** The learner's containers' series only. */
export function scopeCgroups(snap: CgroupSnapshot, scope: LearnerScope): CgroupSnapshot {
  // their containers and the learner group that holds them (cgroups.ts drops every other group)
  return cgroupSnapshotFor(snap, scope.containerIds);
}

/** A mount snapshot of the learner's own container, minus host mount points that name another container. */
export function scopeMounts(snap: MountSnapshot, foreignIds: readonly string[]): MountSnapshot {
  const foreign = (path: string) => foreignIds.some((id) => path.includes(id.slice(0, 12)));
  return { ...snap, mounts: snap.mounts.map((m) => ({ ...m, hostPeers: m.hostPeers.filter((p) => !foreign(p)) })) };
}

/** Layers are the learner's container's and the shared images': nothing to take out. */
export function scopeLayers(snap: LayerSnapshot): LayerSnapshot {
  return snap;
}
