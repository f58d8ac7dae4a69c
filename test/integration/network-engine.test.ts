// Real containers through the engine with networking on: the engine calls the network manager
// (prepare before the clone, attach at the create barrier, detach at exit, release at removal).
// The run's own prefix (GLASSBOX_PREFIX from vitest.config.ts): a serving Glassbox's gb0 and GLASSBOX-* chains are not touched.
import { execFileSync } from 'node:child_process';
import { freePort, requireHost, until } from '../helpers.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestEngine, runToExit, type TestEnv } from './support.js';
import { installedRules } from '../../server/engine/network/index.js';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';
import { readLeases } from '../../server/engine/network/state-file.js';

const N = hostNames(prefixFromEnv());

requireHost('network-engine.test', {
  root: true,
  commands: ['ip', 'iptables', 'iptables-save'],
  check: () => {
    if (existsSync(`/sys/class/net/${N.bridge}`)) return `${N.bridge} already exists (an earlier run crashed?)`;
    return execFileSync('iptables-save', { encoding: 'utf8' }).includes(`:${N.chains.forward} `) ? `${N.chains.forward} already exists (an earlier run crashed?)` : null;
  },
});

let env: TestEnv | undefined;
let ipForwardBefore = '0';
const sh = (script: string, extra: Record<string, unknown> = {}) => ({ image: 'base', cmd: ['/bin/sh', '-c', script], ...extra });
const gbLinks = () => readdirSync('/sys/class/net').filter((n) => n === N.bridge || n.startsWith(`${N.prefix}r-`) || N.vethRe.test(n));

describe('engine with networking (real containers)', () => {
  beforeAll(async () => {
    ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    env = await openTestEngine({ network: true });
  });

  afterAll(async () => {
    if (!env) return;
    const net = env.engine.network;
    for (const n of net?.listNetworks() ?? []) if (!n.builtin) await net!.removeNetwork(n.id).catch(() => {});
    await env.cleanup();
    await net?.teardown({ removeState: true });
    expect(gbLinks()).toEqual([]);
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toContain(N.chains.forward);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(ipForwardBefore);
  });

  it('gives a bridge container eth0, an address, a default route and a timeline of the ip commands', async () => {
    const r = await runToExit(env!.engine, sh('ls /sys/class/net; ip -4 addr show eth0; ip route; cat /etc/resolv.conf', { network: 'bridge' }));
    expect(r.exitCode).toBe(0);
    const rec = env!.engine.get(r.id);
    expect(rec.network.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(r.stdout).toContain('eth0');
    expect(r.stdout).toContain(`inet ${rec.network.ipAddress}/`);
    expect(r.stdout).toContain(`default via ${rec.network.gateway} dev eth0`);
    expect(r.stdout).not.toMatch(/^nameserver 127\./m);
    expect(rec.timeline.map((s) => s.step)).toEqual(expect.arrayContaining(['network-plan', 'veth-create', 'address', 'default-route']));
    // exited: the veth is gone, the lease stays until removal
    expect(existsSync(`/sys/class/net/${N.veth(r.id, 0)}`)).toBe(false);
    expect(env!.engine.network!.inspectNetwork('bridge').containers[r.id]?.ip).toBe(rec.network.ipAddress);
    await env!.engine.remove(r.id);
    expect(env!.engine.network!.inspectNetwork('bridge').containers[r.id]).toBeUndefined();
  });

  it('two containers ping each other by IP and by name; a published port answers from the host', async () => {
    const engine = env!.engine;
    const hp = await freePort('0.0.0.0');
    const web = await engine.run(sh('mkdir -p /www && echo hello-engine > /www/index.html && exec httpd -f -p 8080 -h /www', { name: 'gbt-web', network: 'bridge', ports: [{ hostPort: hp, containerPort: 8080, protocol: 'tcp' }] }));
    try {
      const ip = engine.get(web.id).network.ipAddress!;
      const body = await until(async () => (await fetch(`http://127.0.0.1:${hp}/`, { signal: AbortSignal.timeout(2000) })).text());
      expect(body).toBe('hello-engine\n');
      const gw = engine.network!.inspectNetwork('bridge').gateway!;
      expect(await (await fetch(`http://${gw}:${hp}/`, { signal: AbortSignal.timeout(2000) })).text()).toBe('hello-engine\n');
      expect((await installedRules(N.chains)).some((l) => l.includes(`--dport ${hp}`) && l.includes(`${ip}:8080`))).toBe(true);

      // on the default bridge a name comes from --link only (Docker's rule)
      const c = await runToExit(engine, sh(`ping -c1 -W2 ${ip} && grep -w gbt-web /etc/hosts && ping -c1 -W2 gbt-web && wget -q -O - http://gbt-web:8080/`, { network: 'bridge', endpoint: { links: [{ container: 'gbt-web', alias: 'gbt-web' }] } }));
      expect(c.stdout).toContain('1 packets received');
      expect(c.stdout).toMatch(new RegExp(`^${ip.replace(/\./g, '\\.')}\\s.*gbt-web`, 'm'));
      expect(c.stdout).toContain('hello-engine');
      expect(c.exitCode).toBe(0);
      await engine.remove(c.id);

      // another network cannot reach it
      const other = await engine.network!.createNetwork({ name: 'gbt-engine-other' });
      const d = await runToExit(engine, sh(`ping -c1 -W1 ${other.gateway} && ! ping -c1 -W1 ${ip}`, { network: 'gbt-engine-other' }));
      expect(d.exitCode).toBe(0);
      await engine.remove(d.id);
      await engine.network!.removeNetwork(other.id);
    } finally {
      await engine.remove(web.id, { force: true });
    }
    expect((await installedRules(N.chains)).some((l) => l.includes(`--dport ${hp}`))).toBe(false);
    expect(gbLinks().filter((l) => N.vethRe.test(l))).toEqual([]);
  });

  it('none has only lo; host sees the host interfaces', async () => {
    const n = await runToExit(env!.engine, sh('ls /sys/class/net', { network: 'none' }));
    expect(n.stdout.trim().split(/\s+/)).toEqual(['lo']);
    const h = await runToExit(env!.engine, sh('ls /sys/class/net', { network: 'host' }));
    expect(h.stdout.trim().split(/\s+/).sort()).toEqual(readdirSync('/sys/class/net').sort());
  });

  it('leaves no veth or lease after removal', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await runToExit(env!.engine, sh('true', { network: 'bridge' }));
      await env!.engine.remove(r.id);
    }
    expect(gbLinks().filter((l) => N.vethRe.test(l))).toEqual([]);
    const leases = readLeases(join(env!.root, 'network'));
    expect(Object.keys(leases).sort()).toEqual(env!.engine.list({ all: true }).map((r) => r.id).filter((id) => id in leases).sort());
  });
});
