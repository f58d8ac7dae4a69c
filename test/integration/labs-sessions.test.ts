// Lab sessions on the real engine: containers named and labelled, checks that throw or flip,
// latching, bad ids and missing images that change nothing, and a session picked up again by a
// new LabSessions (a restarted server) from its containers' labels and session.json.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InspectHub } from '../../server/engine/inspect/hub.js';
import type { LabCheck } from '../../server/labs/format.js';
import type { LoadedLab } from '../../server/labs/loader.js';
import { LABEL_LAB, LABEL_ROLE, LABEL_SESSION, LabSessions } from '../../server/labs/sessions.js';
import { execToExit, openTestEngine, type TestEnv } from './support.js';

let env: TestEnv;
let hub: InspectHub;

function fakeLab(id: string, checks: LabCheck[], extra: Partial<LoadedLab> = {}): LoadedLab {
  return {
    id,
    title: id,
    summary: 's',
    order: 99,
    dir: '/nonexistent',
    terminalRoles: ['box'],
    containers: [
      { role: 'box', config: { image: 'base', cmd: ['tail', '-f', '/dev/null'] }, terminal: true },
      { role: 'idle', config: { image: 'base', cmd: ['true'] }, start: false },
    ],
    steps: checks.map((check, i) => ({ id: `s${i}`, title: `s${i}`, checkLabel: 'l', check, terminalRole: 'box', markdown: '', runBlocks: [], hints: [], whatHappened: '' })),
    ...extra,
  };
}

let flip = true;
const marker: LabCheck = async (k) => {
  const found = (await k.processes('box')).some((p) => p.cmdline === 'sleep 4242');
  if (found) k.memo.seen = ((k.memo.seen as number) ?? 0) + 1;
  return found;
};
const lab = fakeLab('t-lab', [
  marker,
  () => {
    throw new Error('this check broke');
  },
  () => flip,
  (k) => ({ passed: k.container('idle').state.status === 'created', detail: 'idle was not started' }),
]);

beforeAll(async () => {
  env = await openTestEngine();
  hub = new InspectHub(env.engine);
});
afterAll(async () => {
  hub?.close();
  await env?.cleanup();
});

describe('lab sessions', () => {
  it('names and labels the containers, evaluates, latches, survives a restart, and leaves', async () => {
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [lab] });
    const { sessionId, containers } = await sessions.start('t-lab');
    expect(containers.map((c) => [c.role, c.name, c.status])).toEqual([
      ['box', `lab-${sessionId}-box`, 'running'],
      ['idle', `lab-${sessionId}-idle`, 'created'],
    ]);
    const rec = env.engine.get(`lab-${sessionId}-box`);
    expect(rec.config.labels).toMatchObject({ [LABEL_LAB]: 't-lab', [LABEL_SESSION]: sessionId, [LABEL_ROLE]: 'box' });

    let s = await sessions.get(sessionId);
    expect(s.steps.map((x) => x.passed)).toEqual([false, false, true, true]);
    expect(s.steps[1].detail).toBe('this check broke');
    expect(s.steps[3].detail).toBe('idle was not started');

    // a live push on change
    const pushed: boolean[][] = [];
    const off = sessions.subscribe(sessionId, (st) => pushed.push(st.steps.map((x) => x.passed)));
    const sleeper = await env.engine.exec(rec.id, { cmd: ['sleep', '4242'] });
    const deadline = Date.now() + 5000;
    while (!pushed.some((p) => p[0]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    off();
    expect(pushed.some((p) => p[0])).toBe(true);
    sleeper.kill('SIGKILL');

    // green stays green: the sleep is gone, the flipped check is false now
    flip = false;
    s = await sessions.get(sessionId);
    expect(s.steps.map((x) => x.passed)).toEqual([true, false, true, true]);
    sessions.close();

    // a new server: the session comes back from the labels and session.json, latches and memo included
    const again = new LabSessions({ engine: env.engine, hub, labs: [lab] });
    expect(again.sessionIds()).toEqual([sessionId]);
    s = await again.get(sessionId);
    expect(s.steps.map((x) => x.passed)).toEqual([true, false, true, true]);
    expect(s.containers.map((c) => c.id)).toEqual(containers.map((c) => c.id));

    await again.leave(sessionId);
    expect(env.engine.list({ all: true }).filter((c) => c.name.startsWith(`lab-${sessionId}`))).toEqual([]);
    expect(existsSync(join(again.stateDir, sessionId))).toBe(false);
    await expect(again.get(sessionId)).rejects.toThrow(/no lab session/);
    again.close();
  });

  it('refuses bad ids, unknown labs and missing images, and makes nothing', async () => {
    const missing = fakeLab('t-missing', [() => true], { images: ['nothere:1'] });
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [lab, missing] });
    const before = env.engine.list({ all: true }).length;
    await expect(sessions.start('nope')).rejects.toMatchObject({ kind: 'not-found', message: 'no lab with the id "nope"' });
    await expect(sessions.start('t-missing')).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('nothere:1') });
    await expect(sessions.get('../../etc')).rejects.toThrow(/session id: expected 10 characters/);
    await expect(sessions.get('abcdefghij')).rejects.toThrow(/no lab session abcdefghij/);
    await expect(sessions.leave('abcdefghij')).rejects.toMatchObject({ kind: 'not-found' });
    expect(env.engine.list({ all: true }).length).toBe(before);
    sessions.close();
  });

  it('reads a container’s IPC objects and hostname from inside its namespaces', async () => {
    const probe = fakeLab('t-probe', [
      async (k) => {
        const ipc = await k.ipc('box');
        const uts = await k.uts('box');
        return { passed: ipc.msg.length === 1 && uts.hostname === 'probe', detail: JSON.stringify({ ipc, uts }) };
      },
    ]);
    probe.containers[0].config = { ...probe.containers[0].config, hostname: 'probe' };
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [probe] });
    const { sessionId, containers } = await sessions.start('t-probe');
    expect((await sessions.get(sessionId)).steps[0].passed).toBe(false);
    const r = await execToExit(env.engine, containers[0].id, ['ipcmk', '-Q']);
    expect(r.code).toBe(0);
    expect((await sessions.get(sessionId)).steps[0]).toMatchObject({ passed: true });
    await sessions.leave(sessionId);
    sessions.close();
  });
});
