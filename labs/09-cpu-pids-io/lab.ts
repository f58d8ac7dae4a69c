import { defineLab } from '../../server/labs/format.js';
import type { CgroupSeries } from '../../server/engine/index.js';
import { diskOf, fail, MiB, pass } from '../../server/labs/format.js';

// the disk under the engine's state root, where the container layers (and so /tmp/io) live
const disk = diskOf(process.env.GLASSBOX_ROOT ?? '/var/lib/glassbox');
const IO_LIMIT = 4 * MiB;

/** mean CPUs used over the last n samples (1.0 = one core) */
function recentCpu(s: CgroupSeries | null, n = 4): number {
  const xs = (s?.samples ?? []).slice(-n);
  return xs.length ? xs.reduce((a, x) => a + x.cpu, 0) / xs.length : 0;
}

const shell = { image: 'base', cmd: ['sh'], tty: true, openStdin: true };

export default defineLab({
  id: '09-cpu-pids-io',
  title: 'CPU, pids and IO limits',
  summary: 'A busy loop capped at half a CPU, two containers sharing by weight, a fork bomb stopped by pids.max and dd slowed to 4 MiB/s.',
  order: 9,
  containers: [
    { role: 'half', config: { ...shell, hostname: 'half', limits: { cpus: 0.5 } } },
    { role: 'heavy', config: { ...shell, hostname: 'heavy', limits: { cpuShares: 1024 } } },
    { role: 'light', config: { ...shell, hostname: 'light', limits: { cpuShares: 256 } } },
    // the bomb's container is also capped at half a CPU: a 2-core host stays usable
    { role: 'bomb', config: { ...shell, hostname: 'bomb', limits: { pids: 32, cpus: 0.5 } } },
    { role: 'io', config: { ...shell, hostname: 'io', limits: { io: [{ ...disk, writeBps: IO_LIMIT, readBps: IO_LIMIT }] } } },
  ],
  steps: [
    {
      id: 'throttle',
      title: 'Half a CPU: the quota and its throttling',
      terminal: 'half',
      diagram: 'cgroups',
      highlight: 'half',
      checkLabel: 'a busy loop runs under a 0.5 CPU quota and never gets more than ~0.5 CPU',
      check: async (k) => {
        const s = await k.cgroups('half');
        const st = s?.latest;
        if (!st) return fail('no cgroup stats yet');
        const loop = (await k.processes('half')).some((p) => p.cmdline.startsWith('sh -c while'));
        if (!loop) return fail('no busy loop running in the container');
        if (st.cpu.cpus !== 0.5) return fail(`quota ${st.cpu.cpus}`);
        const cpu = recentCpu(s);
        if ((s.samples ?? []).length < 4) return fail('waiting for samples');
        if (cpu > 0.65) return fail(`using ${cpu.toFixed(2)} CPU`);
        // a busy host may give it less than its quota: a quota is a ceiling, not a promise
        if (cpu < 0.1) return fail(`using only ${cpu.toFixed(2)} CPU: is the loop running?`);
        return pass(
          `${cpu.toFixed(2)} CPU; throttled in ${st.cpu.nrThrottled} of ${st.cpu.nrPeriods} periods (${(st.cpu.throttledNs / 1e9).toFixed(1)} s waiting)` +
            (st.cpu.nrThrottled === 0 ? ' — the host is busy and gave it less than its quota, so the quota never had to bite' : ''),
        );
      },
    },
    {
      id: 'heavy',
      title: 'Weights: the first container alone',
      terminal: 'heavy',
      diagram: 'cgroups',
      highlight: 'heavy',
      checkLabel: 'two busy loops run in "heavy", which has no quota and is never throttled',
      check: async (k) => {
        const loops = (await k.processes('heavy')).filter((p) => p.cmdline.startsWith('sh -c while'));
        const s = await k.cgroups('heavy');
        const cpu = recentCpu(s, 3);
        if (loops.length < 2) return fail(`${loops.length} busy loops running`);
        if (!s?.latest || s.latest.cpu.cpus !== null) return fail('no stats, or a quota is set');
        if (cpu < 0.1) return fail(`heavy uses ${cpu.toFixed(2)} CPU`);
        return pass(`2 loops, ${cpu.toFixed(2)} CPU, nr_throttled ${s.latest.cpu.nrThrottled}, shares ${s.latest.cpu.shares}: a weight is not a limit (on an idle 2-core host this reads ~2.0)`);
      },
    },
    {
      id: 'light',
      title: 'Weights: 1024 against 256',
      terminal: 'light',
      diagram: 'cgroups',
      highlight: 'light',
      checkLabel: 'with both busy, heavy (shares 1024) gets at least twice the CPU of light (shares 256)',
      check: async (k) => {
        const heavy = recentCpu(await k.cgroups('heavy'), 3);
        const light = recentCpu(await k.cgroups('light'), 3);
        if (light < 0.1) return fail(`light uses ${light.toFixed(2)} CPU: are its loops running?`);
        if (heavy < 2 * light) return fail(`heavy ${heavy.toFixed(2)} CPU, light ${light.toFixed(2)} CPU`);
        return pass(`heavy ${heavy.toFixed(2)} CPU, light ${light.toFixed(2)} CPU: ${(heavy / light).toFixed(1)} : 1 (weights 4 : 1)`);
      },
    },
    {
      id: 'io',
      title: 'dd at 4 MiB/s',
      terminal: 'io',
      diagram: 'cgroups',
      highlight: 'io',
      checkLabel: `the container wrote 10 MiB or more to ${disk.major}:${disk.minor}, never faster than ~4 MiB/s`,
      check: async (k) => {
        const s = await k.cgroups('io');
        const st = s?.latest;
        if (!st) return fail('no cgroup stats yet');
        const peak = Math.max(0, ...(s.samples ?? []).map((x) => x.writeBps));
        if (st.io.writeBytes < 10 * MiB) return fail(`written ${(st.io.writeBytes / MiB).toFixed(1)} MiB so far (peak ${(peak / MiB).toFixed(1)} MiB/s)`);
        if (peak > IO_LIMIT * 1.6) return fail(`peak ${(peak / MiB).toFixed(1)} MiB/s: above the limit`);
        return pass(`${(st.io.writeBytes / MiB).toFixed(1)} MiB written to ${disk.major}:${disk.minor}, peak ${(peak / MiB).toFixed(1)} MiB/s under a ${IO_LIMIT / MiB} MiB/s limit`);
      },
    },
    {
      id: 'bomb',
      title: 'A fork bomb meets pids.max',
      terminal: 'bomb',
      diagram: 'cgroups',
      highlight: 'bomb',
      checkLabel: 'pids.max refused forks (pids.events max > 0) and the container never held more than 32 tasks',
      check: async (k) => {
        const s = await k.cgroups('bomb');
        const st = s?.latest;
        if (!st) return fail('no cgroup stats yet');
        const refused = st.pids.refused;
        const event = s.events.some((e) => e.kind === 'fork-refused');
        if (refused < 1 && !event) return fail(`pids ${st.pids.current} of ${st.pids.limit}, no fork refused yet`);
        const most = Math.max(st.pids.current, ...s.samples.map((x) => x.pids));
        if (most > 32) return fail(`${most} tasks seen`);
        return pass(`${refused} forks refused (EAGAIN), pids.current ${st.pids.current} of pids.max ${st.pids.limit}`);
      },
    },
  ],
  corrections: [
    'The seed presents --cpus and CPU shares as the same kind of thing: a quota (cpu.cfs_quota_us / cpu.max) is a hard cap enforced by throttling, even on an idle host; shares (cpu.shares / cpu.weight) only divide the CPU when containers compete, and a lone container uses every core.',
    'On cgroup v1 the blkio throttle sees only I/O the kernel can charge to the cgroup at submission — direct I/O and reads; buffered writes are flushed later by the kernel\'s writeback and are not slowed. cgroup v2 with io.max charges writeback too. This lab writes with oflag=direct for that reason.',
    'A fork bomb is stopped by pids.max (fork fails with EAGAIN), not by the memory limit; the shell that started it stays stuck without free pids.',
  ],
});
