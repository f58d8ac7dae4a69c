// The classroom's clock and the teacher's verbs on a real engine (issue 13): an idle sandbox is
// warned, then emptied, and the session stays; reset empties it too; a revoked learner's token
// stops working and their sandbox goes; a class past its end time is ended by the sweep and
// everything it made is removed. Bad requests change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classroom, IDLE_WARNING_MS } from '../../server/classroom/classroom.js';
import { OWNER_LABEL } from '../../server/engine/index.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from './support.js';

requireHost('classroom test', { root: true, commands: ['ip', 'iptables'] });

const MiB = 1024 * 1024;
const TEACHER = 'teacher-token-for-this-test-only';
let env: TestEnv;
let clock = Date.now();
let room: Classroom;

const quota = { memory: 256 * MiB, cpus: 1, pids: 200, containers: 2, disk: 128 * MiB, idleMinutes: 10 };
const newClass = (over: Record<string, unknown> = {}) => room.createClass({ name: 'clock', seats: 3, quota, endsAt: new Date(clock + 3600_000).toISOString(), ...over });

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  room = new Classroom({ engine: env.engine, isTeacherToken: (t) => t === TEACHER, now: () => clock, clock: false });
}, 120_000);

afterAll(async () => {
  if (!env) return;
  room?.close();
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
  for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id);
  await env.cleanup();
});

const events: string[] = [];
beforeAll(() => {
  room.on('idle-warning', (lid, s) => events.push(`warn ${lid} ${s}`));
  room.on('sandbox-removed', (lid, why) => events.push(`removed ${lid} ${why}`));
  room.on('revoked', (lid) => events.push(`revoked ${lid}`));
});

async function learnerWithContainer(code: string, name: string) {
  const j = await room.join(code, name);
  const p = room.principalFor(j.token);
  if (p?.role !== 'learner') throw new Error('a learner token gave no learner');
  await p.engine.run({ image: 'base', cmd: ['sleep', '600'] });
  return { ...j, engine: p.engine };
}

describe('the classroom', () => {
  it('knows the teacher, a learner, and nobody else', async () => {
    const c = newClass();
    const j = await room.join(c.code, 'Ada');
    expect(room.principalFor(TEACHER)?.role).toBe('teacher');
    expect(room.principalFor(j.token)).toMatchObject({ role: 'learner', classId: c.id });
    for (const bad of ['', 'nope', j.token.slice(1), `${j.token}x`, null, undefined]) expect(room.principalFor(bad)).toBeNull();
  });

  it('refuses a bad join and makes nothing', async () => {
    const c = newClass({ seats: 1 });
    const before = room.store.learners().length;
    await expect(room.join('ZZZZZZ', 'Ada')).rejects.toThrow(/no open class has this code/);
    await expect(room.join(c.code, '')).rejects.toThrow(/display name/);
    await expect(room.join(c.code, 'x'.repeat(41))).rejects.toThrow(/display name/);
    await expect(room.join(42, 'Ada')).rejects.toThrow(/send \{ code, name \}/);
    expect(() => newClass({ quota: { ...quota, cpus: 64 } })).toThrow(/quota.cpus: want a number of CPUs from 0.01 to \d+/);
    await room.join(c.code, 'First');
    await expect(room.join(c.code, 'Second')).rejects.toThrow(/the class is full \(1 seats\)/);
    expect(room.store.learners().length).toBe(before + 1);
  });

  it('warns an idle learner, then empties their sandbox; the session stays', async () => {
    const c = newClass();
    const a = await learnerWithContainer(c.code, 'Idle');
    const b = await learnerWithContainer(c.code, 'Busy');
    events.length = 0;
    clock += 10 * 60_000 - IDLE_WARNING_MS + 1000;
    room.touch(b.learner.id); // Busy typed something
    await room.sweep();
    expect(events).toEqual([`warn ${a.learner.id} ${IDLE_WARNING_MS / 1000 - 1}`]);
    clock += IDLE_WARNING_MS;
    await room.sweep();
    expect(events).toContain(`removed ${a.learner.id} idle`);
    expect(a.engine.list({ all: true })).toEqual([]);
    expect(b.engine.list({ all: true })).toHaveLength(1);
    // the learner comes back: the same session, an empty sandbox they can use again
    expect(room.principalFor(a.token)?.role).toBe('learner');
    expect((await a.engine.run({ image: 'base', cmd: ['true'] })).id).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);

  it('reset empties a sandbox; revoke also ends the session', async () => {
    const c = newClass();
    const a = await learnerWithContainer(c.code, 'Reset me');
    const r = await learnerWithContainer(c.code, 'Revoke me');
    await room.reset(c.id, a.learner.id);
    expect(a.engine.list({ all: true })).toEqual([]);
    expect(room.principalFor(a.token)?.role).toBe('learner');
    // the learner's parent cgroup holds the class quota
    const usage = await room.usage(r.learner.id);
    expect(usage).toMatchObject({ exists: true, memory: { limit: 256 * MiB }, cpus: 1, pids: { limit: 200 } });
    expect(usage.pids.current).toBeGreaterThan(0);
    await room.revoke(c.id, r.learner.id);
    expect(room.principalFor(r.token)).toBeNull();
    expect((await room.usage(r.learner.id)).exists).toBe(false);
    expect(env.engine.list({ all: true }).filter((x) => x.config.labels?.[OWNER_LABEL] === r.learner.id)).toEqual([]);
    expect(env.engine.listNetworks().filter((n) => n.labels[OWNER_LABEL] === r.learner.id)).toEqual([]);
    await expect(room.revoke(c.id, 'nosuchlrnr')).rejects.toThrow(/no learner nosuchlrnr in class/);
  }, 120_000);

  it('ends a class at its end time: every learner revoked, everything it made removed', async () => {
    const c = newClass({ endsAt: new Date(clock + 60_000).toISOString() });
    const a = await learnerWithContainer(c.code, 'One');
    const b = await learnerWithContainer(c.code, 'Two');
    clock += 61_000;
    await room.sweep();
    expect(room.store.getClass(c.id).endedAt).not.toBeNull();
    for (const l of [a, b]) {
      expect(room.principalFor(l.token)).toBeNull();
      expect(env.engine.list({ all: true }).filter((x) => x.config.labels?.[OWNER_LABEL] === l.learner.id)).toEqual([]);
    }
    await expect(room.join(c.code, 'Late')).rejects.toThrow(/no open class/);
  }, 120_000);
});
