// Who is asking. Every REST request and every socket gets one principal, and every adapter serves
// it through `principal.engine`: the teacher's is the Engine itself, a learner's a LearnerEngine
// that knows only what that learner owns. No route checks ownership itself; it cannot forget to.
import type { EngineApi, LearnerEngine } from '../engine/index.js';
import type { LearnerRecord } from './store.js';

export interface TeacherPrincipal {
  role: 'teacher';
  engine: EngineApi;
}

export interface LearnerPrincipal {
  role: 'learner';
  learner: LearnerRecord;
  classId: string;
  engine: LearnerEngine;
}

export type Principal = TeacherPrincipal | LearnerPrincipal;

/** The key sockets and terminal sessions are grouped by: "teacher" or "learner:<id>". */
export function principalKey(p: Principal): string {
  return p.role === 'teacher' ? 'teacher' : `learner:${p.learner.id}`;
}
