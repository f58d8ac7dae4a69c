'use client';
// A learner's progress, per browser (localStorage): the session a lab runs in, the steps seen
// green, the step on screen and the terminal session per role, so a reload returns to the same
// session, step and shells. (Per learner once the classroom lands.)
import type { labDetail, labSummary } from '@/server/api/rest/labs';
import type { LabSessionState } from '@/server/labs/sessions';

export type LabSummary = ReturnType<typeof labSummary>;
export type LabDetail = ReturnType<typeof labDetail>;
export type LabStepDetail = LabDetail['steps'][number];
export type { LabSessionState };

export interface LabProgress {
  sessionId: string | null;
  /** step ids seen green (kept after leaving: the list shows what was done) */
  green: string[];
  /** the step on screen */
  step: number;
  /** role -> the terminal session id of its tab */
  terminals: Record<string, string>;
  /** every step was green once */
  finished?: boolean;
}

const key = (labId: string) => `glassbox.lab.${labId}`;
const EMPTY: LabProgress = { sessionId: null, green: [], step: 0, terminals: {} };

export function loadProgress(labId: string): LabProgress {
  try {
    const p = JSON.parse(localStorage.getItem(key(labId)) ?? 'null') as Partial<LabProgress> | null;
    if (!p || typeof p !== 'object') return { ...EMPTY };
    return {
      sessionId: typeof p.sessionId === 'string' ? p.sessionId : null,
      green: Array.isArray(p.green) ? p.green.filter((g) => typeof g === 'string') : [],
      step: Number.isInteger(p.step) && (p.step as number) >= 0 ? (p.step as number) : 0,
      terminals: p.terminals && typeof p.terminals === 'object' ? (p.terminals as Record<string, string>) : {},
      finished: !!p.finished,
    };
  } catch {
    return { ...EMPTY };
  }
}

export function saveProgress(labId: string, p: LabProgress): void {
  try {
    localStorage.setItem(key(labId), JSON.stringify(p));
  } catch {
    /* storage full or disabled: progress lives as long as the page */
  }
}

/** Has this browser opened any lab yet? (the home page's first-visit card) */
export function anyLabStarted(): boolean {
  try {
    for (let i = 0; i < localStorage.length; i++) if (localStorage.key(i)?.startsWith('glassbox.lab.')) return true;
  } catch {
    /* no storage */
  }
  return false;
}
