// Lab 2: the PID 1 problem. A PID 1 without signal handlers ignores SIGTERM (the kernel drops
// unhandled signals to a namespace's init) and never reaps orphans, which become zombies; a tiny
// init (--init) fixes both; SIGKILL sent from the parent namespace always gets through.
import { defineLab, type LabKernel } from '../../server/labs/format.js';
import type { NsProcess } from '../../server/engine/index.js';

const KEEP_RUNNING = { image: 'base', cmd: ['tail', '-f', '/dev/null'] };

async function initOf(k: LabKernel, role: string): Promise<NsProcess | undefined> {
  return (await k.processes(role)).find((p) => p.role === 'init');
}

/** The processes whose parent is the container's init (orphans it adopted), zombies included. */
async function adopted(k: LabKernel, role: string): Promise<NsProcess[]> {
  const procs = await k.processes(role);
  const init = procs.find((p) => p.role === 'init');
  return init ? procs.filter((p) => p.ppid === init.pid && p.role !== 'init') : [];
}

export default defineLab({
  id: '02-pid-namespace',
  title: 'PID namespace and the PID 1 problem',
  summary: 'PID 1 ignores SIGTERM unless it handles it, and never reaps orphans unless it is an init; --init fixes both, and SIGKILL from the parent namespace always gets through.',
  order: 2,
  containers: [
    { role: 'bare', config: KEEP_RUNNING, terminal: true },
    { role: 'tini', config: { ...KEEP_RUNNING, init: true }, terminal: true },
  ],
  corrections: [
    'The seed says PID 1 cannot be killed: from inside its namespace even SIGKILL is dropped, but SIGKILL (and SIGSTOP) sent from the parent namespace always reach it — that is how `docker kill` works.',
  ],
  steps: [
    {
      id: 'term-ignored',
      title: 'PID 1 ignores SIGTERM',
      terminal: 'bare',
      diagram: 'namespaces',
      highlight: 'bare',
      checkLabel: 'SIGTERM ended the `sleep 600` beside PID 1, and PID 1 is still the same running process',
      async check(k) {
        const init = await initOf(k, 'bare');
        if (!init) return { passed: false, detail: 'the bare container is not running' };
        k.memo.bareInit ??= init.pid;
        if (k.memo.bareInit !== init.pid) return { passed: false, detail: 'PID 1 was replaced (the container restarted)' };
        const procs = await k.processes('bare');
        const sleeper = procs.find((p) => p.comm === 'sleep' && p.cmdline.split(' ').includes('600') && p.state !== 'Z');
        if (sleeper) {
          k.memo.sleeper = sleeper.pid;
          return { passed: false, detail: `sleep 600 runs as host pid ${sleeper.pid}: now send SIGTERM to it and to PID 1` };
        }
        if (typeof k.memo.sleeper !== 'number') return { passed: false, detail: 'start `sleep 600` first' };
        return { passed: init.state !== 'Z', detail: `the sleep (host pid ${k.memo.sleeper}) died of it; PID 1 (${init.comm}, host pid ${init.pid}) is still running` };
      },
    },
    {
      id: 'zombies',
      title: 'Orphans become zombies',
      terminal: 'bare',
      diagram: 'namespaces',
      highlight: 'bare',
      checkLabel: 'a zombie (state Z) hangs under the bare container’s PID 1',
      async check(k) {
        const zombies = (await adopted(k, 'bare')).filter((p) => p.state === 'Z');
        return { passed: zombies.length > 0, detail: zombies.length ? `${zombies.length} zombie${zombies.length > 1 ? 's' : ''} under PID 1: ${zombies.map((z) => `${z.comm} (host pid ${z.pid})`).join(', ')}` : 'no zombie under PID 1 yet' };
      },
    },
    {
      id: 'init-reaps',
      title: 'An init reaps them',
      terminal: 'tini',
      diagram: 'namespaces',
      highlight: 'tini',
      checkLabel: 'orphans adopted by the init container’s PID 1 ended and left no zombie',
      async check(k) {
        const kids = await adopted(k, 'tini');
        const sleeping = kids.filter((p) => p.comm === 'sleep' && p.state !== 'Z');
        const seen = new Set<number>((k.memo.orphans as number[] | undefined) ?? []);
        for (const p of sleeping) seen.add(p.pid);
        k.memo.orphans = [...seen];
        if (!seen.size) return { passed: false, detail: 'no orphan adopted by gb-init yet' };
        const left = kids.filter((p) => seen.has(p.pid));
        const zombies = kids.filter((p) => p.state === 'Z');
        if (zombies.length) return { passed: false, detail: `${zombies.length} zombie(s) under gb-init` };
        return { passed: left.length === 0, detail: left.length ? `${left.length} adopted sleep(s) still running` : `${seen.size} orphan(s) adopted by gb-init, reaped when they ended: no zombie` };
      },
    },
    {
      id: 'init-forwards-term',
      title: 'An init passes SIGTERM on',
      terminal: 'tini',
      diagram: 'namespaces',
      highlight: 'tini',
      checkLabel: 'the init container ended with 143 (its child died of SIGTERM)',
      check(k) {
        const rec = k.container('tini');
        if (rec.state.status === 'running') return { passed: false, detail: 'the init container is still running' };
        return { passed: rec.state.exitCode === 143, detail: `exited with ${rec.state.exitCode}${rec.state.signal ? ` (${rec.state.signal})` : ''}` };
      },
    },
    {
      id: 'sigkill-from-parent',
      title: 'SIGKILL from the parent namespace',
      terminal: 'bare',
      diagram: 'namespaces',
      highlight: 'bare',
      checkLabel: 'the bare container’s PID 1 was killed by SIGKILL (exit 137)',
      check(k) {
        const rec = k.container('bare');
        if (rec.state.status === 'running') return { passed: false, detail: 'PID 1 of the bare container is still running' };
        return { passed: rec.state.signal === 'SIGKILL' || rec.state.exitCode === 137, detail: `exited with ${rec.state.exitCode}${rec.state.signal ? ` (${rec.state.signal})` : ''}` };
      },
    },
  ],
});
