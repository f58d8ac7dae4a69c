'use client';
// The browser side of POST /api/images/pull: reads its NDJSON stream and folds it into a state the
// progress bar draws (per layer: status and bytes; overall: a fraction).
import type { PullStreamEvent } from '../../server/api/rest/image-pull';
import { ApiError, authHeaders } from './client';

export type { PullStreamEvent };

export interface LayerProgress {
  id: string;
  status: string;
  current: number;
  total: number;
}

export interface PullState {
  image: string;
  status: string;
  layers: LayerProgress[];
  done: boolean;
  error: string | null;
}

export const initialPull = (image: string): PullState => ({ image, status: `Pulling ${image}…`, layers: [], done: false, error: null });

const DONE_STATES = new Set(['complete', 'exists']);

export function reducePull(s: PullState, e: PullStreamEvent): PullState {
  switch (e.type) {
    case 'status':
      return { ...s, status: e.message };
    case 'layer': {
      const prev = s.layers.find((l) => l.id === e.id);
      // a "verifying"/"complete" event may carry no byte counts: keep what was known
      const next: LayerProgress = { id: e.id, status: e.status, current: e.current || prev?.current || 0, total: e.total || prev?.total || 0 };
      return { ...s, layers: prev ? s.layers.map((l) => (l.id === e.id ? next : l)) : [...s.layers, next] };
    }
    case 'done':
      return { ...s, done: true, status: e.upToDate ? `${e.ref} is up to date` : `Pulled ${e.ref}` };
    case 'error':
      return { ...s, error: e.message };
  }
}

/** Overall fraction 0..1: downloaded bytes over known sizes; finished layers count as whole. */
export function pullFraction(s: PullState): number {
  if (s.done) return 1;
  const total = s.layers.reduce((a, l) => a + l.total, 0);
  if (!total) return 0;
  const got = s.layers.reduce((a, l) => a + (DONE_STATES.has(l.status) || l.status === 'downloaded' || l.status === 'extracting' || l.status === 'verifying' ? l.total : Math.min(l.current, l.total)), 0);
  return Math.min(1, got / total);
}

/** The state of a pull that could not go on: its error shown, the bar marked failed (never a 0% bar left waiting). */
export function failPull(s: PullState, message: string): PullState {
  return { ...s, error: s.error ?? message, layers: s.layers.map((l) => (DONE_STATES.has(l.status) ? l : { ...l, status: 'failed' })) };
}

/**
 * Pulls `image`, calling onState for each line; resolves with the final state. On failure (a
 * refused request, an unreachable registry, a stream that ends early) onState gets the failed state
 * last, then it throws.
 */
export async function pullWithProgress(image: string, onState: (s: PullState) => void): Promise<PullState> {
  let state = initialPull(image);
  onState(state);
  try {
    return await readPull(image, (s) => onState((state = s)), state);
  } catch (e) {
    onState(failPull(state, (e as Error).message));
    throw e;
  }
}

async function readPull(image: string, onState: (s: PullState) => void, start: PullState): Promise<PullState> {
  let state = start;
  const res = await fetch('/api/images/pull', {
    method: 'POST',
    headers: { ...authHeaders(), 'content-type': 'application/json' },
    body: JSON.stringify({ image }),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (!res.ok || !res.body) {
    const data = (await res.json().catch(() => ({ error: res.statusText }))) as { error?: string };
    throw new ApiError(res.status, data.error ?? `HTTP ${res.status} ${res.statusText}`);
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      state = reducePull(state, JSON.parse(line) as PullStreamEvent);
      onState(state);
    }
    if (done) break;
  }
  if (state.error) throw new Error(state.error);
  if (!state.done) throw new Error(`the pull of ${image} ended without finishing`);
  return state;
}
