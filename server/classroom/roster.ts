// The teacher's roster: each learner of a class with their containers, use against quota, lab
// progress and last activity. Built from the kernel and the engine at each ask (the roster channel
// throttles how often), never from a copy that could drift.
import type { TenantUsage } from '../engine/index.js';
import { summarize, type ContainerSummary } from '../realtime/containers.js';
import type { Classroom, LabProgress } from './classroom.js';

export interface RosterEntry {
  id: string;
  displayName: string;
  seat: number;
  ports: { from: number; to: number };
  joinedAt: string;
  /** ms since epoch */
  lastActive: number | null;
  revoked: boolean;
  /** sockets open now */
  online: number;
  containers: ContainerSummary[];
  /** read from the learner's parent cgroup: all their containers together, against the class quota */
  /** each lab session: steps passed of the lab's steps */
  labs: LabProgress[];
  usage: Pick<TenantUsage, 'exists' | 'memory' | 'cpus' | 'cpuUsageNs' | 'pids'> | null;
}

export async function buildRoster(classroom: Classroom, classId: string, online: (learnerId: string) => number): Promise<RosterEntry[]> {
  const out: RosterEntry[] = [];
  for (const l of classroom.store.learners(classId)) {
    const u = l.revokedAt ? null : await classroom.usage(l.id).catch(() => null);
    out.push({
      id: l.id,
      displayName: l.displayName,
      seat: l.seat,
      ports: classroom.store.portsOf(l),
      joinedAt: l.joinedAt,
      lastActive: classroom.lastActivity(l.id),
      revoked: !!l.revokedAt,
      online: online(l.id),
      containers: classroom.containersOf(l.id).map(summarize),
      labs: classroom.labProgress(l.id),
      usage: u && { exists: u.exists, memory: u.memory, cpus: u.cpus, cpuUsageNs: u.cpuUsageNs, pids: u.pids },
    });
  }
  return out;
}
