// Learners' networks (issue 13): A's container cannot reach B's, neither directly (B's address on
// B's bridge) nor through the host (B's published port, asked at either bridge's gateway, which is
// an address of the host), nor the dashboard's loopback port. B's own container and the host's
// 127.0.0.1 do reach B's server: the walls are where the learners meet, not everywhere.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LearnerEngine, OWNER_LABEL } from '../../server/engine/index.js';
import { requireHost } from '../helpers.js';
import { execToExit, openTestEngine, type TestEnv } from '../integration/support.js';

requireHost('learner network test', { root: true, commands: ['ip', 'iptables'] });

const B_PORT = 20310;
let env: TestEnv;
let a: LearnerEngine;
let b: LearnerEngine;
let aId = '';
let bId = '';
let bIp = '';
let dashboard: Server;

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  a = new LearnerEngine(env.engine, { learnerId: 'netlrna', ports: { from: 20300, to: 20309 }, maxContainers: 3 });
  b = new LearnerEngine(env.engine, { learnerId: 'netlrnb', ports: { from: B_PORT, to: B_PORT + 9 }, maxContainers: 3 });
  const bRec = await b.run({
    image: 'base',
    cmd: ['sh', '-c', 'mkdir -p /www && echo b-page > /www/index.html && exec httpd -f -p 80 -h /www'],
    ports: [{ containerPort: 80, hostPort: B_PORT, protocol: 'tcp' }],
  });
  bId = bRec.id;
  aId = (await a.run({ image: 'base', cmd: ['sleep', '600'] })).id;
  bIp = env.engine.get(bId).network.ipAddress!;
  // a stand-in for the dashboard: a server on the host's loopback
  dashboard = createServer((_q, r) => r.end('dashboard'));
  await new Promise<void>((r) => dashboard.listen(0, '127.0.0.1', () => r()));
  // httpd needs a moment to listen
  for (let i = 0; i < 50; i++) {
    if ((await execToExit(env.engine, bId, ['timeout', '3', 'wget', '-qO-', 'http://127.0.0.1/'])).out.includes('b-page')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(async () => {
  dashboard?.close();
  if (!env) return;
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
  for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id);
  await env.cleanup();
});

const fetchFrom = (id: string, url: string) => execToExit(env.engine, id, ['timeout', '3', 'wget', '-qO-', url]);

describe("a learner's network", () => {
  it("reaches B's server from B's own container and from the host's loopback (the controls)", async () => {
    const own = await fetchFrom(bId, 'http://127.0.0.1/');
    expect(own.out, JSON.stringify({ own, logs: await logsOf(bId) })).toContain('b-page');
    const res = await fetch(`http://127.0.0.1:${B_PORT}/`);
    expect(await res.text()).toContain('b-page');
  });

  it("does not reach B's container from A's, directly or through the host", async () => {
    const aGateway = env.engine.get(aId).network.gateway!;
    const bGateway = env.engine.get(bId).network.gateway!;
    expect(aGateway).not.toBe(bGateway); // two bridges
    const dash = (dashboard.address() as AddressInfo).port;
    for (const url of [`http://${bIp}/`, `http://${aGateway}:${B_PORT}/`, `http://${bGateway}:${B_PORT}/`, `http://${aGateway}:${dash}/`, `http://${bGateway}:${dash}/`]) {
      const r = await fetchFrom(aId, url);
      expect(r.code, `${url}: ${r.out}`).not.toBe(0);
      expect(r.out, url).not.toContain('b-page');
      expect(r.out, url).not.toContain('dashboard');
    }
  }, 60_000);

  it("cannot ping anything with raw sockets (no NET_RAW to spoof with)", async () => {
    const r = await execToExit(env.engine, aId, ['sh', '-c', 'cat /proc/self/status | grep CapEff']);
    expect(BigInt('0x' + /CapEff:\s*([0-9a-f]+)/.exec(r.out)![1]) & (1n << 13n)).toBe(0n);
  });
});

async function logsOf(id: string): Promise<string> {
  let out = '';
  for await (const e of env.engine.logs(id, { tail: 50 })) out += e.log;
  return out;
}
