// Classes and learner sessions on disk (issue 13): a learner's token opens their session after a
// restart, is stored only hashed, stops working when revoked or when the class ends.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassroomStore } from '../../server/classroom/store.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync('/tmp/gbt-classroom-');
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const quota = { memory: 256 * 1024 * 1024, cpus: 0.5, pids: 256, containers: 3, disk: 512 * 1024 * 1024, idleMinutes: 30 };
const klass = (over: Record<string, unknown> = {}) => ({ name: 'Containers 101', seats: 2, labs: ['01-just-a-process'], quota, endsAt: inAnHour(), ...over });

describe('the classroom store', () => {
  it('makes a class with a code to read aloud, and a learner joins with it in any case', () => {
    const s = new ClassroomStore(fresh());
    const c = s.createClass(klass());
    expect(c.code).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    const { learner, token } = s.join(c.code.toLowerCase(), '  Ada ');
    expect(learner).toMatchObject({ classId: c.id, displayName: 'Ada', seat: 0, revokedAt: null });
    expect(learner.id).toMatch(/^[a-f0-9]{10}$/);
    expect(s.authenticate(token)?.id).toBe(learner.id);
    expect(s.authenticate(token + 'x')).toBeNull();
    expect(s.authenticate('')).toBeNull();
  });

  it('keeps everything across a restart, with tokens only hashed, in a 0600 file', () => {
    const dir = fresh();
    const s = new ClassroomStore(dir);
    const c = s.createClass(klass());
    const { learner, token } = s.join(c.code, 'Grace');
    const file = join(dir, 'classroom.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(token);
    const again = new ClassroomStore(dir);
    expect(again.authenticate(token)?.id).toBe(learner.id);
    expect(again.getClass(c.id).code).toBe(c.code);
  });

  it('gives each seat its own port range', () => {
    const s = new ClassroomStore(fresh());
    const c = s.createClass(klass({ portBase: 30000 }));
    const a = s.join(c.code, 'A').learner;
    const b = s.join(c.code, 'B').learner;
    expect(s.portsOf(a)).toEqual({ from: 30000, to: 30009 });
    expect(s.portsOf(b)).toEqual({ from: 30010, to: 30019 });
  });

  it('refuses a full class, an unknown code and a bad name, and changes nothing', () => {
    const s = new ClassroomStore(fresh());
    const c = s.createClass(klass({ seats: 1 }));
    s.join(c.code, 'A');
    expect(() => s.join(c.code, 'B')).toThrow(/the class is full \(1 seats\)/);
    expect(() => s.join('ZZZZZZ', 'B')).toThrow(/no open class has this code/);
    expect(() => s.join(c.code, '')).toThrow(/display name/);
    expect(() => s.join(c.code, 'x'.repeat(41))).toThrow(/display name/);
    expect(() => s.join(c.code, 'a\u0007b')).toThrow(/display name/);
    expect(s.learners(c.id)).toHaveLength(1);
  });

  it.each([
    [{ seats: 0 }, /seats/],
    [{ name: '' }, /a class needs a name/],
    [{ endsAt: '2020-01-01T00:00:00Z' }, /would end in the past/],
    [{ portBase: 65000, seats: 100 }, /port ranges run past 65535/],
    [{ labs: ['../etc'] }, /a lab id is/],
    [{ quota: { ...quota, memory: 1 } }, /quota\.memory/],
    [{ extra: true }, /Unrecognized key/],
  ])('refuses the class %j with a message naming the field', (over, message) => {
    const s = new ClassroomStore(fresh());
    expect(() => s.createClass(klass(over))).toThrow(message);
    expect(s.classes()).toEqual([]);
  });

  it('closes a revoked learner and every learner of an ended class', () => {
    const s = new ClassroomStore(fresh());
    const c = s.createClass(klass());
    const a = s.join(c.code, 'A');
    const b = s.join(c.code, 'B');
    s.revoke(a.learner.id);
    expect(s.authenticate(a.token)).toBeNull();
    expect(s.authenticate(b.token)?.id).toBe(b.learner.id);
    // a revoked seat is free again
    const c2 = s.join(c.code, 'C');
    expect(c2.learner.seat).toBe(0);
    s.endClass(c.id);
    expect(s.authenticate(b.token)).toBeNull();
    expect(() => s.join(c.code, 'D')).toThrow(/no open class/);
  });
});

describe('port ranges of open classes', () => {
  it('never overlap: the next class starts after the last, a clashing portBase is refused', () => {
    {
      const s = new ClassroomStore(fresh());
      const a = s.createClass(klass({ seats: 5 }));
      const b = s.createClass(klass({ seats: 5 }));
      expect(a.portBase).toBe(20000);
      expect(b.portBase).toBe(20050);
      expect(() => s.createClass(klass({ portBase: 20040 }))).toThrow(/overlap an open class's ports 20000-20049/);
      expect(s.classes()).toHaveLength(2);
      s.endClass(a.id);
      expect(s.createClass(klass({ seats: 5 })).portBase).toBe(20000);
    }
  });
});
