// Every lab in labs/ as a learner of a class meets it: a session started through the learner's
// engine (the learner policy: a user namespace, no privileged, Docker's capabilities minus
// NET_RAW, their own network and ports), its ```run blocks typed into the learner's terminals
// (exec through the learner's engine), each step's check green within seconds, and leaving
// removes everything. A lab the policy cannot run is refused at start with the reason the teacher's
// list shows (learnerAvailability), and nothing is left; that list is pinned here, so a lab or a
// policy change that moves a lab in or out shows up as a failure to look at.
//
// One lab only:  LAB=10-overlayfs flock /tmp/gb-test.lock npx vitest run test/integration/labs-walk-learner.test.ts
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillContainerNames } from '../../common/lab-markdown.js';
import type { ExecProcess } from '../../server/engine/api.js';
import { InspectHub, LearnerEngine, OWNER_LABEL } from '../../server/engine/index.js';
import { loadLabs, type LoadedLab } from '../../server/labs/loader.js';
import { LabSessions, type LabSessionState } from '../../server/labs/sessions.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from './support.js';

requireHost('the learner lab walker', { root: true, commands: ['nsenter', 'ip', 'iptables'] });

const GREEN_WITHIN_MS = 5000;
const BLOCK_MS = 30_000;

/** The labs a learner's sandbox cannot run, and the first reason why (learner-labs.ts). */
const NOT_FOR_LEARNERS: Record<string, RegExp> = {
  '02-pid-namespace': /step sigkill-from-parent runs the docker CLI/,
  '03-mount-namespace': /container chroot: chroot instead of pivot_root/,
  '04-network-namespace': /container web publishes the fixed host port 18404/,
  '05-user-namespace': /container admin: --cap-add SYS_ADMIN/,
  '06-uts-ipc': /container moon: --cap-add SYS_ADMIN/,
  '11-oci': /step saved-image runs the docker CLI/,
  '12-runtime-stack': /step start runs the docker CLI/,
  '13-security': /container unconfined: seccomp=unconfined/,
};

const { labs, errors } = await loadLabs();
const only = process.env.LAB;
const walked = only ? labs.filter((l) => l.id === only) : labs;

let env: TestEnv;
let hub: InspectHub;
let sessions: LabSessions;
let learner: LearnerEngine;

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  hub = new InspectHub(env.engine);
  sessions = new LabSessions({ engine: env.engine, hub, labs });
  learner = new LearnerEngine(env.engine, { learnerId: 'lrnw', ports: { from: 20500, to: 20509 }, maxContainers: 8 });
});

afterAll(async () => {
  for (const sid of sessions?.sessionIds() ?? []) await sessions.leave(sid).catch(() => {});
  sessions?.close();
  hub?.close();
  if (env) for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id).catch(() => {});
  await env?.cleanup();
});

/** A ```run block in the learner's terminal: `sh -c` through the learner's engine. */
async function runAsLearner(containerId: string, command: string, background: boolean, running: ExecProcess[], tty: boolean): Promise<string> {
  const proc = await learner.exec(containerId, { cmd: ['/bin/sh', '-c', command], tty, ...(tty ? { cols: 120, rows: 40, env: ['TERM=xterm-256color'] } : {}) });
  let out = '';
  proc.onData((d) => (out += d.toString()));
  proc.onStderr((d) => (out += d.toString()));
  if (background) {
    running.push(proc);
    await new Promise((r) => setTimeout(r, 300));
    return '';
  }
  const code = await new Promise<number | 'timeout'>((resolve) => {
    const t = setTimeout(() => resolve('timeout'), BLOCK_MS);
    proc.onExit((c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  if (code === 'timeout') {
    proc.kill('SIGKILL');
    throw new Error(`\`${command}\` was still running after ${BLOCK_MS / 1000} s`);
  }
  return out;
}

async function untilGreen(sid: string, stepId: string): Promise<LabSessionState> {
  const end = Date.now() + GREEN_WITHIN_MS;
  for (;;) {
    const state = await sessions.get(sid, learner);
    if (state.steps.find((s) => s.id === stepId)!.passed || Date.now() > end) return state;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function walk(lab: LoadedLab): Promise<LabSessionState> {
  const started = await sessions.start(lab.id, learner);
  const sid = started.sessionId;
  const ids = Object.fromEntries(started.containers.map((c) => [c.role, c.id]));
  // the names the learner sees (and types): their own, without the host's "<learner>-" prefix
  const names = Object.fromEntries(started.containers.map((c) => [c.role, c.name.replace(/^lrnw-/, '')]));
  const running: ExecProcess[] = [];
  let state = await sessions.get(sid, learner);
  try {
    expect(state.steps.filter((s) => s.passed).map((s) => s.id), `${lab.id}: green before any step was done`).toEqual([]);
    for (const step of lab.steps) {
      const outputs: string[] = [];
      for (const block of step.runBlocks) {
        const command = fillContainerNames(block.command, names);
        outputs.push(`$ ${command}\n${await runAsLearner(ids[block.target ?? step.terminalRole], command, !!block.background, running, !!block.tty)}`);
        await sessions.get(sid, learner);
      }
      state = await untilGreen(sid, step.id);
      const s = state.steps.find((x) => x.id === step.id)!;
      expect(s.passed, `${lab.id} step ${step.id} ("${step.checkLabel}") stayed red for a learner: ${s.detail ?? 'no detail'}\n${outputs.join('\n')}`).toBe(true);
    }
    return state;
  } finally {
    for (const p of running) p.kill('SIGKILL');
    await sessions.leave(sid, learner);
    expect(learner.list({ all: true }).map((c) => c.name), 'leaving removes the lab containers').toEqual([]);
  }
}

describe("labs in a learner's sandbox", () => {
  it('every lab loads, and the labs a learner cannot run are the known ones, each with its reason', () => {
    expect(errors.map((e) => `${e.file}: ${e.message}`)).toEqual([]);
    const out = Object.fromEntries(labs.map((l) => [l.id, sessions.availability(l.id)]).filter(([, a]) => !(a as { learners: boolean }).learners));
    expect(Object.keys(out).sort()).toEqual(Object.keys(NOT_FOR_LEARNERS).sort());
    for (const [id, re] of Object.entries(NOT_FOR_LEARNERS)) expect((out[id] as { reason: string }).reason).toMatch(re);
    // and the learner's list leaves them out
    expect(sessions.listLabs(learner).map((l) => l.id)).toEqual(labs.map((l) => l.id).filter((id) => !(id in NOT_FOR_LEARNERS)));
  });

  for (const lab of walked) {
    if (lab.id in NOT_FOR_LEARNERS) {
      it(`${lab.id}: refused at start with the reason, and nothing is made`, async () => {
        const before = env.engine.list({ all: true }).length;
        await expect(sessions.start(lab.id, learner)).rejects.toThrow(NOT_FOR_LEARNERS[lab.id]);
        expect(env.engine.list({ all: true }).length).toBe(before);
        expect(sessions.list(learner)).toEqual([]);
      });
    } else {
      it(`${lab.id}: every step turns green for a learner, and leaving removes its containers`, async () => {
        const state = await walk(lab);
        expect(state.steps.every((s) => s.passed)).toBe(true);
      }, 240_000);
    }
  }
});
