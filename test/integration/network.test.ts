// The network manager on the real kernel. The test makes its own stand-ins for containers
// (`unshare --net sleep`, one new network namespace each) and passes their pids to attach(); it
// touches only what it and the manager made (gb* links, GLASSBOX-* chains, its own processes) and
// removes all of it at the end, even when a test fails.
//
// Everything that talks to a published port is asynchronous: the userland proxy runs in this
// process, so a blocking child (execFileSync) would deadlock it.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers.js';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkManager, installedRules } from '../../server/engine/network/index.js';
import { readLeases } from '../../server/engine/network/state-file.js';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';
import { CommandError, ipBatch } from '../../server/engine/network/ip.js';
import { Conflict, InvalidArgument, NotFound } from '../../server/engine/types.js';
import { requireHost } from '../helpers.js';

const run = promisify(execFile);
// The run's own names (GLASSBOX_PREFIX, set by vitest.config.ts): a serving Glassbox's gb0 is not ours.
const N = hostNames(prefixFromEnv());
const CH = N.chains;
// An earlier crashed run with this prefix left its bridge or chains: do not guess, say so.
requireHost('network.test', {
  root: true,
  commands: ['ip', 'iptables', 'iptables-save', 'busybox'],
  check: () => {
    if (existsSync(`/sys/class/net/${N.bridge}`)) return `${N.bridge} already exists (an earlier run crashed?)`;
    return execFileSync('iptables-save', { encoding: 'utf8' }).includes(`:${CH.forward} `) ? `${CH.forward} already exists (an earlier run crashed?)` : null;
  },
});

const selfNet = readlinkSync('/proc/self/ns/net');
const children: ChildProcess[] = [];
const testNetworks: string[] = [];
let base = '';
let root = '';
let mgr: NetworkManager;
let ipForwardBefore = '0';

/** A stand-in for a container: a sleeping process in a new network namespace. */
async function fakeContainer(): Promise<{ id: string; pid: number; proc: ChildProcess }> {
  const proc = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' });
  children.push(proc);
  const pid = proc.pid!;
  for (let i = 0; i < 300; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== selfNet) return { id: randomBytes(32).toString('hex'), pid, proc };
    } catch {
      /* not there yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('unshare did not make a network namespace');
}

/** A long-running process inside a container's namespace (a server). */
function spawnIn(pid: number, args: string[]): ChildProcess {
  const p = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, ...args], { stdio: 'ignore' });
  children.push(p);
  return p;
}

async function inNs(pid: number, args: string[], timeout = 5000): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout } = await run('nsenter', [`--net=/proc/${pid}/ns/net`, ...args], { timeout });
    return { ok: true, out: stdout };
  } catch (e) {
    return { ok: false, out: String((e as { stdout?: string }).stdout ?? '') + String((e as Error).message) };
  }
}

const ping = (pid: number, ip: string) => inNs(pid, ['busybox', 'ping', '-c1', '-W1', ip]).then((r) => r.ok);

/** Ping by name as the container would: its hosts file bind-mounted on /etc/hosts, in a private
 * mount namespace of its own (unshare --mount: the host's /etc/hosts is not touched). */
const pingByName = (pid: number, hostsFile: string, name: string) =>
  inNs(pid, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec busybox ping -c1 -W1 "$1"', hostsFile, name]);

function kill(p: ChildProcess): void {
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function httpGet(host: string, port: number): Promise<string> {
  const res = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(3000) });
  return res.text();
}

function udpAsk(host: string, port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.send(msg, port, host);
  });
}

/** The links of this prefix (never another engine's: a server beside the test keeps its gb0). */
function gbLinks(): string[] {
  return readdirSync('/sys/class/net').filter((n) => n === N.bridge || n.startsWith(`${N.prefix}r-`) || N.vethRe.test(n));
}

describe('network manager (real kernel)', () => {
  beforeAll(async () => {
    ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    base = mkdtempSync('/tmp/gbt-net-');
    root = join(base, 'root');
    mgr = new NetworkManager({ root, runRoot: join(base, 'run') });
    await mgr.init();
  });

  afterAll(async () => {
    for (const p of children) kill(p);
    if (mgr) {
      for (const n of testNetworks) await mgr.removeNetwork(n).catch(() => {});
      await mgr.teardown({ removeState: true }).catch((e) => console.error('teardown', e));
    }
    // whatever the manager could not remove, by the names this test made
    for (const l of gbLinks()) execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' });
    if (base) rmSync(base, { recursive: true, force: true });
    expect(gbLinks()).toEqual([]);
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toContain(CH.forward);
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toContain(CH.post);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(ipForwardBefore);
  });

  it('makes the default network: gb0 with a subnet that does not collide with the host', async () => {
    const def = mgr.inspectNetwork('bridge');
    expect(def.bridge).toBe(N.bridge);
    expect(def.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/(16|24)$/);
    const addrs = JSON.parse(execFileSync('ip', ['-json', 'addr', 'show', 'dev', N.bridge], { encoding: 'utf8' })) as { addr_info: { local: string; family: string }[] }[];
    expect(addrs[0].addr_info.filter((a) => a.family === 'inet').map((a) => a.local)).toEqual([def.gateway]);
    const routes = JSON.parse(execFileSync('ip', ['-json', 'route'], { encoding: 'utf8' })) as { dst: string; dev: string }[];
    expect(routes.filter((r) => r.dst === def.subnet).map((r) => r.dev)).toEqual([N.bridge]);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
    const rules = await installedRules(CH);
    expect(rules).toContain(`-A ${CH.post} -s ${def.subnet} ! -o ${N.bridge} -j MASQUERADE`);
    const names = mgr.listNetworks().map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining(['bridge', 'host', 'none']));
  });

  it('two containers on one network reach each other by IP and by name; another network cannot reach them', async () => {
    const a = await fakeContainer();
    const b = await fakeContainer();
    const c = await fakeContainer();
    const net = await mgr.createNetwork({ name: 'gbt-other', labels: { test: 'network' } });
    testNetworks.push(net.id);
    try {
      // alpha links to beta (--link beta:db): on the default bridge only a link gives a name
      const pa = await mgr.prepare(a.id, { mode: 'bridge', name: 'alpha', hostname: 'alpha-host', endpoint: { links: [{ container: 'beta', alias: 'db' }] } });
      const pb = await mgr.prepare(b.id, { mode: 'bridge', name: 'beta', hostname: 'beta' });
      const pc = await mgr.prepare(c.id, { mode: 'gbt-other', name: 'gamma', hostname: 'gamma' });
      expect(pa.newNetns).toBe(true);
      expect(pa.ipAddress).not.toBe(pb.ipAddress);
      expect(pa.macAddress).toBe('02:42:' + pa.ipAddress!.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':'));
      expect(pc.networkId).toBe(net.id);
      expect(pc.gateway).toBe(net.gateway);

      const steps = await mgr.attach(a.id, a.pid);
      expect(steps.map((s) => s.step)).toEqual(expect.arrayContaining(['veth-create', 'veth-attach', 'lo-up', 'address', 'default-route']));
      expect(steps.every((s) => typeof s.ms === 'number' && s.call)).toBe(true);
      await mgr.attach(b.id, b.pid);
      await mgr.attach(c.id, c.pid);

      // inside: eth0 with the address and MAC, lo up, default route via the gateway
      const links = JSON.parse((await inNs(a.pid, ['ip', '-json', 'addr', 'show'])).out) as { ifname: string; address: string; operstate: string; flags: string[]; addr_info: { family: string; local: string }[] }[];
      const eth0 = links.find((l) => l.ifname === 'eth0')!;
      expect(eth0.address).toBe(pa.macAddress);
      expect(eth0.addr_info.find((x) => x.family === 'inet')?.local).toBe(pa.ipAddress);
      expect(links.find((l) => l.ifname === 'lo')!.flags).toContain('UP');
      const routes = JSON.parse((await inNs(a.pid, ['ip', '-json', 'route'])).out) as { dst: string; gateway?: string }[];
      expect(routes.find((r) => r.dst === 'default')?.gateway).toBe(pa.gateway);
      // host end on the bridge
      const host = JSON.parse(execFileSync('ip', ['-json', 'link', 'show', N.veth(a.id, 0)], { encoding: 'utf8' })) as { master: string }[];
      expect(host[0].master).toBe(N.bridge);

      // by IP
      expect(await ping(a.pid, pb.ipAddress!)).toBe(true);
      expect(await ping(b.pid, pa.ipAddress!)).toBe(true);
      // by name: the hosts file (bind-mounted as /etc/hosts by the engine) maps the names. The
      // default bridge names only --link targets (Docker's rule): alpha knows beta, not the reverse.
      const hostsA = readFileSync(pa.hostsFile, 'utf8');
      const hostsB = readFileSync(pb.hostsFile, 'utf8');
      const lookup = (text: string, name: string) => text.split('\n').find((l) => !l.startsWith('#') && l.split(/\s+/).slice(1).includes(name))?.split(/\s+/)[0];
      expect(lookup(hostsA, 'beta')).toBe(pb.ipAddress);
      expect(lookup(hostsA, 'db')).toBe(pb.ipAddress);
      expect(lookup(hostsB, 'alpha')).toBeUndefined();
      expect(lookup(hostsB, 'alpha-host')).toBeUndefined();
      expect(lookup(hostsA, 'alpha-host')).toBe(pa.ipAddress);
      expect(lookup(hostsA, 'gamma')).toBeUndefined();
      expect(await ping(a.pid, lookup(hostsA, 'beta')!)).toBe(true);
      const byName = await pingByName(a.pid, pa.hostsFile, 'db');
      expect(byName.out).toContain(`PING db (${pb.ipAddress})`);
      expect(byName.ok).toBe(true);
      expect((await pingByName(b.pid, pb.hostsFile, 'alpha-host')).ok).toBe(false);
      expect((await pingByName(a.pid, pa.hostsFile, 'gamma')).ok).toBe(false);
      expect(readFileSync(pa.hostnameFile, 'utf8')).toBe('alpha-host\n');
      const resolv = readFileSync(pa.resolvConf, 'utf8');
      expect(resolv).not.toMatch(/^nameserver 127\./m);
      expect(resolv).not.toMatch(/^nameserver ::1/m);
      expect(pa.files.hosts).toBe(mgr.hostsFilePath(a.id));

      // a container coming and going on the default bridge leaves the others' hosts files alone
      const before = readFileSync(pb.hostsFile, 'utf8');
      const d = await fakeContainer();
      await mgr.prepare(d.id, { mode: 'bridge', name: 'delta', hostname: 'delta' });
      expect(readFileSync(pb.hostsFile, 'utf8')).toBe(before);
      await mgr.release(d.id);
      expect(readFileSync(pb.hostsFile, 'utf8')).toBe(before);
      kill(d.proc);

      // isolation: gamma (other network) reaches its gateway but not alpha or beta, nor they it
      expect(await ping(c.pid, pc.gateway!)).toBe(true);
      expect(await ping(c.pid, pa.ipAddress!)).toBe(false);
      expect(await ping(a.pid, pc.ipAddress!)).toBe(false);

      const info = mgr.inspectNetwork('bridge');
      expect(info.containers[a.id]).toMatchObject({ name: 'alpha', ip: pa.ipAddress, mac: pa.macAddress, veth: N.veth(a.id, 0), attached: true });
      expect(mgr.inspectNetwork('gbt-other').containers[c.id]?.ip).toBe(pc.ipAddress);

      // connect beta to the other network too: now it reaches gamma on eth1; disconnect removes it
      // a user network names every member: gamma's hosts file is rewritten in place (same inode)
      const ino = statSync(pc.hostsFile).ino;
      await mgr.connect('gbt-other', b.id, b.pid);
      const bl = JSON.parse((await inNs(b.pid, ['ip', '-json', 'link'])).out) as { ifname: string }[];
      expect(bl.map((l) => l.ifname)).toContain('eth1');
      expect(await ping(b.pid, pc.ipAddress!)).toBe(true);
      expect(lookup(readFileSync(pc.hostsFile, 'utf8'), 'beta')).toBe(mgr.inspectNetwork('gbt-other').containers[b.id].ip);
      expect(statSync(pc.hostsFile).ino).toBe(ino);
      await expect(mgr.removeNetwork('gbt-other')).rejects.toBeInstanceOf(Conflict);
      await mgr.disconnect('gbt-other', b.id);
      const bl2 = JSON.parse((await inNs(b.pid, ['ip', '-json', 'link'])).out) as { ifname: string }[];
      expect(bl2.map((l) => l.ifname)).not.toContain('eth1');
      expect(lookup(readFileSync(pc.hostsFile, 'utf8'), 'beta')).toBeUndefined();

      // counters and topology see the veths
      const counters = await mgr.counters();
      const hostEnd = counters.find((x) => x.name === N.veth(a.id, 0))!;
      const inside = counters.find((x) => x.kind === 'container' && x.containerId === a.id)!;
      expect(hostEnd.txPackets).toBeGreaterThan(0);
      expect(inside.rxBytes).toBe(hostEnd.txBytes);
      expect(counters.some((x) => x.name === N.bridge && x.kind === 'bridge')).toBe(true);
      const topo = await mgr.topology();
      const def = topo.networks.find((n) => n.bridge === N.bridge)!;
      expect(def.endpoints.map((e) => e.containerId)).toEqual(expect.arrayContaining([a.id, b.id]));
      expect(def.endpoints.find((e) => e.containerId === a.id)?.routes[0]).toBe(`default via ${pa.gateway} dev eth0`);
      expect(topo.veths.find((v) => v.containerId === a.id)).toMatchObject({ containerIf: 'eth0', bridge: N.bridge, present: true });
    } finally {
      for (const x of [a, b, c]) await mgr.release(x.id).catch(() => {});
      for (const x of [a, b, c]) kill(x.proc);
    }
    await mgr.removeNetwork('gbt-other');
    testNetworks.splice(testNetworks.indexOf(net.id), 1);
    expect(gbLinks().filter((l) => l.startsWith(`${N.prefix}r-`))).toEqual([]);
    expect(() => mgr.inspectNetwork('gbt-other')).toThrow(NotFound);
  });

  it('publishes TCP and UDP ports: from the host on 127.0.0.1 and on the gb0 address, and from another container', async () => {
    const web = await fakeContainer();
    const client = await fakeContainer();
    const dir = join(base, 'www');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.html'), 'hello from glassbox\n');
    const hp = await freePort('0.0.0.0');
    const up = await freePort('0.0.0.0');
    try {
      const plan = await mgr.prepare(web.id, {
        mode: 'bridge',
        name: 'web',
        hostname: 'web',
        ports: [
          { hostPort: hp, containerPort: 8080, protocol: 'tcp' },
          { hostPort: up, containerPort: 9053, protocol: 'udp' },
        ],
      });
      await mgr.prepare(client.id, { mode: 'bridge', name: 'client', hostname: 'client' });
      await mgr.attach(web.id, web.pid);
      await mgr.attach(client.id, client.pid);
      spawnIn(web.pid, ['busybox', 'httpd', '-f', '-p', '8080', '-h', dir]);
      spawnIn(web.pid, [process.execPath, '-e', `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(9053)`]);
      // the server is up inside
      expect(await waitFor(async () => (await inNs(client.pid, ['busybox', 'wget', '-q', '-O', '-', `http://${plan.ipAddress}:8080/`])).ok)).toBe(true);

      const gw = mgr.inspectNetwork('bridge').gateway!;
      expect(await httpGet('127.0.0.1', hp)).toBe('hello from glassbox\n'); // userland proxy
      expect(await httpGet(gw, hp)).toBe('hello from glassbox\n'); // DNAT in OUTPUT
      // another container through the host's address on its bridge (proxy: hairpin)
      const viaHost = await inNs(client.pid, ['busybox', 'wget', '-q', '-O', '-', `http://${gw}:${hp}/`]);
      expect(viaHost.out).toContain('hello from glassbox');
      // UDP both ways
      expect(await waitFor(async () => (await udpAsk('127.0.0.1', up, 'ping').catch(() => '')) === 'echo:ping')).toBe(true);
      expect(await udpAsk(gw, up, 'pong')).toBe('echo:pong');

      const rules = await installedRules(CH);
      expect(rules).toContain(`-A ${CH.dnat} ! -i gb+ -p tcp -m tcp --dport ${hp} -j DNAT --to-destination ${plan.ipAddress}:8080`);
      expect(rules).toContain(`-A ${CH.dnat} ! -i gb+ -p udp -m udp --dport ${up} -j DNAT --to-destination ${plan.ipAddress}:9053`);
      const topo = await mgr.topology();
      expect(topo.ports.find((p) => p.hostPort === hp)).toMatchObject({ containerId: web.id, containerPort: 8080, protocol: 'tcp', ip: plan.ipAddress });

      // the same port for another container: Conflict, nothing changed
      const other = await fakeContainer();
      await expect(mgr.prepare(other.id, { mode: 'bridge', name: 'other', hostname: 'other', ports: [{ hostPort: hp, containerPort: 80, protocol: 'tcp' }] })).rejects.toThrow(/port is already allocated to container web/);
      kill(other.proc);

      // detach: rules and proxy gone, lease kept
      await mgr.detach(web.id);
      expect((await installedRules(CH)).some((r) => r.includes(`--dport ${hp}`))).toBe(false);
      await expect(httpGet('127.0.0.1', hp)).rejects.toThrow();
      expect(existsSync(`/sys/class/net/${N.veth(web.id, 0)}`)).toBe(false);
      expect(mgr.inspectNetwork('bridge').containers[web.id]).toMatchObject({ ip: plan.ipAddress, attached: false });
    } finally {
      await mgr.release(web.id).catch(() => {});
      await mgr.release(client.id).catch(() => {});
      kill(web.proc);
      kill(client.proc);
    }
    expect(mgr.inspectNetwork('bridge').containers[web.id]).toBeUndefined();
  });

  it('none has only lo; host joins the host namespace; container:<id> joins another', async () => {
    const n = await fakeContainer();
    const b = await fakeContainer();
    const hostId = randomBytes(32).toString('hex');
    const joinId = randomBytes(32).toString('hex');
    try {
      const pn = await mgr.prepare(n.id, { mode: 'none', name: 'lonely', hostname: 'lonely' });
      expect(pn).toMatchObject({ mode: 'none', newNetns: true });
      expect(pn.ipAddress).toBeUndefined();
      await mgr.attach(n.id, n.pid);
      const links = JSON.parse((await inNs(n.pid, ['ip', '-json', 'addr'])).out) as { ifname: string; flags: string[] }[];
      expect(links.map((l) => l.ifname)).toEqual(['lo']);
      expect(links[0].flags).toContain('UP');
      expect(readFileSync(pn.resolvConf, 'utf8')).not.toMatch(/^nameserver/m);
      expect(gbLinks().some((l) => l.startsWith(N.veth(n.id, 0)))).toBe(false);

      const ph = await mgr.prepare(hostId, { mode: 'host', name: 'hosty', hostname: 'hosty', ports: [{ hostPort: 1, containerPort: 1, protocol: 'tcp' }] });
      expect(ph).toMatchObject({ mode: 'host', newNetns: false });
      expect(ph.ports).toEqual([]); // ignored, as Docker does
      expect(await mgr.attach(hostId, process.pid)).toEqual([]);
      // the host's interfaces are what a host-mode container sees: its namespace is ours
      expect(readlinkSync(`/proc/${process.pid}/ns/net`)).toBe(selfNet);

      const pb = await mgr.prepare(b.id, { mode: 'bridge', name: 'base', hostname: 'base' });
      await mgr.attach(b.id, b.pid);
      const pj = await mgr.prepare(joinId, { mode: `container:${b.id.slice(0, 12)}`, name: 'sidecar', hostname: 'sidecar' });
      expect(pj).toMatchObject({ mode: 'container', newNetns: false, joinContainer: b.id, hostsFile: pb.hostsFile });
      await expect(mgr.prepare(joinId, { mode: `container:${b.id}`, name: 'sidecar', hostname: 'sidecar', ports: [{ hostPort: 9, containerPort: 9, protocol: 'tcp' }] })).rejects.toBeInstanceOf(InvalidArgument);
    } finally {
      for (const id of [n.id, b.id, hostId, joinId]) await mgr.release(id).catch(() => {});
      kill(n.proc);
      kill(b.proc);
    }
  });

  it('bad input gets a clear error and changes nothing: overlapping subnet, port in use, unknown network', async () => {
    const def = mgr.inspectNetwork('bridge');
    const before = mgr.listNetworks().length;
    await expect(mgr.createNetwork({ name: 'gbt-overlap', subnet: def.subnet })).rejects.toThrow(/overlaps with network bridge/);
    await expect(mgr.createNetwork({ name: 'gbt-overlap', subnet: def.subnet!.replace(/\/\d+$/, '/24') })).rejects.toBeInstanceOf(InvalidArgument);
    // a route of the host (the uplink's subnet, when there is one)
    const hostRoute = (JSON.parse(execFileSync('ip', ['-json', '-4', 'route'], { encoding: 'utf8' })) as { dst: string; dev: string }[]).find((r) => r.dst !== 'default' && r.dst.includes('/') && !r.dev.startsWith('gb'));
    if (hostRoute) await expect(mgr.createNetwork({ name: 'gbt-overlap', subnet: hostRoute.dst })).rejects.toThrow(/overlaps with the host's/);
    await expect(mgr.createNetwork({ name: 'gbt-bad', subnet: '10.99.0.1/24' })).rejects.toThrow(/host bits/);
    await expect(mgr.createNetwork({ name: 'gbt-bad', subnet: '10.99.0.0/24', gateway: '10.98.0.1' })).rejects.toThrow(/not inside/);
    await expect(mgr.createNetwork({ name: 'bad name!' })).rejects.toBeInstanceOf(InvalidArgument);
    await expect(mgr.removeNetwork('bridge')).rejects.toBeInstanceOf(InvalidArgument);
    expect(mgr.listNetworks().length).toBe(before);
    expect(gbLinks().filter((l) => l.startsWith(`${N.prefix}r-`))).toEqual([]);

    // unknown network
    const id = randomBytes(32).toString('hex');
    await expect(mgr.prepare(id, { mode: 'no-such-net', name: 'x', hostname: 'x' })).rejects.toThrow(NotFound);
    await expect(mgr.prepare(id, { mode: 'no-such-net', name: 'x', hostname: 'x' })).rejects.toThrow(/network no-such-net not found/);
    expect(() => mgr.inspectNetwork('no-such-net')).toThrow(NotFound);
    await expect(mgr.removeNetwork('no-such-net')).rejects.toBeInstanceOf(NotFound);
    await expect(mgr.connect('no-such-net', id, null)).rejects.toBeInstanceOf(NotFound);

    // a port a host program listens on
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(mgr.prepare(id, { mode: 'bridge', name: 'x', hostname: 'x', ports: [{ hostPort: port, containerPort: 80, protocol: 'tcp' }] })).rejects.toThrow(/already in use/);
      await expect(mgr.prepare(id, { mode: 'bridge', name: 'x', hostname: 'x', ports: [{ hostPort: 70000, containerPort: 80, protocol: 'tcp' }] })).rejects.toBeInstanceOf(InvalidArgument);
    } finally {
      server.close();
    }
    expect(mgr.inspectNetwork('bridge').containers[id]).toBeUndefined();
    expect(existsSync(mgr.hostsFilePath(id))).toBe(false);
  });

  it('a container connected to a network before its first start gets eth0 on bridge and eth1 on that network', async () => {
    const c = await fakeContainer();
    const net = await mgr.createNetwork({ name: 'gbt-early', subnet: '10.98.7.0/24', gateway: '10.98.7.254' });
    testNetworks.push(net.id);
    try {
      await mgr.connect('gbt-early', c.id, null);
      expect(mgr.inspectNetwork('gbt-early').containers[c.id]).toMatchObject({ attached: false, ip: '10.98.7.1' });
      const plan = await mgr.prepare(c.id, { mode: 'bridge', name: 'early', hostname: 'early' });
      expect(plan.networkName).toBe('bridge');
      await mgr.attach(c.id, c.pid);
      const links = JSON.parse((await inNs(c.pid, ['ip', '-json', 'addr'])).out) as { ifname: string; addr_info: { family: string; local: string }[] }[];
      const addr = (n: string) => links.find((l) => l.ifname === n)?.addr_info.find((a) => a.family === 'inet')?.local;
      expect(addr('eth0')).toBe(plan.ipAddress);
      expect(addr('eth1')).toBe('10.98.7.1');
      const routes = JSON.parse((await inNs(c.pid, ['ip', '-json', 'route'])).out) as { dst: string; gateway?: string; dev: string }[];
      expect(routes.find((r) => r.dst === 'default')).toMatchObject({ gateway: plan.gateway, dev: 'eth0' });
      expect(await ping(c.pid, '10.98.7.254')).toBe(true);
      // leaving the first network moves the default route to the next one
      const vethBridge = mgr.inspectNetwork('bridge').containers[c.id].veth;
      await mgr.disconnect('bridge', c.id);
      const after = JSON.parse((await inNs(c.pid, ['ip', '-json', 'route'])).out) as { dst: string; gateway?: string; dev: string }[];
      expect(after.find((r) => r.dst === 'default')).toMatchObject({ gateway: '10.98.7.254', dev: 'eth1' });
      expect(existsSync(`/sys/class/net/${vethBridge}`)).toBe(false);
      expect(mgr.inspectNetwork('bridge').containers[c.id]).toBeUndefined();
    } finally {
      await mgr.release(c.id).catch(() => {});
      kill(c.proc);
      await mgr.removeNetwork(net.id).catch(() => {});
      testNetworks.splice(testNetworks.indexOf(net.id), 1);
    }
  });

  it('50 attach/detach/release cycles leave no veth, lease, rule or netns name', async () => {
    const seen = new Set<string>();
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) {
      const c = await fakeContainer();
      try {
        const hp = 20000 + (i % 5);
        const plan = await mgr.prepare(c.id, { mode: 'bridge', name: `cycle${i}`, hostname: `cycle${i}`, ports: [{ hostPort: hp, containerPort: 80, protocol: 'tcp' }] });
        seen.add(plan.ipAddress!);
        await mgr.attach(c.id, c.pid);
        expect(existsSync(`/sys/class/net/${N.veth(c.id, 0)}`)).toBe(true);
        await mgr.detach(c.id);
        await mgr.release(c.id);
      } finally {
        kill(c.proc);
      }
    }
    const ms = performance.now() - t0;
    console.log(`50 cycles: ${ms.toFixed(0)} ms (${(ms / 50).toFixed(1)} ms each, including unshare)`);
    expect(seen.size).toBe(50); // round-robin: no address handed out twice in a row
    expect(gbLinks().filter((l) => N.vethRe.test(l))).toEqual([]);
    expect(Object.keys(mgr.inspectNetwork('bridge').containers)).toEqual([]);
    expect(readLeases(join(root, 'network'))).toEqual({});
    expect(readdirSync(join(root, 'network', 'files'))).toEqual([]);
    const rules = await installedRules(CH);
    expect(rules.filter((r) => r.includes('DNAT') || r.includes('--dport'))).toEqual([]);
    expect(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => N.netnsRe.test(n)) : []).toEqual([]);
  });

  it('sweep after a crash: a new manager on the same root removes what dead containers left', async () => {
    const a = await fakeContainer();
    const b = await fakeContainer();
    const pa = await mgr.prepare(a.id, { mode: 'bridge', name: 'survivor', hostname: 'survivor' });
    await mgr.prepare(b.id, { mode: 'bridge', name: 'ghost', hostname: 'ghost', ports: [{ hostPort: await freePort('0.0.0.0'), containerPort: 80, protocol: 'tcp' }] });
    await mgr.attach(a.id, a.pid);
    await mgr.attach(b.id, b.pid);
    // "crash": the old manager is dropped without detach/release (its proxies closed as a dying process would)
    await mgr.close();
    const again = new NetworkManager({ root, runRoot: join(base, 'run') });
    await again.init();
    mgr = again;
    try {
      expect(mgr.inspectNetwork('bridge').containers[b.id]).toBeDefined();
      await mgr.sweep(new Set([a.id]));
      expect(mgr.inspectNetwork('bridge').containers[b.id]).toBeUndefined();
      expect(existsSync(`/sys/class/net/${N.veth(b.id, 0)}`)).toBe(false);
      expect(existsSync(`/sys/class/net/${N.veth(a.id, 0)}`)).toBe(true);
      expect((await installedRules(CH)).some((r) => r.includes('DNAT'))).toBe(false);
      expect(readFileSync(pa.hostsFile, 'utf8')).not.toContain('ghost');
      expect(await ping(a.pid, pa.gateway!)).toBe(true);
    } finally {
      await mgr.release(a.id).catch(() => {});
      await mgr.release(b.id).catch(() => {});
      kill(a.proc);
      kill(b.proc);
    }
  });
});

describe('ip -batch', () => {
  it('runs the commands in one process and names the one that failed', async () => {
    const a = await fakeContainer();
    try {
      const steps: { step: string; call?: string }[] = [];
      // inside a namespace of our own: lo up works, a link that does not exist fails on line 2
      const err = await ipBatch(
        [
          { args: ['link', 'set', 'lo', 'up'], step: 'lo-up' },
          { args: ['link', 'set', 'gbnope0', 'up'], step: 'missing' },
          { args: ['link', 'set', 'lo', 'down'], step: 'never-run' },
        ],
        { pid: a.pid, rec: (s) => steps.push(s) },
      ).catch((e: Error) => e);
      expect(err).toBeInstanceOf(CommandError);
      expect((err as CommandError).call).toBe(`nsenter --net=/proc/${a.pid}/ns/net ip link set gbnope0 up`);
      expect((err as CommandError).message).toMatch(/gbnope0/);
      expect(steps).toEqual([]); // a failed run records nothing
      // the batch stopped there: lo is up, not down again
      expect(JSON.parse((await inNs(a.pid, ['ip', '-json', 'link', 'show', 'lo'])).out)[0].flags).toContain('UP');
      // an argument that a batch line would split is refused before anything runs
      await expect(ipBatch([{ args: ['link', 'set', 'a b', 'up'], step: 'x' }], { pid: a.pid })).rejects.toThrow(/cannot carry/);
      // and a good run records every command with its share of the time
      await ipBatch([{ args: ['link', 'set', 'lo', 'up'], step: 'lo-up' }, { args: ['addr', 'show', 'lo'], step: 'show' }], { pid: a.pid, rec: (s) => steps.push(s) });
      expect(steps.map((s) => s.step)).toEqual(['lo-up', 'show']);
      expect(steps[0].call).toBe(`nsenter --net=/proc/${a.pid}/ns/net ip link set lo up`);
    } finally {
      kill(a.proc);
    }
  });
});
