// The learner group's names and checks, without the kernel: which ids can be a cgroup directory,
// what a quota may hold, where a container's record says its cgroup is, how the drivers find a
// container made by an earlier server (GroupIndex over a plain directory tree), and that a
// learner's cgroup snapshot carries no other learner's group.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkGroup, GroupIndex, learnerGroup } from '../../server/engine/cgroups/groups.js';
import { cgroupPlace, cgroupSnapshotFor } from '../../server/engine/inspect/cgroups.js';
import type { CgroupSnapshot } from '../../server/engine/inspect/types.js';
import { checkTenantLimits, groupForRecord } from '../../server/engine/tenancy/tenant-groups.js';

const tmp = mkdtempSync('/tmp/gbt-groups-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('learner group names', () => {
  it('takes a learner id as one directory name and refuses anything that walks or splits a path', () => {
    expect(learnerGroup('lrn01')).toBe('learners/lrn01');
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a b', '-a', 'x'.repeat(65), 'a\n']) expect(() => learnerGroup(bad), bad).toThrow(/invalid learner id/);
    expect(() => checkGroup('learners/ok')).not.toThrow();
    for (const bad of ['learners', 'learners/', 'other/x', 'learners/a/b', 'learners/..']) expect(() => checkGroup(bad), bad).toThrow(/invalid cgroup group/);
  });

  it("puts a container in its owner's group, the teacher's in none", () => {
    expect(groupForRecord({ config: { image: 'base', labels: { 'glassbox.owner': 'ann' } } })).toBe('learners/ann');
    expect(groupForRecord({ config: { image: 'base' } })).toBe('');
    expect(() => groupForRecord({ config: { image: 'base', labels: { 'glassbox.owner': '../x' } } })).toThrow(/invalid learner id/);
  });
});

describe('learner quota values', () => {
  it('keeps what is given, refuses a bad value naming its field', () => {
    expect(checkTenantLimits({ memory: 64 << 20, cpus: 0.5, pids: 100 }, 2)).toEqual({ memory: 64 << 20, cpus: 0.5, pids: 100 });
    expect(checkTenantLimits({ memory: null }, 2)).toEqual({ memory: null });
    const cases: [unknown, RegExp][] = [
      [{ memory: -1 }, /quota memory/],
      [{ memory: 1.5e6 }, /quota memory/],
      [{ memory: '64m' }, /quota memory/],
      [{ cpus: 0 }, /quota cpus/],
      [{ cpus: 3 }, /quota cpus: want a number of CPUs from 0.01 to 2/],
      [{ cpus: Number.NaN }, /quota cpus/],
      [{ pids: 0 }, /quota pids/],
      [{ pids: 2.5 }, /quota pids/],
      [{ disk: 1 }, /unknown field "disk"/],
      [null, /want an object/],
      [[1], /want an object/],
    ];
    for (const [v, re] of cases) expect(() => checkTenantLimits(v, 2), JSON.stringify(v)).toThrow(re);
  });
});

describe('GroupIndex', () => {
  it('finds a container at <parent>/<id> or <parent>/learners/<lid>/<id> on disk, and lists both levels', () => {
    const parent = join(tmp, 'glassbox');
    mkdirSync(join(parent, 'teacher1'), { recursive: true });
    mkdirSync(join(parent, 'learners', 'ann', 'c1'), { recursive: true });
    mkdirSync(join(parent, 'learners', 'bob'), { recursive: true });
    const idx = new GroupIndex(() => [parent]);
    expect(idx.of('c1')).toBe('learners/ann');
    expect(idx.rel('c1')).toBe('learners/ann/c1');
    expect(idx.of('teacher1')).toBe('');
    expect(idx.of('missing')).toBe('');
    expect([...idx.scan()].sort()).toEqual([
      ['c1', 'learners/ann'],
      ['teacher1', ''],
    ]);
    expect(idx.groups()).toEqual(['learners/ann', 'learners/bob']);
    idx.set('c2', 'learners/bob'); // create() records it before the directory exists
    expect(idx.rel('c2')).toBe('learners/bob/c2');
  });
});

describe("a learner's cgroup snapshot", () => {
  it("says where a record's cgroup is, and keeps only the learner's own groups", () => {
    const id = 'a'.repeat(64);
    const rec = { id, config: { image: 'base', labels: { 'glassbox.owner': 'ann' } }, paths: { cgroups: { memory: `/sys/fs/cgroup/memory/glassbox-t7/learners/ann/${id}` } } };
    expect(cgroupPlace(rec as never)).toEqual({ group: 'learners/ann', parent: 'glassbox-t7' });
    expect(cgroupPlace({ id, config: { image: 'base' }, paths: { cgroups: { unified: `/sys/fs/cgroup/glassbox/${id}` } } } as never)).toEqual({ group: '', parent: 'glassbox' });
    const g = (lid: string, containers: string[]) => ({ group: `learners/${lid}`, learnerId: lid, memory: 1, memoryLimit: 2, cpu: 0, cpuLimit: null, pids: 1, pidsLimit: null, oomKills: 0, forksRefused: 0, containers });
    const series = (cid: string, group: string) => ({ containerId: cid, name: cid, status: 'running', samples: [], events: [], latest: null, group });
    const snap: CgroupSnapshot = { kind: 'cgroups', time: 1, intervalMs: 1000, windowMs: 60000, parent: 'glassbox', containers: [series('a1', 'learners/ann'), series('b1', 'learners/bob')], groups: [g('ann', ['a1']), g('bob', ['b1'])] };
    const mine = cgroupSnapshotFor(snap, new Set(['a1']));
    expect(mine.containers.map((c) => c.containerId)).toEqual(['a1']);
    expect(mine.groups!.map((x) => x.learnerId)).toEqual(['ann']);
    expect(JSON.stringify(mine)).not.toContain('bob');
  });
});
