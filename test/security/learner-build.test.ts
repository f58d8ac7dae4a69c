// A learner's docker build: their RUN steps run as their own containers, through the learner
// policy (user namespace, no NET_RAW, no new privileges), and the image is not tagged (images are
// shared by the class). Checked from inside the RUN itself: what it wrote into the layer.
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorKind, LearnerEngine, OWNER_LABEL, type EngineEvent } from '../../server/engine/index.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, runToExit, type TestEnv } from '../integration/support.js';

requireHost('learner build test', { root: true, commands: ['ip', 'iptables'] });

let env: TestEnv;
let learner: LearnerEngine;

async function contextTar(files: Record<string, string>): Promise<Readable> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Readable.from([Buffer.concat(chunks)]);
}

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  learner = new LearnerEngine(env.engine, { learnerId: 'gbtclrn', ports: { from: 20300, to: 20309 }, maxContainers: 3 });
}, 120_000);

afterAll(async () => {
  if (!env) return;
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
  for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id);
  await env.cleanup();
});

describe("a learner's build", () => {
  it('runs each RUN as a container of theirs, user-namespaced and unprivileged', async () => {
    const owners: string[] = [];
    const off = env.engine.onEvent((e: EngineEvent) => {
      if (e.type === 'container' && e.action === 'create') owners.push(env.engine.get(e.id).config.labels?.[OWNER_LABEL] ?? '(none)');
    });
    const out: string[] = [];
    let id: string;
    try {
      ({ id } = await learner.build(await contextTar({ Dockerfile: 'FROM base\nRUN cat /proc/self/uid_map > /uidmap && grep CapEff /proc/self/status > /caps && grep NoNewPrivs /proc/self/status > /nnp\n' }), {}, (e) => {
        if (e.type === 'stream') out.push(e.text);
      }));
    } finally {
      off();
    }
    expect(out.join('')).toMatch(/Successfully built/);
    expect(owners).toEqual(['gbtclrn']);
    const read = async (path: string) => (await runToExit(env.engine, { image: id, cmd: ['cat', path] })).stdout.trim();
    const uidMap = (await read('/uidmap')).split(/\s+/).map(Number);
    expect(uidMap[0]).toBe(0);
    expect(uidMap[1]).toBeGreaterThan(0); // root in the RUN was not root on the host
    const capEff = BigInt('0x' + (await read('/caps')).split(/\s+/)[1]);
    expect(capEff & (1n << 13n)).toBe(0n); // CAP_NET_RAW
    expect(capEff & (1n << 21n)).toBe(0n); // CAP_SYS_ADMIN
    expect(await read('/nnp')).toMatch(/NoNewPrivs:\s+1/);
    // the learner's build containers are gone
    expect(learner.list({ all: true })).toEqual([]);
    for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true });
    env.engine.removeImage(id, { force: true });
  }, 120_000);

  it('refuses -t (images are shared by the class) and builds nothing', async () => {
    const before = env.engine.listImages().length;
    let err: unknown;
    try {
      await learner.build(await contextTar({ Dockerfile: 'FROM base\nRUN touch /x\n' }), { tags: ['mine'] });
    } catch (e) {
      err = e;
    }
    expect(errorKind(err)).toBe('permission-denied');
    expect((err as Error).message).toMatch(/build -t: tagging images is not allowed/);
    expect(env.engine.listImages().length).toBe(before);
    expect(env.engine.list({ all: true })).toEqual([]);
  });
});
