// The cgroup hierarchy strip (components/diagrams/cgroup-tree-layout.ts): a learner's containers
// are drawn one level below their group, the group below learners/, learners/ below the parent,
// each elbow joining a node to its own parent; the teacher's containers stay right under the parent.
import { describe, expect, it } from 'vitest';
import { cgroupTree, CT_INDENT, CT_MAX_ROWS, groupDetail } from '../../components/diagrams/cgroup-tree-layout';
import type { CgroupGroup, CgroupSeries } from '../../server/engine/inspect/types';

const MiB = 1024 * 1024;
const series = (id: string, name: string, group = ''): CgroupSeries => ({ containerId: id, name, status: 'running', samples: [], events: [], latest: null, group });
const group = (lid: string, containers: string[], extra: Partial<CgroupGroup> = {}): CgroupGroup => ({
  group: `learners/${lid}`,
  learnerId: lid,
  memory: 41 * MiB,
  memoryLimit: 64 * MiB,
  cpu: 0.31,
  cpuLimit: 0.5,
  pids: 7,
  pidsLimit: 64,
  oomKills: 0,
  forksRefused: 0,
  containers,
  ...extra,
});
const hex = (c: string) => c.repeat(64);

describe('cgroup tree layout', () => {
  it('is not drawn when no container is in a group', () => {
    expect(cgroupTree({ containers: [series(hex('a'), 'web')], groups: [], parent: 'glassbox' }, hex('a'))).toBeNull();
  });

  it('nests parent -> learners -> <lid> -> containers, one indent a level, and links each node to its parent', () => {
    const [a1, a2, b1, t1] = [hex('a'), hex('b'), hex('c'), hex('d')];
    const tree = cgroupTree(
      {
        parent: 'glassbox',
        containers: [series(a1, 'ann-web', 'learners/ann'), series(a2, 'ann-db', 'learners/ann'), series(b1, 'bob-web', 'learners/bob'), series(t1, 'teacher')],
        groups: [group('bob', [b1]), group('ann', [a1, a2], { oomKills: 1 })],
      },
      a2,
    )!;
    const at = new Map(tree.nodes.map((n) => [n.key, n]));
    const chain = (key: string): string[] => {
      const n = at.get(key)!;
      return n.parentKey ? [...chain(n.parentKey), key] : [key];
    };
    expect(chain(`c:${a2}`)).toEqual(['parent', 'learners', 'g:learners/ann', `c:${a2}`]);
    expect(chain(`c:${b1}`)).toEqual(['parent', 'learners', 'g:learners/bob', `c:${b1}`]);
    expect(chain(`c:${t1}`)).toEqual(['parent', `c:${t1}`]); // the teacher's: glassbox/<id>
    expect(at.get('parent')!.label).toBe('glassbox/');
    for (const n of tree.nodes) {
      if (!n.parentKey) continue;
      const p = at.get(n.parentKey)!;
      expect(n.depth, n.key).toBe(p.depth + 1);
      expect(n.x - p.x, n.key).toBe(CT_INDENT);
      expect(n.row, `${n.key} is drawn below its parent`).toBeGreaterThan(p.row);
      // a group's rows come before the next group's: containers sit right under their own group
      const between = tree.nodes.filter((m) => m.row > p.row && m.row < n.row);
      expect(between.every((m) => m.depth > p.depth), `${n.key}: nothing shallower between it and its parent`).toBe(true);
    }
    // groups in learner order, the selected container's group marked, its use against the quota
    expect(tree.nodes.filter((n) => n.kind === 'group').map((n) => n.label)).toEqual(['ann/', 'bob/']);
    expect(at.get('g:learners/ann')!.selected).toBe(true);
    expect(at.get(`c:${a2}`)!.selected).toBe(true);
    expect(at.get('g:learners/ann')!.memoryFraction).toBeCloseTo(41 / 64);
    expect(at.get('g:learners/ann')!.detail).toBe('memory 41 MiB / 64 MiB · cpu 0.31 / 0.5 · pids 7 / 64 · 1 OOM kill');
    // every link starts at its parent's x and ends at its child's row
    expect(tree.links).toHaveLength(tree.nodes.length - 1);
    for (const l of tree.links) {
      const [p, c] = [at.get(l.from)!, at.get(l.to)!];
      expect(l.d).toBe(`M${p.x + 6},${p.y + 7}V${c.y}H${c.x - 2}`);
    }
    expect(tree.height).toBeGreaterThanOrEqual(tree.nodes.length * 30);
  });

  it('folds the containers of other groups when the class is large, never the selected one', () => {
    const groups: CgroupGroup[] = [];
    const containers: CgroupSeries[] = [];
    for (let i = 0; i < 10; i++) {
      const lid = `l${String(i).padStart(2, '0')}`;
      const ids = [hex(String(i)).slice(0, 63) + 'a', hex(String(i)).slice(0, 63) + 'b'];
      for (const id of ids) containers.push(series(id, `${lid}-c`, `learners/${lid}`));
      groups.push(group(lid, ids));
    }
    const selected = groups[3].containers[1];
    const tree = cgroupTree({ parent: 'glassbox-t7', containers, groups }, selected)!;
    expect(tree.nodes.length).toBeLessThanOrEqual(2 + groups.length * 2 + 1);
    expect(tree.nodes.filter((n) => n.kind === 'folded')).toHaveLength(9);
    expect(tree.nodes.filter((n) => n.kind === 'container').map((n) => n.containerId)).toEqual(groups[3].containers);
    expect(tree.nodes.find((n) => n.kind === 'folded')!.label).toBe('2 containers');
    expect(2 + containers.length + groups.length).toBeGreaterThan(CT_MAX_ROWS);
  });

  it('says "no limit" for a group without a quota', () => {
    expect(groupDetail(group('x', [], { memoryLimit: null, cpuLimit: null, pidsLimit: null }))).toBe('memory 41 MiB / no limit · cpu 0.31 / no quota · pids 7 / max');
  });
});
