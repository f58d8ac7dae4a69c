// Lab 6: UTS and IPC namespaces. A hostname set in one UTS namespace is that namespace's alone;
// System V IPC objects (message queues, shared memory) exist per IPC namespace.
import { defineLab } from '../../server/labs/format.js';

export default defineLab({
  id: '06-uts-ipc',
  title: 'UTS and IPC namespaces',
  summary: 'A hostname belongs to a UTS namespace; a message queue or shared memory segment to an IPC namespace. Two containers, two of each.',
  order: 6,
  containers: [
    // sethostname(2) needs CAP_SYS_ADMIN over the UTS namespace: given here inside a user namespace
    // of its own, so it is root's power over the container's own namespaces only, not the host's
    { role: 'moon', config: { image: 'base', cmd: ['tail', '-f', '/dev/null'], hostname: 'moon', namespaces: { user: true }, capAdd: ['SYS_ADMIN'] }, terminal: true },
    { role: 'sun', config: { image: 'base', cmd: ['tail', '-f', '/dev/null'], hostname: 'sun' }, terminal: true },
  ],
  steps: [
    {
      id: 'own-hostname',
      title: 'A hostname per UTS namespace',
      terminal: 'moon',
      diagram: 'namespaces',
      highlight: 'uts',
      checkLabel: 'the moon container’s UTS namespace holds a new hostname; the sun’s and the host’s did not change',
      async check(k) {
        const [moon, sun, snap] = await Promise.all([k.uts('moon'), k.uts('sun'), k.namespaces()]);
        k.memo.firstHostname ??= moon.hostname;
        const init = (await k.processes('moon')).find((p) => p.role === 'init');
        const sunInit = (await k.processes('sun')).find((p) => p.role === 'init');
        if (!init || !sunInit) return { passed: false, detail: 'both containers must run' };
        if (init.ns.uts === snap.host.uts || init.ns.uts === sunInit.ns.uts) return { passed: false, detail: 'the moon container shares a UTS namespace' };
        if (moon.hostname === k.memo.firstHostname) return { passed: false, detail: `moon's hostname is still ${moon.hostname}` };
        return { passed: sun.hostname !== moon.hostname, detail: `uts:[${init.ns.uts}] says ${moon.hostname}; sun's uts:[${sunInit.ns.uts}] says ${sun.hostname}; the host's uts:[${snap.host.uts}] is untouched` };
      },
    },
    {
      id: 'queue-here',
      title: 'A message queue in one IPC namespace',
      terminal: 'moon',
      diagram: 'namespaces',
      highlight: 'ipc',
      checkLabel: 'the moon container’s IPC namespace holds a message queue; the sun’s has none',
      async check(k) {
        const [moon, sun] = await Promise.all([k.ipc('moon'), k.ipc('sun')]);
        if (!moon.msg.length) return { passed: false, detail: 'no message queue in the moon container’s IPC namespace yet' };
        const keys = new Set(moon.msg.map((q) => q.key));
        const shared = sun.msg.filter((q) => keys.has(q.key));
        return { passed: shared.length === 0, detail: `moon: ${moon.msg.length} queue(s) (key ${moon.msg.map((q) => '0x' + (q.key >>> 0).toString(16)).join(', ')}); sun: ${sun.msg.length}` };
      },
    },
    {
      id: 'memory-there',
      title: 'Shared memory that is not shared',
      terminal: 'sun',
      diagram: 'namespaces',
      highlight: 'ipc',
      checkLabel: 'a shared memory segment exists in the sun container’s IPC namespace and not in the moon’s',
      async check(k) {
        const [moon, sun] = await Promise.all([k.ipc('moon'), k.ipc('sun')]);
        if (!sun.shm.length) return { passed: false, detail: 'no shared memory segment in the sun container’s IPC namespace yet' };
        const keys = new Set(moon.shm.map((s) => s.key));
        const seen = sun.shm.filter((s) => keys.has(s.key));
        return { passed: seen.length === 0, detail: `sun: ${sun.shm.length} segment(s); moon: ${moon.shm.length}, none of sun's` };
      },
    },
  ],
});
