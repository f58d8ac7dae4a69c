// Every lab in labs/, walked start to finish on the real kernel: start a session, run each step's
// ```run blocks the way its terminal would (a shell in the step's container; `run background`
// blocks left running, `run docker` blocks through the real docker CLI on Glassbox's Docker API),
// wait for the step's check to turn green, leave, and see the containers gone. And a skipped step
// stays red.
//
// One lab only:  LAB=03-mount-namespace flock /tmp/gb-test.lock npx vitest run test/integration/labs-walk.test.ts
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillContainerNames } from '../../common/lab-markdown.js';
import { startDockerApi } from '../../server/api/docker/server.js';
import { InspectHub } from '../../server/engine/inspect/hub.js';
import type { ExecProcess } from '../../server/engine/api.js';
import { loadLabs, type LoadedLab } from '../../server/labs/loader.js';
import { LabSessions, type LabSessionState } from '../../server/labs/sessions.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from './support.js';

const DOCKER = '/usr/local/bin/docker';
requireHost('the lab walker', { root: true, binaries: [DOCKER], commands: ['nsenter'] });

/** How long a step's check may take to turn green after its last command (the runner's promise: within a second or so). */
const GREEN_WITHIN_MS = 5000;
/** a foreground ```run block that has not ended after this long is a lab bug */
const BLOCK_MS = 30_000;

const { labs, errors } = await loadLabs();
const only = process.env.LAB;
const walked = only ? labs.filter((l) => l.id === only) : labs;

let env: TestEnv;
let hub: InspectHub;
let sessions: LabSessions;
let docker: { close(): Promise<void>; socketPath: string };

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  hub = new InspectHub(env.engine);
  sessions = new LabSessions({ engine: env.engine, hub, labs });
  docker = await startDockerApi(env.engine, { socketPath: join(env.runRoot, 'docker.sock') });
});

afterAll(async () => {
  for (const sid of sessions?.sessionIds() ?? []) await sessions.leave(sid).catch(() => {});
  sessions?.close();
  hub?.close();
  await docker?.close();
  await env?.cleanup();
});

/** A foreground block: `sh -c` in the container, to its end. */
async function runInContainer(containerId: string, command: string, background: boolean, running: ExecProcess[], tty = false): Promise<string> {
  const proc = await env.engine.exec(containerId, { cmd: ['/bin/sh', '-c', command], tty, ...(tty ? { cols: 120, rows: 40, env: ['TERM=xterm-256color'] } : {}) });
  let out = '';
  proc.onData((d) => (out += d.toString()));
  proc.onStderr((d) => (out += d.toString()));
  if (background) {
    running.push(proc);
    // give it the moment a learner takes before the next click, so the checks can see it start
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
    throw new Error(`\`${command}\` was still running after ${BLOCK_MS / 1000} s (mark a command that keeps running as \`\`\`run background)`);
  }
  return out;
}

/** A ```run docker block: the real docker CLI on the host, against the engine's Docker API. */
function runDocker(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { env: { ...process.env, PATH: `/usr/local/bin:${process.env.PATH}`, DOCKER_HOST: `unix://${docker.socketPath}` }, timeout: BLOCK_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${command}\` failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

async function untilGreen(sid: string, stepId: string): Promise<LabSessionState> {
  const end = Date.now() + GREEN_WITHIN_MS;
  for (;;) {
    const state = await sessions.get(sid);
    const step = state.steps.find((s) => s.id === stepId)!;
    if (step.passed || Date.now() > end) return state;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Walk a lab; the steps in `skip` are not done. Returns the last state (before leaving). */
async function walk(lab: LoadedLab, skip: string[] = []): Promise<LabSessionState> {
  const started = await sessions.start(lab.id);
  const sid = started.sessionId;
  const ids = Object.fromEntries(started.containers.map((c) => [c.role, c.id]));
  const names = Object.fromEntries(started.containers.map((c) => [c.role, c.name]));
  const running: ExecProcess[] = [];
  let state: LabSessionState = await sessions.get(sid);
  try {
    // a check that is green before the learner did anything checks nothing
    const early = state.steps.filter((s) => s.passed).map((s) => `${s.id} (${s.detail ?? ''})`);
    expect(early, `${lab.id}: green before any step was done`).toEqual([]);
    for (const step of lab.steps) {
      if (skip.includes(step.id)) continue;
      const outputs: string[] = [];
      for (const block of step.runBlocks) {
        const command = fillContainerNames(block.command, names);
        outputs.push(`$ ${command}\n${block.docker ? await runDocker(command) : await runInContainer(ids[block.target ?? step.terminalRole], command, !!block.background, running, !!block.tty)}`);
        // the learner's next click comes after the checks had a look (the runner evaluates twice a second)
        await sessions.get(sid);
      }
      state = await untilGreen(sid, step.id);
      const s = state.steps.find((x) => x.id === step.id)!;
      expect(s.passed, `${lab.id} step ${step.id} ("${step.checkLabel}") stayed red: ${s.detail ?? 'no detail'}\n${outputs.join('\n')}`).toBe(true);
      if (process.env.LAB_VERBOSE) console.log(`${lab.id} ${step.id}: ${s.detail ?? ''}\n${outputs.join('\n')}`);
    }
    return state;
  } finally {
    for (const p of running) p.kill('SIGKILL');
    await sessions.leave(sid);
    const left = env.engine.list({ all: true }).filter((c) => started.containers.some((s) => s.id === c.id));
    expect(left.map((c) => c.name), 'leaving removes the lab containers').toEqual([]);
  }
}

describe('labs', () => {
  it('every lab in labs/ loads', () => {
    expect(errors.map((e) => `${e.file}: ${e.message}`)).toEqual([]);
    if (only) expect(walked.map((l) => l.id), `LAB=${only}: no such lab`).toEqual([only]);
    expect(walked.length).toBeGreaterThan(0);
  });

  for (const lab of walked) {
    it(`${lab.id}: every step turns green, and leaving removes its containers`, async () => {
      const state = await walk(lab);
      expect(state.steps.every((s) => s.passed)).toBe(true);
    }, 240_000);
  }

  // (a LAB= run for another lab leaves this one out: not a skip, a narrower walk)
  if (!only || only === '02-pid-namespace')
    it('02-pid-namespace: a skipped step stays red while the others turn green', async () => {
    const lab = labs.find((l) => l.id === '02-pid-namespace');
    expect(lab, 'lab 02-pid-namespace loads').toBeTruthy();
    const state = await walk(lab!, ['term-ignored']);
    const skipped = state.steps.find((s) => s.id === 'term-ignored')!;
    expect(skipped.passed).toBe(false);
    expect(state.steps.filter((s) => s.id !== 'term-ignored').every((s) => s.passed)).toBe(true);
    }, 240_000);
});
