// A class made with a given id and code (issue 13, "beyond one machine"): the classroom front makes
// a class on its first node and replays it to every other node with the same id and code, so the
// store takes both from the teacher, checks them and refuses a clash without changing anything.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassroomStore } from '../../server/classroom/store.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync('/tmp/gbt-classroom-id-');
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const quota = { memory: 256 * 1024 * 1024, cpus: 0.5, pids: 256, containers: 3, disk: 512 * 1024 * 1024, idleMinutes: 30 };
const klass = (over: Record<string, unknown> = {}) => ({ name: 'Containers 101', seats: 2, labs: [], quota, endsAt: new Date(Date.now() + 3600_000).toISOString(), ...over });

describe('a class with a given id and code', () => {
  it('is made with them, and a learner joins it with that code on a second node', () => {
    const first = new ClassroomStore(fresh()).createClass(klass());
    const second = new ClassroomStore(fresh());
    const c = second.createClass(klass({ id: first.id, code: first.code }));
    expect(c).toMatchObject({ id: first.id, code: first.code, name: 'Containers 101' });
    expect(second.join(first.code, 'Ada').learner.classId).toBe(first.id);
  });

  it('refuses a bad id or code, naming the field, and makes nothing', () => {
    const s = new ClassroomStore(fresh());
    expect(() => s.createClass(klass({ id: '../etc' }))).toThrow(/id: a class id is 12 hex digits/);
    expect(() => s.createClass(klass({ code: 'OOOOOO' }))).toThrow(/code: a join code is 6 of/);
    expect(() => s.createClass(klass({ code: 'abcdef' }))).toThrow(/code: a join code/);
    expect(() => s.createClass(klass({ id: 'a1b2c3d4e5f6', extra: 1 }))).toThrow(/extra/);
    expect(s.classes()).toEqual([]);
  });

  it('refuses an id that exists and a code an open class holds, and changes nothing', () => {
    const s = new ClassroomStore(fresh());
    const a = s.createClass(klass());
    expect(() => s.createClass(klass({ id: a.id }))).toThrow(/a class with id .* exists already/);
    expect(() => s.createClass(klass({ code: a.code }))).toThrow(/an open class has the code/);
    expect(s.classes()).toHaveLength(1);
    // once the class has ended its code may be used again (the store's own rule for new codes)
    s.endClass(a.id);
    expect(s.createClass(klass({ code: a.code })).code).toBe(a.code);
  });

  it('still validates the rest of the class as before', () => {
    const s = new ClassroomStore(fresh());
    expect(() => s.createClass(klass({ id: 'a1b2c3d4e5f6', seats: 0 }))).toThrow(/seats/);
    expect(() => s.createClass(null)).toThrow();
    expect(() => s.createClass([])).toThrow();
    expect(s.classes()).toEqual([]);
  });
});
