// The diagrams' layout math (components/diagrams/*-layout.ts), without a browser: what each
// picture must keep true whatever the snapshot — nodes inside the viewBox, no line through a box,
// no sample over the axis labels, no band above the plot, no marker hiding another.
import { describe, expect, it } from 'vitest';
import { CG_PANEL_H, CG_PANEL_W, CG_PLOT, cgColumns, cgView, eventMarkers, memoryBands, panelOrigin, PANELS, panelScales, roundLimit, statKeys, steppedLimit, timeAxis } from '../../components/diagrams/cgroup-layout';
import { inferWhich, LAYER, sizeMarks, stackBars, VOLUME, volumeBoxes } from '../../components/diagrams/layer-layout';
import { buildRows, focusRows, focusTree, namespaceFit, namespaceLayout, NS, NS_TYPES, sharedBars } from '../../components/diagrams/namespace-layout';
import { detailPlacement, endpointBox, fitViewBox, focusPan, natBox, NET, networkLayout } from '../../components/diagrams/network-layout';
import type { CgroupEvent, CgroupSample, LayerChangeView, LayerSnapshot, NamespaceSnapshot, NetEndpoint, NetworkSnapshot, NsProcess } from '../../server/engine/inspect/types';

const NOW = 1_800_000_000_000;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- cgroups

function sample(secAgo: number, o: Partial<CgroupSample> = {}): CgroupSample {
  const anon = 20 * MiB;
  const shmem = 30 * MiB;
  const file = shmem + 15 * MiB; // the kernel counts shmem inside file
  const kernel = 3 * MiB;
  return { time: NOW - secAgo * 1000, memory: anon + file + kernel, memoryLimit: 128 * MiB, stat: { anon, file, kernel, slab: 2 * MiB, shmem }, cpu: 0.4, cpuLimit: 0.5, throttled: 0, pids: 3, pidsLimit: 12, readBps: 0, writeBps: 0, ...o };
}
const samplesOver = (secs: number) => Array.from({ length: secs + 1 }, (_, i) => sample(secs - i));
const event = (secAgo: number, kind: CgroupEvent['kind']): CgroupEvent => ({ time: NOW - secAgo * 1000, kind, containerId: 'a', detail: kind });

describe('cgroup chart layout', () => {
  it('spans the samples window: a young container fills a minute, an old one the window kept', () => {
    expect(timeAxis(samplesOver(20), NOW, 300_000).windowMs).toBe(60_000);
    expect(timeAxis(samplesOver(100), NOW, 300_000).windowMs).toBe(120_000);
    const old = timeAxis(samplesOver(420), NOW, 300_000);
    expect(old.windowMs).toBe(300_000);
    expect(old.spanLabel).toBe('5 min');
    expect(old.x.domain()).toEqual([NOW - 300_000, NOW]);
    expect(old.x(NOW)).toBe(CG_PLOT.x1);
    expect(old.x(NOW - 300_000)).toBe(CG_PLOT.x0);
  });

  it('draws no sample left of the plot, over the axis labels', () => {
    const axis = timeAxis(samplesOver(420), NOW, 300_000);
    // samples older than the span are left out, and the scale clamps whatever else it is given
    expect(axis.visible.length).toBe(301);
    for (const s of axis.visible) expect(axis.x(s.time)).toBeGreaterThanOrEqual(CG_PLOT.x0);
    expect(axis.x(NOW - 400_000)).toBe(CG_PLOT.x0);
    expect(axis.x(NOW + 5_000)).toBe(CG_PLOT.x1);
  });

  it('stacks memory.stat without counting shmem twice, and every band stays inside the plot', () => {
    const samples = samplesOver(60);
    const keys = statKeys(samples);
    expect(keys).toEqual(['anon', 'file', 'kernel', 'shmem']); // slab is inside kernel on v2
    const bands = memoryBands(samples, keys);
    const top = bands[bands.length - 1];
    expect(top.key).toBe('shmem');
    // the stack adds up to the usage line (anon + file + kernel), not above it
    for (const [i, p] of top.points.entries()) expect(p.y1).toBe(samples[i].memory);
    const y = panelScales(samples, bands, null).memory;
    for (const b of bands) {
      for (const p of b.points) {
        for (const v of [p.y0, p.y1]) {
          expect(y(v)).toBeGreaterThanOrEqual(CG_PLOT.y0);
          expect(y(v)).toBeLessThanOrEqual(CG_PLOT.y1);
        }
      }
    }
  });

  it('keeps a stack larger than the usage (v1, odd kernels) inside the plot too', () => {
    const samples = [sample(2, { memory: 10 * MiB, memoryLimit: null, stat: { anon: 300 * MiB, sock: 200 * MiB } }), sample(1)];
    const bands = memoryBands(samples, statKeys(samples));
    const y = panelScales(samples, bands, null).memory;
    for (const b of bands) for (const p of b.points) expect(y(p.y1)).toBeGreaterThanOrEqual(CG_PLOT.y0);
    // a value beyond the domain is clamped to the plot's top, not drawn above it
    expect(y(1e15)).toBe(CG_PLOT.y0);
  });

  it('shows an OOM kill and a throttling mark at the same moment both, the kill on top', () => {
    const axis = timeAxis(samplesOver(300), NOW, 300_000);
    const events = [event(200, 'throttling'), event(200, 'oom-kill'), event(100, 'limit-changed'), event(400, 'start')];
    const mem = eventMarkers(events, axis.x, 'memory', NOW, axis.windowMs);
    expect(mem.map((m) => m.event.kind).sort()).toEqual(['limit-changed', 'oom-kill', 'throttling']); // start is older than the span
    const kill = mem.find((m) => m.event.kind === 'oom-kill')!;
    const thr = mem.find((m) => m.event.kind === 'throttling')!;
    expect(kill.badge && thr.badge).toBe(true);
    expect(kill.x).toBe(thr.x);
    expect(kill.cy).toBeLessThan(thr.cy); // the kill at the top of the line
    expect(thr.cy - kill.cy).toBeGreaterThanOrEqual(14); // a marker's width apart: neither hides the other
    expect(mem[mem.length - 1].event.kind).toBe('oom-kill'); // and drawn last, over the rest
    for (const m of mem) expect(m.cy).toBeLessThan(CG_PLOT.y1);
    // the CPU panel marks only throttling; the others draw their lines without a badge
    const cpu = eventMarkers(events, axis.x, 'cpu', NOW, axis.windowMs);
    expect(cpu.filter((m) => m.badge).map((m) => m.event.kind)).toEqual(['throttling']);
    expect(cpu.find((m) => m.event.kind === 'throttling')!.cy).toBe(kill.cy);
  });

  it('puts no point of any series outside the plot rectangle, whatever the samples', () => {
    // samples older than the window, a spike far above the limit, a negative glitch, a stack above usage
    const samples = [...samplesOver(420), sample(0.5, { memory: 10 * 1024 * MiB, cpu: 50, pids: 1e6, readBps: 1e12, stat: { anon: 900 * MiB, shmem: 900 * MiB, file: 0 } }), sample(0.2, { memory: -5, cpu: -1 })];
    const axis = timeAxis(samples, NOW, 300_000);
    const bands = memoryBands(axis.visible, statKeys(axis.visible));
    const y = panelScales(axis.visible, bands, null);
    const inPlot = (px: number, py: number) => px >= CG_PLOT.x0 && px <= CG_PLOT.x1 && py >= CG_PLOT.y0 && py <= CG_PLOT.y1;
    for (const s of axis.visible) {
      for (const [panel, v] of [['memory', s.memory], ['cpu', s.cpu], ['pids', s.pids], ['io', s.readBps]] as const) expect(inPlot(axis.x(s.time), y[panel](v))).toBe(true);
    }
    for (const b of bands) for (const p of b.points) expect(inPlot(axis.x(p.time), y.memory(p.y1)) && inPlot(axis.x(p.time), y.memory(p.y0))).toBe(true);
    // the top band (shmem) never rises above the plot
    expect(Math.min(...bands[bands.length - 1].points.map((p) => y.memory(p.y1)))).toBeGreaterThanOrEqual(CG_PLOT.y0);
  });

  it('stands the panels in one column with Large type, each inside the picture, none over another', () => {
    expect(cgColumns(false)).toBe(2);
    expect(cgColumns(true)).toBe(1);
    for (const cols of [1, 2] as const) {
      const view = cgView(cols);
      const rects = PANELS.map((_, i) => ({ ...panelOrigin(i, cols), w: CG_PANEL_W, h: CG_PANEL_H }));
      for (const r of rects) expect(r.x >= 0 && r.y >= 0 && r.x + r.w <= view.width && r.y + r.h <= view.height).toBe(true);
      for (const [i, a] of rects.entries()) for (const b of rects.slice(i + 1)) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
    }
    // one column: the same box shows the text twice as large
    expect(cgView(2).width / cgView(1).width).toBe(2);
  });

  it('rounds a dragged or stepped limit to what the cgroup file takes', () => {
    expect(roundLimit('memory', 37.4 * MiB)).toBe(37 * MiB);
    expect(roundLimit('memory', 1)).toBe(4 * MiB);
    expect(roundLimit('cpus', 0.333)).toBe(0.35);
    expect(roundLimit('pids', 0.2)).toBe(1);
    const y = panelScales(samplesOver(10), [], null);
    expect(steppedLimit('pids', 12, 1, y.pids)).toBe(13);
    expect(steppedLimit('pids', 12, -10, y.pids)).toBe(2);
    expect(steppedLimit('memory', 64 * MiB, -1, y.memory)).toBe(60 * MiB);
    expect(steppedLimit('cpus', 0.5, 1, y.cpu)).toBe(0.55);
    expect(steppedLimit('memory', 4 * MiB, -10, y.memory)).toBe(4 * MiB);
    // no limit yet: the first step starts from a value in the plot's upper part
    const fromNone = steppedLimit('pids', null, 1, y.pids);
    expect(y.pids(fromNone)).toBeGreaterThan(CG_PLOT.y0);
    expect(y.pids(fromNone)).toBeLessThan(CG_PLOT.y1);
  });
});

// ---------------------------------------------------------------- network

function endpoint(i: number, bridge: string): NetEndpoint {
  return { containerId: i.toString(16).padStart(64, 'd'), name: `web-${i}`, mode: 'bridge', hostVeth: `gbv${i}`, containerIf: 'eth0', bridge, ip: `172.28.0.${i + 2}/16`, routes: [], ports: [] };
}
function network(n: number, opts: { back?: number; isolated?: number; shared?: number } = {}): NetworkSnapshot {
  return {
    kind: 'network', time: NOW, state: 'ok', hostInterfaces: [], nat: [], hostStack: [],
    bridges: [{ name: 'gb0', addresses: ['172.28.0.1/16'], state: 'UP' }, { name: 'gb-back', addresses: ['172.29.0.1/16'], state: 'UP' }],
    endpoints: [...Array.from({ length: n }, (_, i) => endpoint(i, 'gb0')), ...Array.from({ length: opts.back ?? 0 }, (_, i) => endpoint(1000 + i, 'gb-back'))],
    isolated: Array.from({ length: opts.isolated ?? 0 }, (_, i) => ({ containerId: `iso${i}`, name: `alone-${i}` })),
    shared: Array.from({ length: opts.shared ?? 0 }, (_, i) => ({ containerId: `sh${i}`, name: `sidecar-with-a-long-name-${i}`, with: 'web-0' })),
  };
}
interface Rect { x: number; y: number; w: number; h: number }
const boxesOf = (l: ReturnType<typeof networkLayout>): Rect[] => l.placed.flatMap((p) => p.eps.map((e) => ({ x: e.x, y: e.y, w: NET.boxW, h: NET.boxH })));
const inside = (r: Rect, l: { width: number; height: number }) => r.x >= 0 && r.y >= 0 && r.x + r.w <= l.width && r.y + r.h <= l.height;

describe('network layout', () => {
  const cases = [network(1), network(7, { back: 1, isolated: 1, shared: 1 }), network(40, { back: 13, isolated: 5, shared: 3 }), network(200, { isolated: 1 })];

  it('keeps every node inside the viewBox', () => {
    for (const s of cases) {
      const l = networkLayout(s);
      expect(inside({ x: l.host.x, y: l.host.y, w: l.host.width, h: l.host.height }, l)).toBe(true);
      for (const p of l.placed) expect(inside({ x: p.x, y: p.y, w: p.width, h: NET.bridgeH }, l)).toBe(true);
      for (const b of boxesOf(l)) expect(inside(b, l)).toBe(true);
      for (const c of l.side.isolated) expect(inside({ x: l.side.x, y: c.y, w: 200, h: NET.isolatedH }, l)).toBe(true);
      for (const c of l.side.shared) expect(inside({ x: l.side.x, y: c.y - 13, w: 38 * 7, h: 16 }, l)).toBe(true);
      // the veth labels under each bridge too
      for (const p of l.placed) for (const e of p.eps) expect(e.bridgeY + 50).toBeLessThanOrEqual(l.height);
    }
  });

  it('puts each bridge, its bus and the uplink left of the containers', () => {
    for (const s of cases) {
      const l = networkLayout(s);
      const minBoxX = Math.min(...boxesOf(l).map((b) => b.x));
      expect(l.uplink!.x).toBeLessThan(NET.busX);
      expect(l.uplink!.x).toBeGreaterThan(l.host.x); // it leaves from the host stack's box
      expect(l.uplink!.y0).toBe(l.host.y + l.host.height);
      for (const p of l.placed) {
        expect(NET.busX).toBeLessThan(p.x);
        for (const e of p.eps) expect(p.x).toBeLessThanOrEqual(e.x);
        expect(l.uplink!.y1).toBeGreaterThanOrEqual(p.y + NET.bridgeH / 2);
      }
      expect(l.uplink!.x).toBeLessThan(minBoxX);
      // bridges stack top to bottom in the snapshot's order, below the host
      expect(l.placed.map((p) => p.bridge)).toEqual(['gb0', 'gb-back']);
      expect(l.placed[0].y).toBeGreaterThan(l.host.y + l.host.height);
      expect(l.placed[1].y).toBeGreaterThan(Math.max(...l.placed[0].eps.map((e) => e.y + NET.boxH)));
      // the side column is right of everything else
      for (const b of boxesOf(l)) expect(b.x + b.w).toBeLessThan(l.side.x);
    }
  });

  it('runs no veth through another container box', () => {
    const l = networkLayout(network(40, { back: 13 }));
    const boxes = boxesOf(l);
    for (const p of l.placed) {
      for (const e of p.eps) {
        const cx = e.x + NET.boxW / 2;
        for (const b of boxes) {
          if (b.x === e.x && b.y === e.y) continue;
          const crosses = cx > b.x && cx < b.x + b.w && e.bridgeY < b.y + b.h && e.y > b.y;
          expect(crosses).toBe(false);
        }
      }
    }
    // rows after the first hang from a bus line each, in the gap above the row
    const gb0 = l.placed[0];
    expect(gb0.buses.length).toBe(Math.ceil(40 / 10) - 1);
  });

  it('fits the picture in the svg when it can, 1:1 when it is small, never tinier than 3/4', () => {
    const l = networkLayout(network(7, { back: 1, isolated: 1 }));
    expect(fitViewBox(l, { w: 4000, h: 3000 })).toEqual({ width: 4000, height: 3000 }); // 1:1, nothing scaled up
    const fit = fitViewBox(l, { w: l.width * 0.9, h: l.height * 0.8 });
    expect(fit.width).toBeGreaterThanOrEqual(l.width);
    expect(fit.height).toBeGreaterThanOrEqual(l.height - 1e-9);
    const huge = networkLayout(network(200));
    const tiny = fitViewBox(huge, { w: 1200, h: 660 });
    expect(tiny.width).toBeCloseTo(1200 / 0.75);
    expect(fitViewBox(l, null)).toEqual({ width: l.width, height: l.height });
  });
});

describe('network layout: the viewed container and the detail panel', () => {
  // the diagram's box on the container page: 1024 px window (main px-4, section p-4, borders), svg 66vh of 768
  const at1024 = { wrapW: 1024 - 32 - 32 - 4, svgH: Math.round(0.66 * 768) };

  it('puts the detail panel below the picture at 1024 px, so it never covers the NAT box', () => {
    for (const n of [1, 7, 40, 200]) {
      const l = networkLayout(network(n));
      expect(detailPlacement(l, at1024.wrapW, at1024.svgH)).toBe('below');
      // below: the svg has the whole width, and its fitted view shows the whole NAT column
      expect(fitViewBox(l, { w: at1024.wrapW, h: at1024.svgH }).width).toBeGreaterThanOrEqual(natBox(l).x1);
    }
  });

  it('keeps the panel beside the picture on a wide screen, where the NAT column still shows whole', () => {
    const l = networkLayout(network(7));
    const wide = { wrapW: 1600 - 64 - 4, svgH: 660 };
    expect(detailPlacement(l, wide.wrapW, wide.svgH)).toBe('side');
    expect(fitViewBox(l, { w: wide.wrapW - NET.detailW, h: wide.svgH }).width).toBeGreaterThanOrEqual(natBox(l).x1);
    // the NAT column is inside the host box
    expect(natBox(l).x1).toBeLessThanOrEqual(l.host.x + l.host.width + NET.natW);
  });

  it('pans the viewed container into view when it is outside, and not at all when it is in view', () => {
    const l = networkLayout(network(200));
    const view = fitViewBox(l, { w: at1024.wrapW, h: at1024.svgH });
    const first = endpoint(0, 'gb0').containerId;
    const far = endpoint(190, 'gb0').containerId;
    expect(focusPan(l, first, view)).toBeNull();
    expect(focusPan(l, null, view)).toBeNull();
    const pan = focusPan(l, far, view)!;
    const b = endpointBox(l, far)!;
    // after the pan the box is wholly in view
    expect(b.x + pan.x).toBeGreaterThanOrEqual(0);
    expect(b.y + pan.y).toBeGreaterThanOrEqual(0);
    expect(b.x + b.w + pan.x).toBeLessThanOrEqual(view.width);
    expect(b.y + b.h + pan.y).toBeLessThanOrEqual(view.height);
    // an isolated container is found too
    const iso = networkLayout(network(200, { isolated: 1 }));
    expect(endpointBox(iso, 'iso0')).not.toBeNull();
  });
});

// ---------------------------------------------------------------- namespaces

const host = { pid: 10, mnt: 11, net: 12, uts: 13, ipc: 14, user: 15, cgroup: 16, time: 17 };
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const aNs = { ...host, pid: 20, mnt: 21, net: 22, uts: 23, ipc: 24 };
const bNs = { ...host, pid: 30, mnt: 31, net: 22, uts: 33, ipc: 34 }; // joins A's network namespace
const cNs = { ...host, pid: 40, mnt: 41, net: 42 };
const proc = (pid: number, comm: string, ns: NsProcess['ns'], containerId: string | null, role: NsProcess['role']): NsProcess => ({ pid, ppid: 1, nspid: [pid], comm, cmdline: comm, uid: 0, ns, containerId, role, state: 'S' });
const nsSnapshot: NamespaceSnapshot = {
  kind: 'namespaces', time: NOW, host, scanMs: 1, omitted: { kernelThreads: 0, hostProcesses: 0 },
  types: { pid: [], mnt: [], net: [], uts: [], ipc: [], user: [], cgroup: [], time: [] },
  containers: [
    { id: A, name: 'web', status: 'running', initPid: 101, monitorPid: 100 },
    { id: B, name: 'proxy', status: 'running', initPid: 201, monitorPid: 200 },
    { id: C, name: 'db', status: 'running', initPid: 301, monitorPid: 300 },
    { id: 'd'.repeat(64), name: 'gone', status: 'exited', initPid: 0, monitorPid: 0 },
  ],
  processes: [
    proc(1, 'systemd', host, null, 'host'), proc(2, 'node', host, null, 'host'),
    proc(100, 'gb-monitor', host, A, 'monitor'), proc(101, 'sh', aNs, A, 'init'), proc(102, 'sleep', aNs, A, 'member'),
    proc(200, 'gb-monitor', host, B, 'monitor'), proc(202, 'nginx', bNs, B, 'member'), proc(201, 'nginx', bNs, B, 'init'),
    proc(300, 'gb-monitor', host, C, 'monitor'), proc(301, 'pg', cNs, C, 'init'),
    proc(500, 'unshare', { ...host, uts: 99 }, null, 'host'), proc(501, 'sh', { ...host, uts: 99 }, null, 'host'),
  ],
  pidTree: {
    inode: 10, level: 0, owners: ['host'], processes: [{ pid: 1, localPid: 1, comm: 'systemd', containerId: null }],
    children: [
      { inode: 20, level: 1, owners: [A], processes: [{ pid: 101, localPid: 1, comm: 'sh', containerId: A }, { pid: 102, localPid: 2, comm: 'sleep', containerId: A }], children: [] },
      { inode: 30, level: 1, owners: [B], processes: [{ pid: 201, localPid: 1, comm: 'nginx', containerId: B }], children: [] },
      { inode: 40, level: 1, owners: [C], processes: Array.from({ length: 12 }, (_, i) => ({ pid: 301 + i, localPid: i + 1, comm: 'pg', containerId: C })), children: [] },
    ],
  },
};

describe('namespace table and pid tree layout', () => {
  it('has a row for the host, each running container (by its init) and each other namespace set', () => {
    const rows = buildRows(nsSnapshot);
    expect(rows.map((r) => [r.kind, r.label, r.pid, r.count])).toEqual([
      ['host', 'host', null, 2], // systemd and node (a monitor counts with its container, in no row)
      ['container', 'web', 101, 2],
      ['container', 'proxy', 201, 2], // the init's row, whichever process is listed first
      ['container', 'db', 301, 1],
      ['other', 'unshare', 500, 2], // one row for the two processes of one namespace set
    ]);
    expect(rows[1].ns).toEqual(aNs);
  });

  it('focuses on a container: the host, it and the rows sharing one of its own namespaces', () => {
    const rows = buildRows(nsSnapshot);
    expect(focusRows(rows, nsSnapshot, A).map((r) => r.label)).toEqual(['host', 'web', 'proxy']);
    expect(focusRows(rows, nsSnapshot, C).map((r) => r.label)).toEqual(['host', 'db']);
    expect(focusRows(rows, nsSnapshot, 'nope').map((r) => r.label)).toEqual(['host']);
    expect(focusTree(nsSnapshot.pidTree!, A).children.map((c) => c.inode)).toEqual([20]);
  });

  it('joins the cells of a shared namespace with one bar, not the host namespaces', () => {
    const rows = buildRows(nsSnapshot);
    const bars = sharedBars(rows, host);
    expect(bars.map((b) => [b.type, b.inode, b.rows])).toEqual([['net', 22, [1, 2]]]);
    const [bar] = bars;
    expect(bar.y0).toBeLessThan(bar.y1);
  });

  it('keeps every column of the table at 1024 px, with Large type text grown as the page text', () => {
    const gridW = NS.labelW + NS_TYPES.length * NS.colW + 20;
    const svgAt1024 = { w: 1024 - 32 - 32 - 4, h: 540 };
    for (const large of [false, true]) {
      const fit = namespaceFit({ gridW }, svgAt1024, large);
      expect(fit.scale).toBe(large ? 21 / 16 : 1);
      // the svg is at least as wide as the whole table drawn at that scale (it scrolls in its box)
      expect(fit.minWidth).toBeGreaterThanOrEqual(gridW * fit.scale);
      const [, , vw, vh] = fit.viewBox!.split(' ').map(Number);
      // the view holds every column (the last, time, ends at gridW - 20)
      expect(vw * fit.scale).toBeCloseTo(Math.max(svgAt1024.w, fit.minWidth));
      expect(vw).toBeGreaterThanOrEqual(gridW - 20);
      expect(vh).toBeCloseTo(svgAt1024.h / fit.scale);
    }
    // not measured yet: no viewBox (drawn 1:1)
    expect(namespaceFit({ gridW }, null, true).viewBox).toBeUndefined();
  });

  it('lays the pid tree out below the table, every level inside the picture', () => {
    const rows = buildRows(nsSnapshot);
    const l = namespaceLayout(nsSnapshot, rows, nsSnapshot.pidTree);
    expect(l.gridH).toBe(34 + rows.length * 40);
    const t = l.tree!;
    for (const n of t.nodes) {
      const top = t.origin.y + n.x - t.h(n.data) / 2;
      expect(top).toBeGreaterThanOrEqual(l.treeTop);
      expect(top + t.h(n.data)).toBeLessThanOrEqual(l.height);
      expect(t.origin.x + n.y + 270).toBeLessThanOrEqual(l.width);
    }
    // a level lists at most eight processes and a "… and N more" line
    expect(t.h(nsSnapshot.pidTree!.children[2])).toBe(36 + 9 * 19);
    expect(t.nodes.filter((n) => n.depth === 1)).toHaveLength(3);
  });
});

// ---------------------------------------------------------------- layers

const change = (path: string, kind: LayerChangeView['kind'], o: Partial<LayerChangeView> = {}): LayerChangeView => ({ path, kind, copiedBytes: 0, copyUp: false, ...o });
const layerSnapshot: LayerSnapshot = {
  kind: 'layers', time: NOW, state: 'ok', containerId: A, containerName: 'web', image: { ref: 'alpine', id: 'sha256:x' },
  // out of order on purpose: the stack sorts by index
  layers: [1, 0, 2].map((index) => ({ index, diffId: `sha256:${String(index).repeat(16)}`, dir: `/l${index}`, size: 1000 * (index + 1), createdBy: `step ${index}` })),
  upper: {
    dir: '/upper', bytes: 90 * MiB,
    changes: [
      change('/etc/profile', 'modified', { copyUp: true, copiedBytes: 1200, lowerSize: 1100 }),
      change('/var/log/big.log', 'modified', { copyUp: true, copiedBytes: 64 * MiB, lowerSize: 64 * MiB }),
      change('/etc/os-release', 'deleted'),
      ...Array.from({ length: 10 }, (_, i) => change(`/new/${i}`, 'added', { copiedBytes: (i + 1) * 1000 })),
    ],
  },
  merged: { dir: '/merged', status: 'mounted' },
  totals: { added: 10, modified: 2, deleted: 1, opaque: 0, copiedUpBytes: 0, addedBytes: 0 },
};

describe('layer stack layout', () => {
  it('stacks the bars as overlayfs does: merged on top, the upper dir, then layers down to layer 0 at the bottom', () => {
    const bars = stackBars(layerSnapshot);
    expect(bars.map((b) => b.key)).toEqual(['merged', 'upper', 'l2', 'l1', 'l0']);
    const ys = bars.map((b) => b.y);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys); // top to bottom
    expect(bars.find((b) => b.key === 'l0')!.y).toBe(Math.max(...ys));
    for (let i = 1; i < bars.length; i++) expect(ys[i] - ys[i - 1]).toBeGreaterThanOrEqual(LAYER.barH); // no overlap
    expect(bars.map((b) => b.layer)).toEqual([undefined, 'upper', 2, 1, 0]);
  });

  it('lists the biggest entries of the upper dir, eight at most, biggest first', () => {
    const marks = sizeMarks(layerSnapshot);
    expect(marks).toHaveLength(8);
    expect(marks[0].change.path).toBe('/var/log/big.log');
    expect(marks[0].width).toBe(LAYER.sizeBarMax);
    for (let i = 1; i < marks.length; i++) {
      expect(marks[i].change.copiedBytes).toBeLessThanOrEqual(marks[i - 1].change.copiedBytes);
      expect(marks[i].y).toBeGreaterThan(marks[i - 1].y);
      expect(marks[i].width).toBeGreaterThanOrEqual(2);
    }
    expect(marks.some((m) => m.change.kind === 'deleted')).toBe(false); // a whiteout holds no bytes
  });

  it('puts the mounts above the merged view, two to a row, outside the stack; none, no band', () => {
    expect(volumeBoxes(layerSnapshot)).toEqual({ boxes: [], height: 0 });
    const anon = 'f'.repeat(64);
    const { boxes, height } = volumeBoxes({
      ...layerSnapshot,
      volumes: [
        { type: 'volume', name: 'data', target: '/data', readOnly: false },
        { type: 'volume', name: anon, target: '/var/lib/db', readOnly: true },
        { type: 'tmpfs', target: '/run', readOnly: false },
      ],
    });
    expect(boxes.map((b) => b.label)).toEqual(['volume data', `volume ${anon.slice(0, 12)}`, 'tmpfs (memory)']);
    expect(boxes[1].sub).toBe('on /var/lib/db · read-only');
    expect(boxes[0].y).toBe(boxes[1].y);
    expect(boxes[2].y).toBeGreaterThanOrEqual(boxes[0].y + VOLUME.h);
    for (const b of boxes) expect(b.x + VOLUME.w).toBeLessThanOrEqual(LAYER.stackW);
    // the stack starts below the band
    expect(height).toBeGreaterThanOrEqual(boxes[2].y + VOLUME.h);
  });

  it('says what it can about a path from the changes alone', () => {
    expect(inferWhich(layerSnapshot, '/etc/os-release').explanation).toMatch(/whiteout/);
    expect(inferWhich(layerSnapshot, '/var/log/big.log').explanation).toMatch(/copy-up.*64\.0 MiB/);
    expect(inferWhich(layerSnapshot, '/bin/sh').visible).toBeNull();
  });
});
