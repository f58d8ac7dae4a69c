// The teacher's roster: each learner of a class with their containers, use against quota, lab
// progress and last activity. Built from the kernel and the engine at each ask (the roster channel
// throttles how often), never from a copy that could drift.
import { summarize, type ContainerSummary } from '../realtime/containers.js';
import type { Classroom } from './classroom.js';

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
}

export async function buildRoster(classroom: Classroom, classId: string, online: (learnerId: string) => number): Promise<RosterEntry[]> {
  const out: RosterEntry[] = [];
  for (const l of classroom.store.learners(classId)) {
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
    });
  }
  return out;
}
