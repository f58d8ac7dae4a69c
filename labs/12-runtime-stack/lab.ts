import { defineLab } from '../../server/labs/format.js';
import type { TimelineStep } from '../../server/engine/index.js';
import { fail, pass, probe } from '../../server/labs/format.js';

/**
 * The timeline's create and start phases, in ms. The lab created the container when it began and
 * the learner started it later: the longest idle gap between two steps is that wait, not work.
 */
function phases(t: TimelineStep[]): { create: number; start: number } {
  const steps = [...t].sort((a, b) => a.at - b.at);
  if (!steps.length) return { create: 0, start: 0 };
  let split = -1;
  let widest = 0;
  let end = steps[0].at + steps[0].ms;
  for (let i = 1; i < steps.length; i++) {
    const gap = steps[i].at - end;
    if (gap > widest) [widest, split] = [gap, i];
    end = Math.max(end, steps[i].at + steps[i].ms);
  }
  const endOf = (xs: TimelineStep[]) => Math.max(...xs.map((s) => s.at + s.ms));
  if (split < 0 || widest < 200) return { create: 0, start: end - steps[0].at };
  return { create: endOf(steps.slice(0, split)) - steps[0].at, start: end - steps[split].at };
}

export default defineLab({
  id: '12-runtime-stack',
  title: 'The runtime stack: one docker start, traced',
  summary: 'Start a container from the docker CLI and follow it down: Docker API → engine → helper (the low-level runtime) → syscalls, with the measured time of each step.',
  order: 12,
  containers: [
    // made, not started: the learner starts it from the docker CLI
    { role: 'traced', config: { image: 'base', cmd: ['sleep', '600'], hostname: 'traced' }, start: false, terminal: false },
    { role: 'watch', config: { image: 'base', cmd: ['sh'], tty: true, openStdin: true, hostname: 'watch' } },
  ],
  steps: [
    {
      id: 'start',
      title: 'docker start, from the CLI down to clone()',
      diagram: 'timeline',
      highlight: 'traced',
      checkLabel: 'the traced container runs, and its timeline has the engine, monitor and child steps down to the exec',
      check: (k) => {
        const rec = k.container('traced');
        if (rec.state.status !== 'running') return fail(`status ${rec.state.status}`);
        const t = rec.timeline;
        const by = (who: TimelineStep['by']) => t.filter((s) => s.by === who).length;
        const names = new Set(t.map((s) => s.step));
        const want = ['mount-overlay', 'cgroup-create', 'pivot_root'];
        const missing = want.filter((w) => !names.has(w));
        if (missing.length || !by('child')) return fail(`timeline lacks ${missing.join(', ') || 'child steps'}`);
        const { create, start } = phases(t);
        return pass(`${t.length} steps: engine ${by('engine')}, monitor ${by('monitor')}, child ${by('child')}; measured here: create ${create.toFixed(1)} ms, start ${start.toFixed(1)} ms (the seed says "100 ms – 1 s")`);
      },
    },
    {
      id: 'exec',
      title: 'docker exec is setns(), not a new container',
      diagram: 'namespaces',
      highlight: 'traced',
      checkLabel: "a process started by docker exec is in every namespace of the traced container's init",
      check: async (k) => {
        const p = await probe(k, 'traced', 'sleep 1201');
        if (!p) return fail('no "sleep 1201" in the traced container yet');
        const init = (await k.processes('traced')).find((x) => x.role === 'init');
        if (!init) return fail('the init is not found');
        const differ = (Object.keys(init.ns) as (keyof typeof init.ns)[]).filter((t) => init.ns[t] !== p.ns[t]);
        if (differ.length) return fail(`differs in ${differ.join(', ')}`);
        return pass(`host pid ${p.pid} (pid ${p.nspid[p.nspid.length - 1]} inside) shares all ${Object.keys(init.ns).length} namespaces of init ${init.pid}: the helper setns()ed into each, then forked`);
      },
    },
    {
      id: 'stop',
      title: 'docker stop: SIGTERM, 1 s, SIGKILL',
      diagram: 'timeline',
      highlight: 'traced',
      checkLabel: 'the traced container exited with 137: sleep as PID 1 ignored SIGTERM and SIGKILL ended it',
      check: (k) => {
        const st = k.container('traced').state;
        if (st.status !== 'exited') return fail(`status ${st.status}`);
        if (st.exitCode !== 137) return fail(`exit code ${st.exitCode}`);
        return pass(`exit ${st.exitCode} (${st.signal ?? 'SIGKILL'}) at ${st.finishedAt}`);
      },
    },
  ],
  corrections: [
    'The seed gives "100 ms – 1 s" for a container start: the timeline measures it on this machine (the start step\'s check shows the figure, usually a few tens of ms for create + start with all namespaces, an overlay and cgroups); `npm run bench:start` compares it with runc and crun on the same bundle.',
    'The seed draws the CLI talking to the runtime: the CLI only speaks HTTP to the engine\'s API socket; the engine prepares image, overlay, cgroups and the bundle; the low-level runtime (Glassbox\'s helper here, runc for Docker) makes the namespaces and execs; a monitor (conmon / containerd-shim) stays as the parent of PID 1.',
    'docker stop is SIGTERM then, after the timeout, SIGKILL: a PID 1 without a SIGTERM handler (sleep) ignores the first — the kernel protects PID 1 of a namespace from signals it does not handle — and is killed by the second, from the parent namespace.',
  ],
});
