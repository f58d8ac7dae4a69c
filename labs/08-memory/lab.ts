import { defineLab } from '../../server/labs/format.js';
import { fail, MiB, pass, readHost } from '../../server/labs/format.js';

const LIMIT = 64 * MiB;
// memory + swap = memory: no swap for this container (Docker's --memory 64m --memory-swap 64m)
const limits = { memory: LIMIT, memorySwap: LIMIT };

export default defineLab({
  id: '08-memory',
  title: 'Memory: the limit, the breakdown and the OOM killer',
  summary: 'Fill a 64 MiB container with shared memory and page cache, watch memory.stat split it, then let the OOM killer pick a victim — a command, and then a PID 1.',
  order: 8,
  containers: [
    { role: 'mem', config: { image: 'base', cmd: ['sh'], tty: true, openStdin: true, hostname: 'mem', limits } },
    {
      role: 'victim',
      // PID 1 waits for /tmp/go, then becomes a dd that needs 96 MiB at once
      config: {
        image: 'base',
        cmd: ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.2; done; exec dd if=/dev/zero of=/dev/null bs=96M count=1'],
        hostname: 'victim',
        limits,
      },
      terminal: true,
    },
  ],
  steps: [
    {
      id: 'limit',
      title: 'The limit, and what counts against it',
      diagram: 'cgroups',
      highlight: 'mem',
      checkLabel: 'the cgroup holds at least 36 MiB of shmem under its 64 MiB limit',
      check: async (k) => {
        const s = (await k.cgroups('mem'))?.latest;
        if (!s) return fail('no cgroup stats yet');
        if (s.memory.limit !== LIMIT) return fail(`limit is ${s.memory.limit}`);
        const shmem = s.memory.stat.shmem ?? 0;
        if (shmem < 36 * MiB) return fail(`shmem ${(shmem / MiB).toFixed(1)} MiB`);
        return pass(`memory ${(s.memory.current / MiB).toFixed(1)} MiB of ${LIMIT / MiB} MiB; shmem ${(shmem / MiB).toFixed(1)} MiB (a file in /dev/shm is memory)`);
      },
    },
    {
      id: 'breakdown',
      title: 'memory.stat: anon, file, shmem',
      diagram: 'cgroups',
      highlight: 'mem',
      checkLabel: 'memory.stat shows at least 12 MiB of page cache besides the shmem',
      check: async (k) => {
        const s = (await k.cgroups('mem'))?.latest;
        if (!s) return fail('no cgroup stats yet');
        const file = s.memory.stat.file ?? 0;
        const shmem = s.memory.stat.shmem ?? 0;
        const cache = file - shmem;
        if (cache < 12 * MiB) return fail(`page cache (file − shmem) is ${(cache / MiB).toFixed(1)} MiB`);
        if ((s.memory.stat.shmem ?? 0) > 8 * MiB) return fail(`shmem is still ${(shmem / MiB).toFixed(1)} MiB: remove /dev/shm/fill`);
        return pass(`file ${(file / MiB).toFixed(1)} MiB (of it shmem ${(shmem / MiB).toFixed(1)} MiB), anon ${((s.memory.stat.anon ?? 0) / MiB).toFixed(1)} MiB`);
      },
    },
    {
      id: 'oom',
      title: 'The OOM killer picks a command',
      diagram: 'cgroups',
      highlight: 'mem',
      checkLabel: 'the OOM killer killed a process of the container, and its shell (PID 1) still runs',
      check: async (k) => {
        const series = await k.cgroups('mem');
        const s = series?.latest;
        if (!s) return fail('no cgroup stats yet');
        const kills = s.memory.events.oomKill;
        const event = series.events.some((e) => e.kind === 'oom-kill');
        if (kills < 1 && !event) return fail(`oom_kill ${kills}`);
        if (k.container('mem').state.status !== 'running') return fail('the container is no longer running');
        const swaps = await readHost(k, '/proc/swaps');
        const noSwap = swaps !== null && swaps.trim().split('\n').length <= 1;
        return pass(
          `oom_kill ${kills}; PID 1 survived. Swap: memory+swap limit ${s.memory.swapLimit === null ? 'none' : `${s.memory.swapLimit / MiB} MiB`}` +
            (noSwap ? '; this host has no swap device at all (/proc/swaps is empty)' : ''),
        );
      },
    },
    {
      id: 'pid1',
      title: 'When the victim is PID 1',
      terminal: 'victim',
      diagram: 'cgroups',
      highlight: 'victim',
      checkLabel: 'the victim container exited, killed by the OOM killer (state.oomKilled, exit 137)',
      check: (k) => {
        const st = k.container('victim').state;
        if (!st.oomKilled) return fail(`status ${st.status}, oomKilled false`);
        return pass(`status ${st.status}, exit code ${st.exitCode} (128 + SIGKILL), oomKilled true`);
      },
    },
  ],
  corrections: [
    'The seed says a container "is killed" at its memory limit: the kernel\'s OOM killer kills one process of the cgroup (the largest by its score), not the container; the container stops only when that process is its PID 1.',
    'Page cache and shared memory (tmpfs, /dev/shm) are charged to the cgroup too, not only the heap: memory.stat breaks the usage into anon, file and shmem.',
    'Swap: --memory-swap is memory + swap, not swap alone; on this host there is no swap device (/proc/swaps is empty), so memory.memsw.limit_in_bytes = memory.limit_in_bytes and no page can go to swap.',
  ],
});
