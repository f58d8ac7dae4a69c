// The container state machine (server/engine/lifecycle/state.ts): the moves the engine makes are
// allowed, the ones it must never make are refused with the container's name in the message.
import { describe, expect, it } from 'vitest';
import { isActive, isAlive, transition } from '../../server/engine/lifecycle/state.js';
import type { ContainerRecord, ContainerStatus } from '../../server/engine/types.js';

function rec(status: ContainerStatus): ContainerRecord {
  return { name: 'box', state: { status } } as unknown as ContainerRecord;
}

describe('container state machine', () => {
  it('active means init is alive (running or paused); alive adds restarting', () => {
    expect(['running', 'paused'].every((s) => isActive(s as ContainerStatus))).toBe(true);
    expect(['created', 'restarting', 'exited', 'removing', 'dead'].some((s) => isActive(s as ContainerStatus))).toBe(false);
    expect(isAlive('restarting')).toBe(true);
    expect(isAlive('exited')).toBe(false);
  });

  it('allows the moves of a life: create → run → pause → run → exit → restart → run', () => {
    const r = rec('created');
    for (const to of ['running', 'paused', 'running', 'exited', 'restarting', 'running', 'exited'] as ContainerStatus[]) {
      transition(r, to);
      expect(r.state.status).toBe(to);
    }
  });

  it('a failed first start goes back to created; a failed exec leaves it exited', () => {
    const r = rec('created');
    transition(r, 'created');
    transition(r, 'exited');
    transition(r, 'created');
    expect(r.state.status).toBe('created');
  });

  it('refuses moves no verb makes, naming the container and both states', () => {
    expect(() => transition(rec('created'), 'paused')).toThrow('container box: cannot go from created to paused');
    expect(() => transition(rec('exited'), 'paused')).toThrow(/exited to paused/);
    expect(() => transition(rec('paused'), 'restarting')).toThrow(/paused to restarting/);
    expect(() => transition(rec('dead'), 'running')).toThrow(/dead to running/);
  });
});
