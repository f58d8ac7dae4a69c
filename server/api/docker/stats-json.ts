// CgroupStats → Docker's stats JSON (what `docker stats` computes CPU %, MEM USAGE, BLOCK I/O, PIDS from).
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { CgroupStats, ContainerStats } from '../../engine/index.js';

/** Host CPU time in nanoseconds, from the first line of /proc/stat (USER_HZ = 100 on Linux). */
export function systemCpuUsageNs(procStat?: string): number {
  const text = procStat ?? readFileSync('/proc/stat', 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return ticks * (1e9 / 100);
}

export interface CpuSample {
  stats: CgroupStats & Pick<ContainerStats, 'networks'>;
  systemNs: number;
}

function cpuStats(s: CpuSample | null, online: number) {
  if (!s) {
    return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 0, online_cpus: 0, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  }
  const c = s.stats.cpu;
  return {
    cpu_usage: { total_usage: c.usageNs, usage_in_kernelmode: c.systemNs, usage_in_usermode: c.userNs },
    system_cpu_usage: s.systemNs,
    online_cpus: online,
    throttling_data: { periods: c.nrPeriods, throttled_periods: c.nrThrottled, throttled_time: c.throttledNs },
  };
}

/** One stats object; pre is the previous sample (null for the first, as Docker sends zeros). */
export function statsJson(opts: { id: string; name: string; cur: CpuSample; pre: CpuSample | null; cgroupVersion: 1 | 2; online?: number }) {
  const { cur, pre } = opts;
  const m = cur.stats.memory;
  const online = opts.online ?? cpus().length;
  // The CLI subtracts inactive_file (v2) or total_inactive_file (v1) from usage: give both names.
  const memStats: Record<string, number> = { ...m.stat };
  if (opts.cgroupVersion === 1) {
    if (m.stat.inactive_file !== undefined) memStats.total_inactive_file = m.stat.inactive_file;
    if (m.stat.anon !== undefined) memStats.rss = m.stat.anon;
    if (m.stat.file !== undefined) memStats.cache = m.stat.file;
  }
  const io = cur.stats.io;
  return {
    name: `/${opts.name}`,
    id: opts.id,
    read: new Date(cur.stats.time).toISOString(),
    preread: pre ? new Date(pre.stats.time).toISOString() : '0001-01-01T00:00:00Z',
    pids_stats: { current: cur.stats.pids.current, ...(cur.stats.pids.limit != null ? { limit: cur.stats.pids.limit } : {}) },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 0, minor: 0, op: 'read', value: io.readBytes },
        { major: 0, minor: 0, op: 'write', value: io.writeBytes },
      ],
      io_serviced_recursive: [
        { major: 0, minor: 0, op: 'read', value: io.readOps },
        { major: 0, minor: 0, op: 'write', value: io.writeOps },
      ],
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    // Docker's per-interface counters of the container's namespace (eth0, eth1 ...)
    networks: Object.fromEntries(
      Object.entries(cur.stats.networks ?? {}).map(([name, n]) => [
        name,
        { rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped, tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped },
      ]),
    ),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(cur, online),
    precpu_stats: cpuStats(pre, online),
    memory_stats: {
      usage: m.current,
      ...(m.peak != null ? { max_usage: m.peak } : {}),
      stats: memStats,
      // unlimited: the host's memory, as Docker reports it
      limit: m.limit ?? totalmem(),
      failcnt: m.events.max,
    },
  };
}
