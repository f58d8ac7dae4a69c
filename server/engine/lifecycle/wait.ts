// wait (docker wait, and the engine's own "until the record says so").
import type { WaitResult } from '../api.js';
import type { ContainerRecord } from '../types.js';
import type { EngineContext } from './context.js';
import { isAlive } from './state.js';

/** Resolves when the container's record satisfies `done`, or the record is gone. */
export function waitStatus(ctx: EngineContext, id: string, done: (r: ContainerRecord) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const r = ctx.records.all().find((x) => x.id === id);
      if (!r || done(r)) {
        off();
        resolve();
      }
    };
    const off = ctx.onEvent((e) => {
      if (e.type === 'container' && e.id === id) check();
    });
    check();
  });
}

/** Resolves at the next event of this container whose action is one of `actions`. */
function nextEvent(ctx: EngineContext, id: string, actions: string[]): Promise<void> {
  return new Promise((resolve) => {
    const off = ctx.onEvent((e) => {
      if (e.type === 'container' && e.id === id && actions.includes(e.action)) {
        off();
        resolve();
      }
    });
  });
}

export async function waitContainer(ctx: EngineContext, idOrName: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<WaitResult> {
  const rec = ctx.records.find(idOrName);
  const result = (): WaitResult => ({ exitCode: rec.state.exitCode, oomKilled: rec.state.oomKilled, error: rec.state.error || undefined });
  if (condition === 'removed') {
    await nextEvent(ctx, rec.id, ['destroy']);
    return result();
  }
  if (condition === 'not-running' && !isAlive(rec.state.status)) return result();
  await nextEvent(ctx, rec.id, ['die', 'destroy']);
  return result();
}
