// Records, stats, events and images → Docker's JSON shapes; the stdcopy framing.
import { describe, expect, it } from 'vitest';
import { changesJson, containerFilter, containerInspect, containerSummary, humanDuration, statusText } from '../../server/api/docker/container-json.js';
import { dockerEvent, eventFilter } from '../../server/api/docker/events-json.js';
import { parseFilters } from '../../server/api/docker/filters.js';
import { imageHistoryJson, imageSummaryJson } from '../../server/api/docker/image-json.js';
import { statsJson, systemCpuUsageNs } from '../../server/api/docker/stats-json.js';
import { demux, muxFrame } from '../../server/api/docker/stream.js';
import type { CgroupStats } from '../../server/engine/cgroups/types.js';
import type { ContainerRecord } from '../../server/engine/types.js';

const rec = (over: Partial<ContainerRecord['state']> = {}): ContainerRecord => ({
  id: 'f'.repeat(64),
  name: 'web',
  created: '2025-01-01T00:00:00.000Z',
  config: { image: 'base', cmd: ['sh', '-c', 'echo hi'], labels: { tier: 'front' }, limits: { memory: 64 << 20 }, noNewPrivileges: true, namespaces: { pid: false } },
  image: { ref: 'base', id: 'sha256:' + 'a'.repeat(64) },
  path: 'sh',
  args: ['-c', 'echo hi'],
  limits: { memory: 64 << 20, memorySwap: null, cpus: 0.5, cpuShares: 512, pids: 20, io: [{ major: 254, minor: 0, readBps: 1048576 }] },
  state: { status: 'running', pid: 4242, pidStartTime: '1', monitorPid: 4241, monitorStartTime: '1', exitCode: 0, signal: null, oomKilled: false, error: '', startedAt: '2025-01-01T00:00:01.000Z', finishedAt: null, restartCount: 0, ...over },
  timeline: [],
  paths: { bundle: '/c/bundle', rootfs: '/c/bundle/rootfs', upper: '/c/upper', work: '/c/work', lowers: ['/l/bottom', '/l/top'], log: '/c/log', cgroups: {} },
  network: { mode: 'none' },
});

describe('container JSON', () => {
  it('inspect carries State, limits, GraphDriver and Config', () => {
    const j = containerInspect(rec(), { Env: ['PATH=/bin'], Cmd: ['sh'] });
    expect(j.State).toMatchObject({ Status: 'running', Running: true, Paused: false, OOMKilled: false, Pid: 4242, ExitCode: 0, StartedAt: '2025-01-01T00:00:01.000Z', FinishedAt: '0001-01-01T00:00:00Z' });
    expect(j.HostConfig).toMatchObject({ Memory: 64 << 20, MemorySwap: 128 << 20, NanoCpus: 5e8, CpuShares: 512, PidsLimit: 20, PidMode: 'host', SecurityOpt: ['no-new-privileges'] });
    expect(j.HostConfig.BlkioDeviceReadBps).toEqual([{ Path: '/dev/block/254:0', Rate: 1048576 }]);
    expect(j.GraphDriver).toEqual({ Name: 'overlay2', Data: { LowerDir: '/l/top:/l/bottom', UpperDir: '/c/upper', MergedDir: '/c/bundle/rootfs', WorkDir: '/c/work' } });
    expect(j.Config).toMatchObject({ Image: 'base', Cmd: ['sh', '-c', 'echo hi'], Env: ['PATH=/bin'], Labels: { tier: 'front' }, Tty: false });
    expect(j.Name).toBe('/web');
  });

  it('an exited container has no pid and a FinishedAt; OOMKilled shows', () => {
    const j = containerInspect(rec({ status: 'exited', pid: 0, exitCode: 137, oomKilled: true, finishedAt: '2025-01-01T00:00:09Z' }));
    expect(j.State).toMatchObject({ Running: false, Pid: 0, ExitCode: 137, OOMKilled: true, FinishedAt: '2025-01-01T00:00:09Z' });
  });

  it('summary and the STATUS column', () => {
    const now = Date.parse('2025-01-01T00:00:31.000Z');
    const s = containerSummary(rec(), now);
    expect(s).toMatchObject({ Names: ['/web'], Image: 'base', Command: "sh -c 'echo hi'", State: 'running', Status: 'Up 30 seconds', Created: 1735689600 });
    expect(statusText(rec({ status: 'paused' }), now)).toBe('Up 30 seconds (Paused)');
    expect(statusText(rec({ status: 'exited', exitCode: 3, finishedAt: '2025-01-01T00:00:30.000Z' }), now)).toBe('Exited (3) 1 second ago');
    expect(statusText(rec({ status: 'created', startedAt: null }), now)).toBe('Created');
    expect(humanDuration(90 * 60_000)).toBe('2 hours');
  });

  it('filters by status, name, id and label', () => {
    const f = (raw: object) => containerFilter(parseFilters(JSON.stringify(raw)))(rec());
    expect(f({ status: ['running'] })).toBe(true);
    expect(f({ status: ['exited'] })).toBe(false);
    expect(f({ name: ['we'] })).toBe(true);
    expect(f({ id: ['fff'] })).toBe(true);
    expect(f({ label: ['tier=front'] })).toBe(true);
    expect(f({ label: ['tier=back'] })).toBe(false);
    expect(() => f({ colour: ['red'] })).toThrow(/invalid filter 'colour'/);
    expect(parseFilters('{"status":{"running":true}}').get('status')).toEqual(['running']);
  });

  it('diff kinds: 0 modified, 1 added, 2 deleted', () => {
    expect(changesJson([{ path: '/a', kind: 'modified' }, { path: '/b', kind: 'added' }, { path: '/c', kind: 'deleted' }, { path: '/d', kind: 'opaque' }])).toEqual([
      { Path: '/a', Kind: 0 }, { Path: '/b', Kind: 1 }, { Path: '/c', Kind: 2 }, { Path: '/d', Kind: 0 },
    ]);
  });
});

describe('stats JSON', () => {
  const s = (usageNs: number, time: number): CgroupStats => ({
    time,
    memory: { current: 10 << 20, limit: 64 << 20, swapLimit: null, peak: 12 << 20, stat: { anon: 8 << 20, file: 2 << 20, inactive_file: 1 << 20 }, events: { max: 3, oom: 0, oomKill: 0 } },
    cpu: { usageNs, userNs: usageNs / 2, systemNs: usageNs / 2, nrPeriods: 10, nrThrottled: 2, throttledNs: 5000, cpus: 0.5, weight: 100, shares: 1024 },
    pids: { current: 3, limit: 20, refused: 0 },
    io: { readBytes: 4096, writeBytes: 8192, readOps: 1, writeOps: 2 },
    frozen: false,
  });
  it('has the fields docker stats reads', () => {
    const j = statsJson({ id: 'x', name: 'web', cur: { stats: s(2e9, 2000), systemNs: 20e9 }, pre: { stats: s(1e9, 1000), systemNs: 10e9 }, cgroupVersion: 1, online: 4 });
    expect(j.memory_stats).toMatchObject({ usage: 10 << 20, limit: 64 << 20, max_usage: 12 << 20 });
    expect(j.memory_stats.stats.total_inactive_file).toBe(1 << 20);
    expect(j.cpu_stats).toMatchObject({ cpu_usage: { total_usage: 2e9 }, system_cpu_usage: 20e9, online_cpus: 4, throttling_data: { periods: 10, throttled_periods: 2 } });
    expect(j.precpu_stats.cpu_usage.total_usage).toBe(1e9);
    expect(j.pids_stats).toEqual({ current: 3, limit: 20 });
    expect(j.blkio_stats.io_service_bytes_recursive).toContainEqual({ major: 0, minor: 0, op: 'read', value: 4096 });
    expect(j.name).toBe('/web');
  });
  it('reads host CPU time from /proc/stat in nanoseconds', () => {
    expect(systemCpuUsageNs('cpu  100 0 50 850 0 0 0 0 0 0\ncpu0 1 2 3 4\n')).toBe(1000 * 1e7);
    expect(systemCpuUsageNs()).toBeGreaterThan(0);
  });
});

describe('events JSON', () => {
  it('has Docker’s event shape and filters', () => {
    const e = dockerEvent({ type: 'container', action: 'die', id: 'abc', name: 'web', image: 'base', time: 1700000000123, attributes: { exitCode: '3' } }, { tier: 'front' });
    expect(e).toEqual({
      status: 'die', id: 'abc', from: 'base', Type: 'container', Action: 'die',
      Actor: { ID: 'abc', Attributes: { tier: 'front', image: 'base', name: 'web', exitCode: '3' } }, scope: 'local', time: 1700000000, timeNano: 1700000000123000000,
    });
    const f = (raw: object) => eventFilter(parseFilters(JSON.stringify(raw)))(e);
    expect(f({ event: ['die'] })).toBe(true);
    expect(f({ event: ['start'] })).toBe(false);
    expect(f({ container: ['web'] })).toBe(true);
    expect(f({ type: ['image'] })).toBe(false);
    expect(f({ label: ['tier=front'] })).toBe(true);
  });
});

describe('images JSON and stdcopy frames', () => {
  it('summary and history', () => {
    expect(imageSummaryJson({ id: 'sha256:1', repoTags: ['base:latest'], created: '2024-01-01T00:00:00Z', size: 10, layers: 1 })).toMatchObject({ Id: 'sha256:1', RepoTags: ['base:latest'], Created: 1704067200, Size: 10 });
    const h = imageHistoryJson({
      id: 'sha256:1', repoTags: ['base:latest'], created: '2024-01-01T00:00:00Z', size: 10, layers: 2, config: {}, manifestDigest: '', layerDetails: [],
      history: [{ created: '2024-01-01T00:00:00Z', createdBy: 'first', emptyLayer: false, size: 1, id: '' }, { created: '2024-01-01T00:00:01Z', createdBy: 'second', emptyLayer: false, size: 9, id: '' }],
    });
    expect(h.map((r) => r.CreatedBy)).toEqual(['second', 'first']);
    expect(h[0].Id).toBe('sha256:1');
  });
  it('frames: [stream,0,0,0,size BE] + payload', () => {
    const f = muxFrame(2, Buffer.from('err\n'));
    expect([...f.subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 0, 4]);
    expect(demux(Buffer.concat([muxFrame(1, Buffer.from('a')), f])).map((x) => [x.stream, x.data.toString()])).toEqual([[1, 'a'], [2, 'err\n']]);
  });
});
