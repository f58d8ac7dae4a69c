// Two learners on one engine (issue 13's sandboxes, the engine's part): each sees and reaches only
// what they own. B's container, network and names, swept through every verb of A's view, are not
// found (404 for the adapters, so ids do not leak), and B's container is untouched afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorKind, LearnerEngine, OWNER_LABEL } from '../../server/engine/index.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from '../integration/support.js';

requireHost('learner sandbox test', { root: true, commands: ['ip', 'iptables'] });

let env: TestEnv;
let a: LearnerEngine;
let b: LearnerEngine;
let bId = '';

const policy = (learnerId: string, from: number) => ({ learnerId, ports: { from, to: from + 9 }, maxContainers: 3 });

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  a = new LearnerEngine(env.engine, policy('lrna', 20100));
  b = new LearnerEngine(env.engine, policy('lrnb', 20200));
  bId = (await b.run({ image: 'base', name: 'web', cmd: ['sleep', '300'] })).id;
}, 120_000);

afterAll(async () => {
  if (!env) return;
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
  for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id);
  await env.cleanup();
});

const notFound = async (what: string, fn: () => unknown) => {
  let err: unknown = null;
  try {
    const r = fn();
    if (r && typeof (r as Promise<unknown>).then === 'function') await r;
    else if (r && typeof (r as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') for await (const _ of r as AsyncIterable<unknown>) break;
  } catch (e) {
    err = e;
  }
  expect(errorKind(err), `${what}: ${(err as Error)?.message}`).toBe('not-found');
};

describe("a learner's view of the engine", () => {
  it("does not find another learner's container by id, id prefix or name, through any verb", async () => {
    const bName = b.get('web').name;
    expect(bName).toBe('lrnb-web');
    for (const key of [bId, bId.slice(0, 12), 'web', bName]) {
      await notFound(`get ${key}`, () => a.get(key));
      for (const [verb, fn] of Object.entries({
        start: () => a.start(key),
        stop: () => a.stop(key, { timeoutSeconds: 0 }),
        kill: () => a.kill(key),
        restart: () => a.restart(key),
        pause: () => a.pause(key),
        unpause: () => a.unpause(key),
        remove: () => a.remove(key, { force: true }),
        rename: () => a.rename(key, 'mine'),
        wait: () => a.wait(key),
        update: () => a.update(key, { pids: 10 }),
        stats: () => a.stats(key),
        top: () => a.top(key),
        changes: () => a.changes(key),
        logs: () => a.logs(key),
        ociConfig: () => a.ociConfig(key),
        timeline: () => a.timeline(key),
        attach: () => a.attach(key),
        exec: () => a.exec(key, { cmd: ['true'] }),
        signalProcess: () => a.signalProcess(key, env.engine.get(bId).state.pid, 'SIGKILL'),
      })) {
        await notFound(`${verb} ${key}`, fn);
      }
    }
    expect(a.list({ all: true })).toEqual([]);
    // B's container is as it was
    expect(env.engine.get(bId).state.status).toBe('running');
    expect(env.engine.get(bId).name).toBe('lrnb-web');
  });

  it("keeps each learner's containers on a network of their own", async () => {
    const mine = await a.run({ image: 'base', cmd: ['sleep', '300'] });
    expect(mine.config.network).toBe('lrna-net');
    expect(env.engine.get(bId).config.network).toBe('lrnb-net');
    expect(a.listNetworks().map((n) => n.name)).toEqual(['lrna-net']);
    await notFound('inspect B\'s network', () => a.inspectNetwork('lrnb-net'));
    await notFound('connect to B\'s network', () => a.connectNetwork('lrnb-net', mine.id));
    await notFound('remove B\'s network', () => a.removeNetwork('lrnb-net'));
    let err: unknown;
    await a.run({ image: 'base', network: 'lrnb-net' }).catch((e) => (err = e));
    expect(errorKind(err)).toBe('permission-denied');
    // and the kernel agrees: A's user namespace is not the host's, its capabilities lack NET_RAW
    const rec = env.engine.get(mine.id);
    expect(rec.config.namespaces?.user).toBe(true);
    expect(rec.config.capDrop).toContain('NET_RAW');
    const status = await import('node:fs').then((fs) => fs.readFileSync(`/proc/${rec.state.pid}/status`, 'utf8'));
    const capEff = BigInt('0x' + /CapEff:\s*([0-9a-f]+)/.exec(status)![1]);
    expect(capEff & (1n << 13n)).toBe(0n); // CAP_NET_RAW is bit 13
  });

  it('refuses privileged, host namespaces, host binds and SYS_ADMIN, and makes nothing', async () => {
    const before = env.engine.list({ all: true }).length;
    for (const c of [
      { privileged: true },
      { shareNamespaces: { pid: 'host' } },
      { network: 'host' },
      { mounts: [{ type: 'bind' as const, source: '/', target: '/host' }] },
      { capAdd: ['SYS_ADMIN'] },
    ]) {
      let err: unknown;
      await a.run({ image: 'base', cmd: ['true'], ...c }).catch((e) => (err = e));
      expect(errorKind(err), JSON.stringify(c)).toBe('permission-denied');
    }
    expect(env.engine.list({ all: true }).length).toBe(before);
  });

  it("refuses the learner's (max+1)-th container", async () => {
    while (a.list({ all: true }).length < 3) await a.create({ image: 'base', cmd: ['true'] });
    let err: unknown;
    await a.create({ image: 'base', cmd: ['true'] }).catch((e) => (err = e));
    expect(errorKind(err)).toBe('permission-denied');
    expect((err as Error).message).toMatch(/at most 3 containers/);
  });

  it('hears only about its own containers', async () => {
    const heardA: string[] = [];
    const off = a.onEvent((e) => e.type === 'container' && heardA.push(`${e.action}:${e.id}`));
    try {
      await b.kill('web');
      await b.wait('web');
      for (const r of a.list({ all: true })) await a.remove(r.id, { force: true });
      expect(heardA.some((h) => h.endsWith(bId))).toBe(false);
      expect(heardA.filter((h) => h.startsWith('destroy:')).length).toBe(3);
    } finally {
      off();
    }
  });
});
