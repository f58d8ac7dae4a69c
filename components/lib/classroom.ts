'use client';
// The classroom as the pages see it: who this browser is (GET /api/whoami, asked once per page
// load), the shapes of the roster and the "classroom" channel's messages (server/realtime/classroom.ts
// documents them), and a few words and numbers the pages share.
import { useEffect, useState } from 'react';
import type { RosterEntry } from '../../server/classroom/roster';
import { api, ApiError } from './client';

export type { RosterEntry };

export interface Quota {
  memory: number;
  cpus: number;
  pids: number;
  containers: number;
  disk: number;
  idleMinutes: number;
}

export type Whoami =
  | { role: 'teacher' }
  | {
      role: 'learner';
      learner: { id: string; displayName: string };
      class: { id: string; name: string; endsAt: string; labs: string[] };
      quota: Quota;
      ports: { from: number; to: number };
    };
export type LearnerWhoami = Extract<Whoami, { role: 'learner' }>;

export interface ClassView {
  id: string;
  name: string;
  code: string;
  seats: number;
  labs: string[];
  quota: Quota;
  endsAt: string;
  portBase: number;
  createdAt: string;
  endedAt: string | null;
  joinPath: string;
  /** seated learners (GET /api/classes) */
  learners?: number;
}

export interface BroadcastState {
  active: boolean;
  classId: string;
  containerId: string;
  containerName: string;
  tab: string;
  selection: string | null;
}

/** The reply every classroom event's ack carries. */
export type Ack<T = object> = ({ ok: true } & T) | { ok: false; error: string };

let asked: Promise<Whoami | null> | null = null;

/** Who this browser is; null without a (working) token. Asked once per page load. */
export function whoami(): Promise<Whoami | null> {
  asked ??= api<Whoami>('/api/whoami').catch((e) => {
    asked = null; // asked again next time: a join may come in between
    if (e instanceof ApiError && (e.status === 401 || e.status === 404)) return null;
    throw e;
  });
  return asked;
}

/** Forget the answer (after a join replaced the token). */
export function forgetWhoami(): void {
  asked = null;
}

/** undefined while asking, null without a token. */
export function useWhoami(): Whoami | null | undefined {
  const [me, setMe] = useState<Whoami | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    whoami().then(
      (w) => live && setMe(w),
      () => live && setMe(null),
    );
    return () => {
      live = false;
    };
  }, []);
  return me;
}

/** "1 h 05 min", "4 min 10 s", "ended" */
export function timeLeft(endsAt: string, now: number): string {
  const s = Math.floor((Date.parse(endsAt) - now) / 1000);
  if (!(s > 0)) return 'ended';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

/** "just now", "3 min ago" */
export function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** A clock that ticks every `ms` (for the time left and "… ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** Why a sandbox went away, in the learner's words. */
export const REMOVED_REASON: Record<string, string> = {
  reset: 'The teacher reset your sandbox: your containers were removed. You can start again.',
  revoked: 'The teacher ended your session.',
  idle: 'Your sandbox was idle too long: your containers were removed. You can start again.',
  'class-ended': 'The class has ended: your containers were removed.',
};
