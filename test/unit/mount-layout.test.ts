// The mount view's layout and the inspector's pure part (mountinfo → nodes), on a mountinfo text
// shaped like a container's: an overlay root, /proc with masked and read-only paths under it, a
// bind of a shared host mount, a tmpfs. And the pid view's zombie counting and EAGAIN explanation.
import { describe, expect, it } from 'vitest';
import { descendants, mountBadges, mountDetailLines, mountLayout, MT, propagationBadge, rowHeight } from '../../components/diagrams/mount-layout';
import { orderForTree, pidPressure, pidsExplanation, zombieCount } from '../../components/diagrams/namespace-layout';
import { bindHostPath, buildMountNodes, overlayDirs } from '../../server/engine/inspect/mounts';
import type { MountSnapshot, NamespaceSnapshot, NsProcess } from '../../server/engine/inspect/types';
import { parseMountinfo } from '../../server/engine/util/mountinfo';

const container = parseMountinfo(
  [
    '600 500 0:90 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l/2:/l/1,upperdir=/c/upper,workdir=/c/work',
    '601 600 0:91 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
    '602 601 0:5 /null /proc/kcore rw,nosuid - devtmpfs udev rw,size=100k',
    '603 601 0:92 / /proc/acpi ro,relatime - tmpfs tmpfs ro,size=0k',
    '604 601 0:91 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw',
    '605 600 8:1 /srv/data /data ro,relatime - ext4 /dev/sda1 rw',
    '606 600 8:1 /tmp/gbt-x/shared /shared rw,relatime shared:77 - ext4 /dev/sda1 rw',
    '607 600 0:93 / /scratch rw,nosuid,nodev - tmpfs tmpfs rw,size=1024k',
    '608 600 8:1 /var/lib/gb/c1/hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw',
  ].join('\n'),
);
const host = parseMountinfo(
  [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '90 22 8:1 /tmp/gbt-x/shared /tmp/gbt-x/shared rw,relatime shared:77 - ext4 /dev/sda1 rw',
    '91 22 8:1 /srv /srv rw,relatime shared:5 - ext4 /dev/sda1 rw',
  ].join('\n'),
);

const nodes = buildMountNodes(container, host, { config: { image: 'base', mounts: [{ type: 'bind', source: '/srv/data', target: '/data', readOnly: true }] } } as never);
const snap: MountSnapshot = { kind: 'mounts', time: 0, state: 'ok', containerId: 'c1', pid: 42, mounts: nodes, totals: { mounts: nodes.length, masked: 2, readOnly: 3, shared: 1, slave: 1, binds: 3 } };
const at = (p: string) => nodes.find((n) => n.mountPoint === p)!;

describe('mount inspector (pure part)', () => {
  it('orders the tree parents first with depths', () => {
    expect(nodes.map((n) => [n.mountPoint, n.depth])).toEqual([
      ['/', 0],
      ['/proc', 1],
      ['/proc/kcore', 2],
      ['/proc/acpi', 2],
      ['/proc/sys', 2],
      ['/data', 1],
      ['/shared', 1],
      ['/scratch', 1],
      ['/etc/hosts', 1],
    ]);
    expect(at('/proc').children).toEqual([602, 603, 604]);
  });

  it('splits overlay options, takes them out of superOptions', () => {
    expect(at('/').overlay).toEqual({ lowerdir: ['/l/2', '/l/1'], upperdir: '/c/upper', workdir: '/c/work' });
    expect(at('/').superOptions).toEqual(['rw']);
    expect(overlayDirs(['lowerdir+=/a', 'lowerdir+=/b'])).toEqual({ lowerdir: ['/a', '/b'] });
  });

  it('finds bind sources from the config or by device and root', () => {
    expect(at('/data').bind).toEqual({ hostPath: '/srv/data', from: 'config' });
    expect(at('/etc/hosts').bind).toEqual({ hostPath: '/var/lib/gb/c1/hosts', from: 'device' });
    // the longest host root holding the bind's root wins
    expect(bindHostPath(container[6], host)).toBe('/tmp/gbt-x/shared');
    expect(at('/scratch').bind).toBeUndefined();
    expect(at('/proc/sys').bind).toBeUndefined();
  });

  it('marks masked and read-only paths and what masks them', () => {
    expect(at('/proc/kcore').masked?.by).toMatch(/\/dev\/null/);
    expect(at('/proc/acpi').masked?.by).toMatch(/read-only tmpfs/);
    expect(at('/proc/sys').readonlyPath).toBe(true);
    expect(at('/proc/sys').masked).toBeUndefined();
    expect(at('/scratch').masked).toBeUndefined();
  });

  it('names propagation and the host peers of a group', () => {
    expect(at('/').propagationLabel).toBe('slave');
    expect(at('/').hostPeers).toEqual(['/']);
    expect(at('/shared').propagationLabel).toBe('shared');
    expect(at('/shared').hostPeers).toEqual(['/tmp/gbt-x/shared']);
    expect(at('/scratch').propagationLabel).toBe('private');
  });
});

describe('mount diagram layout', () => {
  it('badges: propagation first, then ro / masked / bind / overlay', () => {
    expect(propagationBadge(at('/shared')).text).toBe('shared:77');
    expect(propagationBadge(at('/')).text).toBe('master:1');
    expect(mountBadges(at('/data')).map((b) => b.kind)).toEqual(['private', 'ro', 'bind']);
    expect(mountBadges(at('/proc/acpi')).map((b) => b.kind)).toEqual(['private', 'ro', 'masked']);
  });

  it('puts each overlay directory on a line of its own, top and bottom named', () => {
    expect(mountDetailLines(at('/')).map((l) => [l.kind, l.text])).toEqual([
      ['lower', 'lowerdir (top) /l/2'],
      ['lower', 'lowerdir (bottom) /l/1'],
      ['upper', 'upperdir /c/upper'],
      ['work', 'workdir /c/work'],
      ['peers', "receives from group 1 with the host's /"],
    ]);
    expect(mountDetailLines(at('/proc/kcore'))[0].kind).toBe('masked');
  });

  it('stacks rows by their line count and indents by depth', () => {
    const l = mountLayout(snap);
    expect(l.rows).toHaveLength(nodes.length);
    expect(l.rows[0].h).toBe(rowHeight(5));
    let y = 0;
    for (const r of l.rows) {
      expect(r.y).toBe(y);
      expect(r.x).toBe(r.node.depth * MT.indent);
      y += r.h + MT.gap;
    }
    expect(l.height).toBe(y);
    expect(l.rows[2].parent).toBe(1);
    expect(l.rows[0].parent).toBe(-1);
    expect(l.width).toBe(MT.width + 2 * MT.indent);
  });

  it('folds a subtree and counts what is folded', () => {
    const l = mountLayout(snap, new Set([601]));
    expect(l.rows.map((r) => r.node.mountPoint)).toEqual(['/', '/proc', '/data', '/shared', '/scratch', '/etc/hosts']);
    expect(descendants(snap, 601)).toBe(3);
    expect(descendants(snap, 600)).toBe(8);
  });
});

describe('pid view: zombies and pids.max', () => {
  const proc = (pid: number, state: string, containerId: string | null, role: NsProcess['role'] = 'member'): NsProcess => ({ pid, ppid: 1, nspid: [pid], comm: 'sh', cmdline: '', uid: 0, ns: {}, containerId, role, state });
  const s = {
    containers: [
      { id: 'a', name: 'web', status: 'running', initPid: 10, monitorPid: 9, pids: { current: 64, limit: 64, refused: 3 } },
      { id: 'b', name: 'db', status: 'running', initPid: 20, monitorPid: 19, pids: { current: 2, limit: null, refused: 0 } },
    ],
    processes: [proc(9, 'S', 'a', 'monitor'), proc(10, 'S', 'a', 'init'), ...Array.from({ length: 60 }, (_, i) => proc(100 + i, 'Z', 'a')), proc(20, 'S', 'b', 'init'), proc(21, 'Z', null)],
  } as unknown as NamespaceSnapshot;

  it('counts zombies per container and says why a fork fails with EAGAIN', () => {
    const [a, b] = pidPressure(s);
    expect(a).toMatchObject({ zombies: 60, full: true, current: 64, limit: 64, refused: 3 });
    expect(b).toMatchObject({ zombies: 0, full: false });
    expect(zombieCount(60)).toBe('60 zombies');
    expect(zombieCount(1)).toBe('1 zombie');
    const text = pidsExplanation(a)!;
    expect(text).toContain('64 of pids.max = 64');
    expect(text).toContain('60 zombies hold a pid each');
    expect(text).toContain('EAGAIN');
    expect(text).toContain('+ terminal');
    expect(pidsExplanation(b)).toBeNull();
  });

  it('lists living processes before zombies', () => {
    const states = new Map([[1, 'Z'], [2, 'S'], [3, 'Z'], [4, 'R']]);
    expect(orderForTree([1, 2, 3, 4].map((pid) => ({ pid })), (p) => states.get(p)!).map((p) => p.pid)).toEqual([2, 4, 1, 3]);
  });
});
