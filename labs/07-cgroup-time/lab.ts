import { defineLab } from '../../server/labs/format.js';
import { fail, pass, probe, readHost } from '../../server/labs/format.js';

const YEAR = 365 * 24 * 3600;

export default defineLab({
  id: '07-cgroup-time',
  title: 'Cgroup and time namespaces',
  summary: 'The container sees its own cgroup as "/", and a clock that says it booted a year ago — while the date stays the real one.',
  order: 7,
  containers: [
    {
      role: 'clock',
      config: {
        image: 'base',
        cmd: ['sh'],
        tty: true,
        openStdin: true,
        hostname: 'clock',
        namespaces: { cgroup: true, time: true },
        // seconds added to CLOCK_MONOTONIC and CLOCK_BOOTTIME for every process of the namespace
        timeOffsets: { monotonic: YEAR, boottime: YEAR },
      },
    },
  ],
  steps: [
    {
      id: 'cgroup-root',
      title: 'Your cgroup is "/"',
      diagram: 'cgroups',
      highlight: 'clock',
      checkLabel: 'a process started in the container is in its cgroup namespace, and the host sees it under glassbox/<id>',
      check: async (k) => {
        const p = await probe(k, 'clock', 'sleep 701');
        if (!p) return fail('no "sleep 701" running in the container yet');
        const ns = await k.namespaces();
        if (p.ns.cgroup === undefined || p.ns.cgroup === ns.host.cgroup) return fail('the process shares the host cgroup namespace');
        const hostView = await readHost(k, `/proc/${p.pid}/cgroup`);
        const id = k.container('clock').id;
        const line = hostView?.split('\n').find((l) => l.includes(id));
        if (!line) return fail(`the host's /proc/${p.pid}/cgroup does not name the container's cgroup`);
        return pass(`host pid ${p.pid}: the host reads "${line}"; inside, the same process reads "/" (cgroup namespace ${p.ns.cgroup})`);
      },
    },
    {
      id: 'uptime',
      title: 'A year of uptime in a second',
      diagram: 'namespaces',
      highlight: 'clock',
      checkLabel: 'a process of the container is in its own time namespace with MONOTONIC and BOOTTIME moved by one year',
      check: async (k) => {
        const p = await probe(k, 'clock', 'sleep 702');
        if (!p) return fail('no "sleep 702" running in the container yet');
        const ns = await k.namespaces();
        if (p.ns.time === undefined || p.ns.time === ns.host.time) return fail('the process shares the host time namespace');
        const offsets = await readHost(k, `/proc/${p.pid}/timens_offsets`);
        const sec = (clock: string) => Number(offsets?.match(new RegExp(`^${clock}\\s+(-?\\d+)`, 'm'))?.[1]);
        if (sec('monotonic') !== YEAR || sec('boottime') !== YEAR) return fail(`timens_offsets: ${offsets?.trim() ?? 'unreadable'}`);
        return pass(`time namespace ${p.ns.time}: /proc/${p.pid}/timens_offsets = monotonic ${YEAR} s, boottime ${YEAR} s — there is no line for the realtime clock`);
      },
    },
    {
      id: 'date',
      title: 'The date did not move',
      diagram: 'layers',
      highlight: '/tmp/stamp',
      checkLabel: 'a file the container wrote carries the real date: CLOCK_REALTIME has no offset',
      check: async (k) => {
        const rec = k.container('clock');
        const st = await k.host.stat(`${rec.paths.upper}/tmp/stamp`);
        if (!st) return fail('no /tmp/stamp in the container layer yet');
        if (st.mtimeMs === undefined) return fail('the host stat gives no mtime');
        const skew = Math.abs(Date.now() - st.mtimeMs) / 1000;
        if (skew > 600) return fail(`/tmp/stamp is dated ${new Date(st.mtimeMs).toISOString()}, ${Math.round(skew)} s away from the host's clock`);
        return pass(`/tmp/stamp: mtime ${new Date(st.mtimeMs).toISOString()}, the host's own date (${skew.toFixed(1)} s apart) — uptime is a year ahead, the date is not`);
      },
    },
  ],
  corrections: [
    'The seed says a time namespace lets "the container think it is year 2030": false. Only CLOCK_MONOTONIC and CLOCK_BOOTTIME have offsets (/proc/PID/timens_offsets has no realtime line); the date (CLOCK_REALTIME) is the host\'s.',
    'A time namespace applies to the children of the process that made it; its offsets can be written only before a process enters it (the engine writes them in the monitor, before the clone).',
  ],
});
