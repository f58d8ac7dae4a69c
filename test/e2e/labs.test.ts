// The labs in a real Chromium against a real server (server/main.ts): the REST API's answers and
// refusals, then EVERY lab in labs/ walked start to finish the way a learner does it — Start, each
// step's Run buttons (typed into the lab's terminal), the check turning green, a screenshot per step
// in test-results/labs/<lab>/<nn>-<step>.png, Leave and the containers gone. Plus a skipped step
// that stays red, and a step done through the docker CLI that turns green all the same.
// One server and one browser for all of it.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillContainerNames } from '../../common/lab-markdown';
import { NAMESPACES } from '../../common/namespaces';
import { loadLabs, type LoadedLab } from '../../server/labs/loader';
import { requireHost } from '../helpers';
import { api, browser, CHROMIUM, repo, startServer, stopAll, waitForPrompt, type RunningServer } from './dashboard-support';
import { DOCKER } from './docker-support';

requireHost('the labs e2e test', { root: true, binaries: [CHROMIUM, DOCKER] });

const run = promisify(execFile);
const shots = join(repo, 'test-results', 'labs');
const { labs, errors } = await loadLabs();
/** after each click, the moment a learner takes (the checks look twice a second) */
const BETWEEN_CLICKS_MS = 1000;
const GREEN_WITHIN_MS = 10_000;

let srv: RunningServer;
let b: Awaited<ReturnType<typeof browser>>;
let page: Page;

interface SessionState {
  sessionId: string;
  labId: string;
  steps: { id: string; passed: boolean; detail?: string }[];
  containers: { role: string; id: string; name: string; status: string }[];
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  srv = await startServer();
  b = await browser();
  page = b.page;
  await page.goto(srv.url); // the token goes to localStorage
}, 180_000);

afterAll(async () => {
  // any session a failed test left: leave it through the API (its containers go with it)
  for (const l of labs) {
    const sid = await page?.evaluate((id) => JSON.parse(localStorage.getItem(`glassbox.lab.${id}`) ?? '{}').sessionId as string | undefined, l.id).catch(() => undefined);
    if (sid) await api(srv, `/api/labs/${l.id}/sessions/${sid}`, { method: 'DELETE' }).catch(() => {});
  }
  await stopAll(srv, b);
}, 60_000);

async function containerNames(): Promise<string[]> {
  const r = await api<{ name: string }[]>(srv, '/api/containers?all=1');
  return r.body.map((c) => c.name);
}

function docker(command: string): Promise<string> {
  return run('/bin/sh', ['-c', command], { env: { ...process.env, PATH: `/usr/local/bin:${process.env.PATH}`, DOCKER_HOST: `unix://${join(srv.run, 'docker.sock')}` }, timeout: 60_000 }).then((r) => r.stdout);
}

async function sessionOf(labId: string): Promise<SessionState> {
  const sid = await page.getAttribute('[data-testid=lab-runner]', 'data-session');
  expect(sid, 'the runner shows its session').toBeTruthy();
  const r = await api<SessionState>(srv, `/api/labs/${labId}/sessions/${sid}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function openAndStart(lab: LoadedLab): Promise<SessionState> {
  await page.goto(`${srv.base}/labs/${lab.id}`);
  await page.click('[data-testid=lab-start]');
  await page.waitForSelector('[data-testid=lab-leave]', { timeout: 60_000 });
  await waitForPrompt(page, { timeout: 20_000 });
  return sessionOf(lab.id);
}

async function showStep(stepId: string): Promise<void> {
  await page.click(`[data-testid=step-pill-${stepId}]`);
  await page.waitForSelector(`[data-testid=lab-step][data-step="${stepId}"]`);
}

/** Do a step as a learner: its Run buttons in order (and its docker blocks on the host). */
async function doStep(lab: LoadedLab, stepId: string, session: SessionState): Promise<void> {
  const step = lab.steps.find((s) => s.id === stepId)!;
  await showStep(stepId);
  const names = Object.fromEntries(session.containers.map((c) => [c.role, c.name]));
  let button = 0;
  for (const block of step.runBlocks) {
    if (block.docker) await docker(fillContainerNames(block.command, names));
    else await page.locator('[data-testid=run-button]').nth(button++).click();
    await page.waitForTimeout(BETWEEN_CLICKS_MS);
  }
}

async function waitGreen(stepId: string): Promise<void> {
  await page.waitForSelector(`[data-testid=check][data-step="${stepId}"][data-passed=true]`, { timeout: GREEN_WITHIN_MS });
}

async function leave(session: SessionState): Promise<void> {
  await page.click('[data-testid=lab-leave]');
  await page.waitForSelector('[data-testid=lab-start]', { timeout: 60_000 });
  const left = (await containerNames()).filter((n) => n.startsWith(`lab-${session.sessionId}-`));
  expect(left, 'leaving removes the lab containers').toEqual([]);
}

describe('labs REST API (real server)', () => {
  it('lists the labs and describes one', async () => {
    expect(errors).toEqual([]);
    const list = await api<{ id: string; title: string; summary: string; order: number; steps: number }[]>(srv, '/api/labs');
    expect(list.status).toBe(200);
    expect(list.body.map((l) => l.id)).toEqual(labs.map((l) => l.id));
    expect(list.body[0]).toEqual({ id: labs[0].id, title: labs[0].title, summary: labs[0].summary, order: labs[0].order, steps: labs[0].steps.length });
    const one = await api<{ steps: { id: string; markdown: string; runBlocks: unknown[]; hints: string[]; checkLabel: string; terminal: string }[] }>(srv, '/api/labs/02-pid-namespace');
    expect(one.status).toBe(200);
    expect(one.body.steps[0]).toMatchObject({ id: 'term-ignored', terminal: 'bare', runBlocks: [{ command: 'sleep 600', background: true }, { command: 'kill -TERM 1 $(pidof sleep)' }] });
    expect(one.body.steps[0].hints.length).toBeGreaterThan(0);
    expect(JSON.stringify(one.body)).not.toContain('check"'); // functions do not cross the wire
  });

  it('refuses bad and unknown ids with clear JSON errors, and changes nothing', async () => {
    const before = await containerNames();
    const cases: [string, string, number, RegExp][] = [
      ['GET', '/api/labs/nope', 404, /no lab with the id "nope"/],
      ['GET', '/api/labs/BAD%20ID', 400, /lab id: expected/],
      ['POST', '/api/labs/nope/start', 404, /no lab/],
      ['GET', '/api/labs/01-just-a-process/sessions/x', 400, /session id: expected 10 characters/],
      ['GET', '/api/labs/01-just-a-process/sessions/abcdefghij', 404, /no session abcdefghij/],
      ['DELETE', '/api/labs/01-just-a-process/sessions/abcdefghij', 404, /no session/],
      ['PUT', '/api/labs/01-just-a-process', 405, /not allowed/],
      ['GET', '/api/labs/01-just-a-process/whatever', 404, /no such endpoint/],
    ];
    for (const [method, path, status, msg] of cases) {
      const r = await api<{ error: string }>(srv, path, { method });
      expect(r.status, `${method} ${path}`).toBe(status);
      expect(r.body.error, `${method} ${path}`).toMatch(msg);
    }
    const withBody = await api<{ error: string }>(srv, '/api/labs/01-just-a-process/start', { body: { image: 'evil' } });
    expect(withBody).toEqual({ status: 400, body: { error: 'starting a lab takes no options: send {} or nothing' } });
    expect((await api(srv, '/api/labs', { token: null })).status).toBe(401);
    // a write without JSON is refused by the server's write guard
    const form = await fetch(`${srv.base}/api/labs/01-just-a-process/start`, { method: 'POST', headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(await containerNames()).toEqual(before);
  });

  it('starts, reads, refuses another lab’s path to it, and deletes a session', async () => {
    const started = await api<{ sessionId: string; containers: { role: string; id: string; name: string }[] }>(srv, '/api/labs/01-just-a-process/start', { method: 'POST', body: {} });
    expect(started.status).toBe(201);
    const sid = started.body.sessionId;
    expect(started.body.containers.map((c) => [c.role, c.name])).toEqual([['box', `lab-${sid}-box`]]);
    const got = await api<SessionState>(srv, `/api/labs/01-just-a-process/sessions/${sid}`);
    expect(got.status).toBe(200);
    expect(got.body.steps.map((s) => [s.id, s.passed])).toEqual(labs.find((l) => l.id === '01-just-a-process')!.steps.map((s) => [s.id, false]));
    expect((await api(srv, `/api/labs/02-pid-namespace/sessions/${sid}`)).status).toBe(404);
    expect((await api(srv, `/api/labs/01-just-a-process/sessions/${sid}`, { method: 'DELETE' })).status).toBe(204);
    expect((await containerNames()).filter((n) => n.includes(sid))).toEqual([]);
    expect((await api(srv, `/api/labs/01-just-a-process/sessions/${sid}`)).status).toBe(404);
  }, 60_000);
});

describe('labs socket.io channel (real server)', () => {
  it('lab:subscribe refuses a bad id, then pushes lab:state on change; lab:unsubscribe stops it', async () => {
    const started = await api<{ sessionId: string; containers: { role: string; name: string }[] }>(srv, '/api/labs/01-just-a-process/start', { method: 'POST', body: {} });
    const sid = started.body.sessionId;
    const sock = ioClient(srv.base, { transports: ['websocket'], extraHeaders: { origin: srv.base }, auth: { token: srv.token }, reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', () => resolve());
        sock.once('connect_error', reject);
      });
      const ack = (payload: unknown) => new Promise<{ ok: boolean; error?: string }>((r) => sock.emit('lab:subscribe', payload, r));
      expect(await ack({ sessionId: '../x' })).toEqual({ ok: false, error: 'expected { sessionId: 10 characters [a-z0-9] }' });
      expect(await ack({ sessionId: 'abcdefghij' })).toEqual({ ok: false, error: 'no lab session abcdefghij' });
      const states: SessionState[] = [];
      sock.on('lab:state', (s: SessionState) => states.push(s));
      expect(await ack({ sessionId: sid })).toEqual({ ok: true });
      await expect.poll(() => states.length, { timeout: 5000 }).toBeGreaterThan(0);
      expect(states[0].steps.every((s) => !s.passed)).toBe(true);
      await docker(`docker exec -d ${started.body.containers[0].name} sleep 1001`);
      await expect.poll(() => states.some((s) => s.steps[0].passed), { timeout: 5000 }).toBe(true);
      sock.emit('lab:unsubscribe', { sessionId: sid });
    } finally {
      sock.close();
      await api(srv, `/api/labs/01-just-a-process/sessions/${sid}`, { method: 'DELETE' });
    }
  }, 60_000);
});

describe('every lab in the browser', () => {
  for (const lab of labs) {
    it(`${lab.id}: every step, from its Run buttons to a green check`, async () => {
      mkdirSync(join(shots, lab.id), { recursive: true });
      const session = await openAndStart(lab);
      for (const [i, step] of lab.steps.entries()) {
        await doStep(lab, step.id, session);
        await waitGreen(step.id).catch(async (e) => {
          const s = await sessionOf(lab.id).catch(() => null);
          throw new Error(`${lab.id} step ${step.id} stayed red: ${s?.steps.find((x) => x.id === step.id)?.detail ?? ''} (${(e as Error).message})`);
        });
        await page.waitForSelector('[data-testid=what-happened]', { timeout: 5000 }).catch(() => {});
        // a step that points at a namespace type gets that column outlined in the diagram
        if (step.diagram === 'namespaces' && (NAMESPACES as readonly string[]).includes(step.highlight ?? '')) await page.waitForSelector(`[data-testid=ns-col-highlight-${step.highlight}]`, { timeout: 10_000 });
        await page.screenshot({ path: join(shots, lab.id, `${String(i + 1).padStart(2, '0')}-${step.id}.png`), fullPage: true });
      }
      await leave(session);
    }, 180_000);
  }
});

describe('checks read the kernel, not the terminal', () => {
  it('02-pid-namespace: a skipped step stays red while the later ones turn green', async () => {
    const lab = labs.find((l) => l.id === '02-pid-namespace')!;
    const session = await openAndStart(lab);
    for (const step of lab.steps.slice(1)) {
      await doStep(lab, step.id, session);
      await waitGreen(step.id);
    }
    await showStep('term-ignored');
    expect(await page.getAttribute('[data-testid=check][data-step="term-ignored"]', 'data-passed')).toBe('false');
    const s = await sessionOf(lab.id);
    expect(s.steps.find((x) => x.id === 'term-ignored')!.passed).toBe(false);
    mkdirSync(join(shots, 'skipped'), { recursive: true });
    await page.screenshot({ path: join(shots, 'skipped', '02-pid-namespace-term-ignored.png'), fullPage: true });
    await leave(session);
  }, 180_000);

  it('01-just-a-process: the first step done through the docker CLI turns green too', async () => {
    const lab = labs.find((l) => l.id === '01-just-a-process')!;
    const session = await openAndStart(lab);
    await showStep('a-host-process');
    const box = session.containers.find((c) => c.role === 'box')!;
    await docker(`docker exec -d ${box.name} sleep 1001`);
    await waitGreen('a-host-process');
    await leave(session);
  }, 120_000);
});
