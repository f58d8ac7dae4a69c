// The real docker CLI (28.x) against Glassbox WITH networking: docker network create/ls/inspect/
// connect/disconnect/rm, containers on a user network reaching each other by name, isolation from
// the default bridge, a published port answering on 127.0.0.1, and clear errors for bad input.
// All traffic stays between namespaces this test made and 127.0.0.1. Needs root. The engine runs
// with the run's own prefix (GLASSBOX_PREFIX from vitest.config.ts), so a serving Glassbox's gb0
// and GLASSBOX-* chains are never touched; refuses to run (fails, never skips) when this prefix's
// links or chains already exist. Afterwards none of them is left.
import { execFileSync } from 'node:child_process';
import { freePort, requireHost, until } from '../helpers.js';
import { dockerClient } from './docker-support.js';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerApi } from '../../server/api/docker/server.js';
import { Engine } from '../../server/engine/engine.js';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';

const N = hostNames(prefixFromEnv());

const DOCKER = '/usr/local/bin/docker';
const NET = 'gbtestnet';

const gbLinks = () => readdirSync('/sys/class/net').filter((n) => n === N.bridge || n.startsWith(`${N.prefix}r-`) || N.vethRe.test(n));
const ourChains = Object.values(N.chains);
const glassboxRules = (): string => {
  try {
    return execFileSync('iptables-save', { encoding: 'utf8' })
      .split('\n')
      .filter((l) => ourChains.some((c) => l.includes(c)))
      .join('\n');
  } catch (e) {
    return `iptables-save failed: ${(e as Error).message}`;
  }
};

requireHost('docker-network e2e', {
  root: true,
  binaries: [DOCKER],
  check: () => {
    const links = gbLinks();
    if (links.length) return `links of prefix ${N.prefix} already exist (an earlier run crashed?): ${links.join(', ')}`;
    const rules = glassboxRules();
    return rules ? `iptables chains of prefix ${N.prefix} already exist (an earlier run crashed?):\n${rules}` : null;
  },
});


// ---------------------------------------------------------------- a subnet clear of the host's routes

const ipToInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
function cidrRange(cidr: string): [number, number] {
  const [ip, bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(ip) / size) * size;
  return [start, start + size - 1];
}
function pickSubnet(): string {
  const routes = JSON.parse(execFileSync('ip', ['-json', 'route'], { encoding: 'utf8' })) as { dst: string }[];
  const addrs = JSON.parse(execFileSync('ip', ['-json', 'addr'], { encoding: 'utf8' })) as { addr_info: { family: string; local: string; prefixlen: number }[] }[];
  const taken = [
    ...routes.filter((r) => r.dst !== 'default').map((r) => cidrRange(r.dst.includes('/') ? r.dst : `${r.dst}/32`)),
    ...addrs.flatMap((a) => a.addr_info.filter((i) => i.family === 'inet').map((i) => cidrRange(`${i.local}/${i.prefixlen}`))),
  ];
  for (let x = 7; x < 250; x++) {
    const cand = `10.213.${x}.0/24`;
    const [s, e] = cidrRange(cand);
    if (!taken.some(([ts, te]) => ts <= e && s <= te)) return cand;
  }
  throw new Error('no free 10.213.x.0/24 subnet: every one overlaps a host route');
}

// ---------------------------------------------------------------- helpers

let base = '';
let sock = '';
let engine: Engine | undefined;
let api: Awaited<ReturnType<typeof startDockerApi>> | undefined;
let subnet = '';
let ipForwardBefore = '';
const servers: Server[] = [];

const { docker, ok } = dockerClient(() => sock);

async function fails(...args: string[]): Promise<string> {
  const r = await docker(...args);
  if (r.code === 0) throw new Error(`docker ${args.join(' ')} succeeded, a failure was expected: ${r.out}`);
  return r.err;
}

/** A port nothing listens on (and nobody else is given between this call and its use, we hope). */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const inSubnet = (ip: string, cidr: string) => {
  const [s, e] = cidrRange(cidr);
  const n = ipToInt(ip);
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && n > s && n < e;
};

// Container names have at least two characters, as in Docker ('a' is refused by both).
describe('docker network against Glassbox (networking on)', () => {
  beforeAll(async () => {
    ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    subnet = pickSubnet();
    base = mkdtempSync('/tmp/gbt-');
    chmodSync(base, 0o711);
    engine = await Engine.open({ root: join(base, 'root'), runRoot: join(base, 'r'), network: true });
    sock = join(base, 'd.sock');
    api = await startDockerApi(engine, { socketPath: sock });
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    if (engine) {
      for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
      for (const n of engine.listNetworks()) if (!n.builtin) await engine.removeNetwork(n.id).catch(() => {});
    }
    const left = engine ? engine.list({ all: true }).length : 0;
    await api?.close();
    await engine?.close();
    await engine?.network?.teardown({ removeState: true });
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => base && l.includes(base));
    if (base) rmSync(base, { recursive: true, force: true });
    expect(left).toBe(0);
    expect(mounts).toEqual([]);
    expect(gbLinks()).toEqual([]);
    expect(glassboxRules()).toBe('');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(ipForwardBefore);
  }, 120_000);

  it('network create / ls / inspect, and refusals of what Glassbox does not do', async () => {
    const id = (await ok('network', 'create', NET, '--subnet', subnet, '--label', 'gb.test=1')).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const names = (await ok('network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}')).trim().split('\n').sort();
    expect(names).toEqual(expect.arrayContaining(['bridge bridge local', 'host host local', 'none null local', `${NET} bridge local`]));
    expect((await ok('network', 'ls', '-q', '--filter', `name=${NET}`)).trim()).toBe(id.slice(0, 12));
    expect((await ok('network', 'ls', '-q', '--filter', 'label=gb.test=1')).trim()).toBe(id.slice(0, 12));
    const j = JSON.parse(await ok('network', 'inspect', NET))[0];
    expect(j).toMatchObject({ Name: NET, Id: id, Scope: 'local', Driver: 'bridge', EnableIPv6: false, Internal: false, Attachable: false, Labels: { 'gb.test': '1' }, Containers: {} });
    expect(j.IPAM.Driver).toBe('default');
    expect(j.IPAM.Config[0].Subnet).toBe(subnet);
    expect(inSubnet(j.IPAM.Config[0].Gateway, subnet)).toBe(true);

    // bad input
    const [s] = cidrRange(subnet);
    const half = `${[s >>> 24, (s >> 16) & 255, (s >> 8) & 255, 128].join('.')}/25`;
    expect(await fails('network', 'create', 'gbtestover', '--subnet', half)).toMatch(/overlaps with network gbtestnet/);
    expect(await fails('network', 'create', NET)).toMatch(/already exists/);
    expect(await fails('network', 'create', '--driver', 'overlay', 'gbtestx')).toMatch(/--driver overlay is not supported/);
    expect(await fails('network', 'create', '--ip-range', '10.0.0.0/24', 'gbtestx')).toMatch(/ip-range or gateway must have a corresponding subnet/); // the CLI's own check
    expect(await fails('network', 'create', '--ipv6', 'gbtestx')).toMatch(/--ipv6 is not supported/);
    expect(await fails('network', 'create', '-o', 'com.docker.network.bridge.name=x', 'gbtestx')).toMatch(/--opt is not supported/);
    expect(await fails('network', 'inspect', 'nope')).toMatch(/network nope not found/);
    expect(await fails('network', 'rm', 'bridge')).toMatch(/pre-defined network/);
    expect((await ok('network', 'ls', '--format', '{{.Name}}')).split('\n')).not.toContain('gbtestx');
  });

  it('containers on one network ping each other by name; the default bridge cannot reach them', async () => {
    await ok('run', '-d', '--name', 'gbta', '--network', NET, 'base', 'sleep', '300');
    await ok('run', '-d', '--name', 'gbtb', '--network', NET, 'base', 'sleep', '300');
    const ipA = (await ok('inspect', '-f', `{{.NetworkSettings.Networks.${NET}.IPAddress}}`, 'gbta')).trim();
    const ipB = (await ok('inspect', '-f', `{{.NetworkSettings.Networks.${NET}.IPAddress}}`, 'gbtb')).trim();
    expect(inSubnet(ipA, subnet)).toBe(true);
    expect(inSubnet(ipB, subnet)).toBe(true);
    expect(ipA).not.toBe(ipB);

    const ns = JSON.parse(await ok('inspect', '-f', '{{json .NetworkSettings}}', 'gbta'));
    const net = JSON.parse(await ok('network', 'inspect', NET))[0];
    expect(ns.IPAddress).toBe(ipA);
    expect(ns.IPPrefixLen).toBe(24);
    expect(ns.Gateway).toBe(net.IPAM.Config[0].Gateway);
    expect(ns.MacAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(ns.Networks[NET]).toMatchObject({ NetworkID: net.Id, IPAddress: ipA, IPPrefixLen: 24, Gateway: ns.Gateway, MacAddress: ns.MacAddress });
    expect((await ok('inspect', '-f', '{{.HostConfig.NetworkMode}}', 'gbta')).trim()).toBe(NET);
    const idA = (await ok('inspect', '-f', '{{.Id}}', 'gbta')).trim();
    expect(net.Containers[idA]).toMatchObject({ Name: 'gbta', MacAddress: ns.MacAddress, IPv4Address: `${ipA}/24`, IPv6Address: '' });

    // by name, through /etc/hosts
    expect(await ok('exec', 'gbta', 'grep', '-w', 'gbtb', '/etc/hosts')).toContain(ipB);
    expect(await ok('exec', 'gbta', 'ping', '-c', '1', '-W', '2', 'gbtb')).toMatch(/1 packets received/);
    expect(await ok('exec', 'gbtb', 'ping', '-c', '1', '-W', '2', 'gbta')).toMatch(/1 packets received/);
    expect(await ok('exec', 'gbta', 'ping', '-c', '1', '-W', '2', ipB)).toMatch(/1 packets received/);

    // the default bridge: its own gateway answers, a's address does not
    const other = await docker('run', '--rm', 'base', 'sh', '-c', `ip route | grep -q default && ! ping -c 1 -W 1 ${ipA}`);
    expect(other).toMatchObject({ code: 0 });
    // and it does not know the names
    expect((await docker('run', '--rm', 'base', 'ping', '-c', '1', '-W', '1', 'gbta')).code).not.toBe(0);
  }, 120_000);

  it('docker network connect / disconnect add and remove an interface', async () => {
    await ok('run', '-d', '--name', 'gbtc', 'base', 'sleep', '300');
    const before = await ok('exec', 'gbtc', 'ip', '-o', 'link');
    expect(before).toMatch(/\beth0\b/);
    expect(before).not.toMatch(/\beth1\b/);
    await ok('network', 'connect', NET, 'gbtc');
    const after = await ok('exec', 'gbtc', 'ip', '-o', 'link');
    expect(after).toMatch(/\beth1\b/);
    const nets = JSON.parse(await ok('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'gbtc'));
    expect(Object.keys(nets).sort()).toEqual(['bridge', NET]);
    expect(inSubnet(nets[NET].IPAddress, subnet)).toBe(true);
    expect(await ok('exec', 'gbtc', 'ip', '-4', '-o', 'addr', 'show', 'eth1')).toContain(`${nets[NET].IPAddress}/24`);
    // now on a's network: a answers, by name too (hosts files are rewritten)
    expect(await ok('exec', 'gbtc', 'ping', '-c', '1', '-W', '2', 'gbta')).toMatch(/1 packets received/);
    const idC = (await ok('inspect', '-f', '{{.Id}}', 'gbtc')).trim();
    expect(Object.keys(JSON.parse(await ok('network', 'inspect', NET))[0].Containers)).toContain(idC);
    expect(await fails('network', 'connect', NET, 'gbtc')).toMatch(/already exists in network/);
    expect(await fails('network', 'connect', 'nope', 'gbtc')).toMatch(/network nope not found/);
    expect(await fails('network', 'connect', NET, 'no-such-container')).toMatch(/no-such-container/);

    await ok('network', 'disconnect', NET, 'gbtc');
    expect(await ok('exec', 'gbtc', 'ip', '-o', 'link')).not.toMatch(/\beth1\b/);
    expect(Object.keys(JSON.parse(await ok('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'gbtc')))).toEqual(['bridge']);
    expect(Object.keys(JSON.parse(await ok('network', 'inspect', NET))[0].Containers)).not.toContain(idC);
    expect(await fails('network', 'disconnect', NET, 'gbtc')).toMatch(/not connected/);
  }, 120_000);

  it('a published port answers on 127.0.0.1; docker ps and inspect show it; a port in use is refused', async () => {
    const port = await freePort();
    await ok('run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'base', 'httpd', '-f', '-p', '80', '-h', '/etc');
    const hostname = (await ok('exec', 'web', 'cat', '/etc/hostname')).trim();
    const r = await until(async () => {
      const x = await httpGet(`http://127.0.0.1:${port}/hostname`);
      if (x.status !== 200) throw new Error(`status ${x.status}`);
      return x;
    }, 10_000, 150);
    expect(r.body.trim()).toBe(hostname);
    expect((await ok('ps', '--filter', 'name=web', '--format', '{{.Ports}}')).trim()).toBe(`127.0.0.1:${port}->80/tcp`);
    expect(JSON.parse(await ok('inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web'))).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect((await ok('port', 'web')).trim()).toBe(`80/tcp -> 127.0.0.1:${port}`);

    // the same port again: held by web
    expect(await fails('run', '-d', '--name', 'web2', '-p', `127.0.0.1:${port}:80`, 'base', 'sleep', '300')).toMatch(/already allocated/);
    // a port a host process holds
    const held = createServer();
    servers.push(held);
    await new Promise<void>((res) => held.listen(0, '127.0.0.1', () => res()));
    const heldPort = (held.address() as { port: number }).port;
    expect(await fails('run', '-d', '--name', 'web3', '-p', `127.0.0.1:${heldPort}:80`, 'base', 'sleep', '300')).toMatch(new RegExp(`${heldPort}.*(in use|already)`, 'i'));
    await ok('rm', '-f', 'web2', 'web3');

    // gone with the container
    await ok('rm', '-f', 'web');
    await expect(httpGet(`http://127.0.0.1:${port}/hostname`)).rejects.toThrow();
  }, 120_000);

  it('an unknown network is a clear error; network rm refuses while in use and succeeds after', async () => {
    const r = await docker('run', '--rm', '--network', 'nope', 'base', 'true');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/network nope not found/);
    expect(r.err).not.toMatch(/Unable to find image/);
    expect((await ok('ps', '-a', '--format', '{{.Names}}')).split('\n')).not.toContain('nope');

    expect(await fails('network', 'rm', NET)).toMatch(/has active endpoints/);
    await ok('rm', '-f', 'gbta', 'gbtb', 'gbtc');
    expect(await ok('network', 'rm', NET)).toBe(`${NET}\n`);
    expect((await ok('network', 'ls', '--format', '{{.Name}}')).split('\n')).not.toContain(NET);
    expect(gbLinks().filter((l) => l !== N.bridge)).toEqual([]);
    expect(await fails('network', 'rm', NET)).toMatch(/not found/);

    // prune removes unused user networks only
    await ok('network', 'create', 'gbtestprune');
    expect(await ok('network', 'prune', '-f')).toMatch(/gbtestprune/);
    expect((await ok('network', 'ls', '--format', '{{.Name}}')).trim().split('\n').sort()).toEqual(['bridge', 'host', 'none']);
  }, 120_000);
});
