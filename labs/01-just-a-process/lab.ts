// Lab 1: a container is a process. The host sees it in its own pid namespace under another pid,
// and its /proc/PID/ns links name the namespaces it was put in.
import { defineLab, type LabKernel } from '../../server/labs/format.js';
import type { NsProcess } from '../../server/engine/index.js';

/** The container's process whose argv is `sleep <seconds>`, if it runs. */
async function sleeper(k: LabKernel, seconds: string): Promise<NsProcess | undefined> {
  return (await k.processes('box')).find((p) => p.comm === 'sleep' && p.cmdline.split(' ').includes(seconds) && p.state !== 'Z');
}

const CONTAINER_NS = ['pid', 'mnt', 'uts', 'ipc', 'net'] as const;

export default defineLab({
  id: '01-just-a-process',
  title: "It's just a process",
  summary: 'A container is a process on the host: the host sees it under another pid, and /proc/PID/ns names the namespaces it lives in.',
  order: 1,
  containers: [{ role: 'box', config: { image: 'base', cmd: ['tail', '-f', '/dev/null'] }, terminal: true }],
  steps: [
    {
      id: 'a-host-process',
      title: 'Start a process and find it from the host',
      diagram: 'namespaces',
      highlight: 'box',
      checkLabel: '`sleep 1001` runs in the container and the host knows it under another pid',
      async check(k) {
        const p = await sleeper(k, '1001');
        if (!p) return { passed: false, detail: 'no `sleep 1001` in the container yet' };
        const inside = p.nspid[p.nspid.length - 1];
        k.memo.sleeper = p.pid;
        return { passed: p.nspid.length >= 2 && inside !== p.pid, detail: `sleep 1001 is pid ${inside} inside and pid ${p.pid} on the host (NSpid: ${p.nspid.join(' ')})` };
      },
    },
    {
      id: 'namespace-inodes',
      title: 'Same namespace, same inode',
      diagram: 'namespaces',
      highlight: 'box',
      checkLabel: 'a second process has the same namespace inodes as the first, and none of them is the host’s',
      async check(k) {
        const snap = await k.namespaces();
        const second = await sleeper(k, '1002');
        const init = (await k.processes('box')).find((p) => p.role === 'init');
        if (!second || !init) return { passed: false, detail: 'no `sleep 1002` in the container yet' };
        const differs: string[] = [];
        for (const t of CONTAINER_NS) {
          if (second.ns[t] !== init.ns[t]) return { passed: false, detail: `${t}: ${second.ns[t]} is not init's ${init.ns[t]}` };
          if (second.ns[t] === snap.host[t]) return { passed: false, detail: `${t}: the container shares the host's namespace ${snap.host[t]}` };
          differs.push(`${t}:[${second.ns[t]}] (host ${snap.host[t]})`);
        }
        return { passed: true, detail: differs.join(', ') };
      },
    },
    {
      id: 'gone-like-a-process',
      title: 'It ends like a process',
      diagram: 'namespaces',
      highlight: 'box',
      checkLabel: 'the first sleep has ended: its host pid is gone from the host’s /proc',
      async check(k) {
        const pid = k.memo.sleeper;
        if (typeof pid !== 'number') return { passed: false, detail: 'start `sleep 1001` first (step 1)' };
        const snap = await k.namespaces();
        const still = snap.processes.find((p) => p.pid === pid && p.state !== 'Z');
        return { passed: !still, detail: still ? `host pid ${pid} is still there` : `host pid ${pid} is gone` };
      },
    },
  ],
});
