// The real docker CLI (28.x) and raw requests on the socket against Glassbox for issue #18's
// "Behaviour that breaks real clients" and "Options": unknown body fields ignored, attach without
// an upgrade, logs?tail=-1, kill then rm, swarm 503, network create with Attachable and a null
// gateway, --ip/--network-alias/--mac-address/--link/--add-host/--dns, a published port released
// at exit, diff without the mounted /etc files, load of a bad tar, save by id, commit without a
// repository, rm of a restarting container, commit racing an exit; healthchecks, --stop-signal,
// --stop-timeout, --group-add, --cpuset-cpus, --memory-reservation, --memory-swappiness,
// --blkio-weight, --device, --sysctl. The engine runs in this process with networking (the run's
// prefix); traffic stays between namespaces this test made and 127.0.0.1.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { freePort, requireHost } from '../helpers.js';
import { closeDockerEnv, DOCKER, dockerClient, type DockerTestEnv, dockerTty, gbLinks, noLeftoverLinks, openDockerEnv, socketRequest } from './docker-support.js';

const runFile = promisify(execFile);

requireHost('docker-options e2e', {
  root: true,
  binaries: [DOCKER],
  check: noLeftoverLinks,
});

let env: DockerTestEnv | undefined;
let base = '';
let sock = '';
let engine: Engine | undefined;
const { docker, ok } = dockerClient(() => sock, { timeoutMs: 90_000 });

async function fails(...args: string[]): Promise<string> {
  const r = await docker(...args);
  if (r.code === 0) throw new Error(`docker ${args.join(' ')} succeeded, a failure was expected: ${r.out}`);
  return r.err;
}

const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};


const inspect = async (name: string) => JSON.parse(await ok('inspect', name))[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A file of the container's cgroup (v1: in whichever hierarchy has it; v2: its one directory). */
function cgroupFile(name: string, file: string): string | null {
  for (const d of Object.values(engine!.get(name).paths.cgroups)) if (existsSync(join(d, file))) return readFileSync(join(d, file), 'utf8').trim();
  return null;
}

describe('docker options and client behaviour against Glassbox', () => {
  beforeAll(async () => {
    env = await openDockerEnv('gbopt-', { network: true });
    ({ base, engine, sock } = env);
  }, 120_000);

  afterAll(async () => {
    const left = await closeDockerEnv(env);
    expect(left).toEqual({ containers: 0, mounts: [] });
    expect(gbLinks()).toEqual([]);
  }, 120_000);

  describe('behaviour that broke real clients', () => {
    it('a create body with fields Docker does not know is taken; a known option it cannot honour is refused by name', async () => {
      const body = { Image: 'base', Cmd: ['true'], name: 'in-the-body', Runtime: 'builtin', SomethingNew: { x: 1 }, HostConfig: { NotAField: true } };
      const r = await socketRequest(sock, 'POST', '/v1.47/containers/create?name=gbo-unknown', JSON.stringify(body));
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      expect(engine!.get('gbo-unknown').name).toBe('gbo-unknown');
      const refused = await socketRequest(sock, 'POST', '/v1.47/containers/create', JSON.stringify({ Image: 'base', Cmd: ['true'], HostConfig: { VolumeDriver: 'x' } }));
      expect(refused).toMatchObject({ status: 400, json: { message: 'glassbox: --volume-driver is not supported' } });
      await ok('rm', 'gbo-unknown');
    });

    it('attach without an upgrade answers its headers at once: attach, then start, then the output', async () => {
      await ok('create', '--name', 'gbo-attach', 'base', 'sh', '-c', 'echo attached-output');
      const got = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const req = request({ socketPath: sock, method: 'POST', path: '/v1.47/containers/gbo-attach/attach?stream=1&stdout=1&stderr=1' }, (res) => {
          // the headers came before the container started: only now is it started
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          void socketRequest(sock, 'POST', '/v1.47/containers/gbo-attach/start').catch(reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(got.status).toBe(200);
      // one stdout frame: [1,0,0,0, size] + the text
      expect(got.body[0]).toBe(1);
      expect(got.body.subarray(8).toString()).toBe('attached-output\n');
      // the stream ends when the container's output does; its exit is recorded just after (a
      // client that removes it waits for that, as `docker run` does)
      expect((await ok('wait', 'gbo-attach')).trim()).toBe('0');
      await ok('rm', 'gbo-attach');
    });

    it('logs?tail=-1 is every line (Testcontainers sends it); tail=1 the last', async () => {
      await ok('run', '--name', 'gbo-logs', 'base', 'sh', '-c', 'echo one; echo two');
      const all = await socketRequest(sock, 'GET', '/v1.47/containers/gbo-logs/logs?stdout=1&tail=-1');
      expect(all.status).toBe(200);
      expect(String(all.json)).toContain('one');
      expect(String(all.json)).toContain('two');
      expect(await ok('logs', '--tail', '1', 'gbo-logs')).toBe('two\n');
      expect((await socketRequest(sock, 'GET', '/v1.47/containers/gbo-logs/logs?stdout=1&tail=x')).status).toBe(400);
      await ok('rm', 'gbo-logs');
    });

    it('kill answers once the container is dead: inspect right after says exited, rm right after works', async () => {
      for (let i = 0; i < 3; i++) {
        await ok('run', '-d', '--name', 'gbo-kill', 'base', 'sleep', '60');
        await ok('kill', 'gbo-kill');
        expect((await ok('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'gbo-kill')).trim()).toBe('exited 137');
        await ok('rm', 'gbo-kill');
      }
    });

    it('detach keys: ctrl-p ctrl-q (and --detach-keys) leave attach and exec, the container runs on', async () => {
      await ok('run', '-dit', '--name', 'gbo-detach', 'base', 'sh');
      const a = await dockerTty(sock, ['attach', 'gbo-detach'], ['echo still-here\r', '\x10\x11']);
      expect(a.out).toMatch(/read escape sequence/);
      expect((await ok('inspect', '-f', '{{.State.Running}}', 'gbo-detach')).trim()).toBe('true');
      const b = await dockerTty(sock, ['attach', '--detach-keys', 'ctrl-x,x', 'gbo-detach'], ['\x18x']);
      expect(b.out).toMatch(/read escape sequence/);
      const e = await dockerTty(sock, ['exec', '-it', 'gbo-detach', 'sh', '-c', 'echo in-exec; exec sleep 30'], ['\x10\x11']);
      expect(e.out).toMatch(/read escape sequence/);
      expect((await ok('top', 'gbo-detach'))).toMatch(/sleep 30/);
      expect(await fails('exec', '--detach-keys', 'ctrl-', 'gbo-detach', 'true')).toMatch(/detach|escape/i);
      // without a TTY stdin is data: ctrl-p ctrl-q bytes in it (as in a piped tar) go through
      const piped = await new Promise<string>((resolve, reject) => {
        const p = spawn(DOCKER, ['-H', `unix://${sock}`, 'exec', '-i', 'gbo-detach', 'od', '-An', '-tx1'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('error', reject);
        p.on('close', () => resolve(out.replace(/\s+/g, ' ').trim()));
        p.stdin.end(Buffer.from([0x61, 0x10, 0x11, 0x62]));
      });
      expect(piped).toBe('61 10 11 62');
      // exec -t: the pty's ONLCR gives \r\n, as Docker's does
      expect(await ok('exec', '-t', 'gbo-detach', 'printf', 'a\\nb\\n')).toBe('a\r\nb\r\n');
      await ok('rm', '-f', 'gbo-detach');
    }, 60_000);

    it('swarm endpoints answer 503 as a Docker daemon outside a swarm does', async () => {
      const info = await socketRequest(sock, 'GET', '/v1.47/swarm');
      expect(info).toMatchObject({ status: 503, json: { message: 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.' } });
      expect(await socketRequest(sock, 'POST', '/v1.47/swarm/leave?force=1')).toMatchObject({ status: 503, json: { message: 'This node is not part of a swarm' } });
      expect((await socketRequest(sock, 'GET', '/v1.47/services')).status).toBe(503);
      expect(await fails('service', 'ls')).toMatch(/not a swarm manager/);
    });

    it('network create with Attachable and a null gateway; --ip, --network-alias, --mac-address, --link, --add-host, --dns', async () => {
      const r = await socketRequest(sock, 'POST', '/v1.47/networks/create', JSON.stringify({ Name: 'gbo-net', Attachable: true, IPAM: { Driver: 'default', Config: [{ Subnet: '10.217.5.0/24', Gateway: null }], Options: null } }));
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      await ok('run', '-d', '--name', 'gbo-web', '--network', 'gbo-net', '--ip', '10.217.5.50', '--network-alias', 'web-alias', '--mac-address', '02:42:0a:d9:05:32', 'base', 'sleep', '60');
      const addr = await ok('exec', 'gbo-web', 'ip', 'addr', 'show', 'eth0');
      expect(addr).toContain('inet 10.217.5.50/24');
      expect(addr).toContain('link/ether 02:42:0a:d9:05:32');
      await ok('run', '-d', '--name', 'gbo-cli', '--network', 'gbo-net', '--add-host', 'db.example:10.1.2.3', '--dns', '10.217.5.53', '--dns-search', 'example.test', 'base', 'sleep', '60');
      const hosts = await ok('exec', 'gbo-cli', 'cat', '/etc/hosts');
      expect(hosts).toMatch(/^10\.217\.5\.50\t.*\bweb-alias\b/m);
      expect(hosts).toMatch(/^10\.1\.2\.3\tdb\.example$/m);
      expect(await ok('exec', 'gbo-cli', 'ping', '-c', '1', '-W', '2', 'web-alias')).toMatch(/1 packets received/);
      const resolv = await ok('exec', 'gbo-cli', 'cat', '/etc/resolv.conf');
      expect(resolv).toMatch(/^nameserver 10\.217\.5\.53$/m);
      expect(resolv).toMatch(/^search example\.test$/m);
      // network connect --alias --ip (what compose sends for a second network)
      await ok('network', 'create', '--subnet', '10.217.8.0/24', 'gbo-net2');
      await ok('network', 'connect', '--alias', 'second-name', '--ip', '10.217.8.77', 'gbo-net2', 'gbo-web');
      expect(await ok('exec', 'gbo-web', 'ip', 'addr')).toContain('inet 10.217.8.77/24');
      await ok('network', 'connect', 'gbo-net2', 'gbo-cli');
      expect(await ok('exec', 'gbo-cli', 'cat', '/etc/hosts')).toMatch(/^10\.217\.8\.77\t.*\bsecond-name\b/m);
      await ok('network', 'disconnect', 'gbo-net2', 'gbo-web');
      await ok('network', 'disconnect', 'gbo-net2', 'gbo-cli');
      await ok('network', 'rm', 'gbo-net2');
      // --link on the default bridge: the alias names the other container
      await ok('run', '-d', '--name', 'gbo-a', 'base', 'sleep', '60');
      await ok('run', '-d', '--name', 'gbo-b', '--link', 'gbo-a:alpha', 'base', 'sleep', '60');
      expect(await ok('exec', 'gbo-b', 'cat', '/etc/hosts')).toMatch(/\balpha\b.*\bgbo-a\b/);
      // bad input: named, nothing made
      expect(await fails('run', '--name', 'gbo-badip', '--network', 'gbo-net', '--ip', '10.99.0.1', 'base', 'true')).toMatch(/--ip 10\.99\.0\.1: not a host address/);
      expect(await fails('run', '--name', 'gbo-takenip', '--network', 'gbo-net', '--ip', '10.217.5.50', 'base', 'true')).toMatch(/--ip 10\.217\.5\.50: Address already in use/);
      expect(await fails('run', '--rm', '--ip', '172.17.0.99', 'base', 'true')).toMatch(/user defined networks only/);
      expect(await fails('run', '--rm', '--add-host', 'bad', 'base', 'true')).toMatch(/add-host/);
      await ok('rm', '-f', 'gbo-web', 'gbo-cli', 'gbo-a', 'gbo-b', 'gbo-badip', 'gbo-takenip');
      await ok('network', 'rm', 'gbo-net');
    }, 120_000);

    it('network create --internal (nothing forwarded out, no MASQUERADE) and --ip-range', async () => {
      await ok('network', 'create', '--internal', '--subnet', '10.217.6.0/24', '--ip-range', '10.217.6.128/26', 'gbo-int');
      const j = JSON.parse(await ok('network', 'inspect', 'gbo-int'))[0];
      expect(j).toMatchObject({ Internal: true, IPAM: { Config: [{ Subnet: '10.217.6.0/24', IPRange: '10.217.6.128/26' }] } });
      const bridge = j.Options['com.docker.network.bridge.name'] as string;
      await ok('run', '-d', '--name', 'gbo-i1', '--network', 'gbo-int', 'base', 'sleep', '60');
      await ok('run', '-d', '--name', 'gbo-i2', '--network', 'gbo-int', 'base', 'sleep', '60');
      const ip1 = (await ok('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'gbo-i1')).trim();
      const last = Number(ip1.split('.')[3]);
      expect(last >= 128 && last <= 191).toBe(true);
      expect(await ok('exec', 'gbo-i2', 'ping', '-c', '1', '-W', '2', 'gbo-i1')).toMatch(/1 packets received/);
      const rules = (await runFile('iptables-save')).stdout;
      expect(rules).toContain(`-i ${bridge} -j DROP`);
      expect(rules).not.toContain(`-i ${bridge} -j ACCEPT\n`);
      expect(rules).not.toMatch(new RegExp(`-s 10\\.217\\.6\\.0/24 .*MASQUERADE`));
      // (the CLI checks this one itself: the server's own check, by a raw request)
      const bad = await socketRequest(sock, 'POST', '/v1.47/networks/create', JSON.stringify({ Name: 'gbo-bad', IPAM: { Config: [{ Subnet: '10.217.7.0/24', IPRange: '10.218.0.0/26' }] } }));
      expect(bad).toMatchObject({ status: 400, json: { message: '--ip-range 10.218.0.0/26 is not inside the subnet 10.217.7.0/24' } });
      await ok('rm', '-f', 'gbo-i1', 'gbo-i2');
      await ok('network', 'rm', 'gbo-int');
    }, 60_000);

    it('a published port is released when its container exits', async () => {
      const port = await freePort();
      await ok('run', '--name', 'gbo-port1', '-p', `127.0.0.1:${port}:80`, 'base', 'true');
      // the first is exited and still exists: its port is free for another
      await ok('run', '-d', '--name', 'gbo-port2', '-p', `127.0.0.1:${port}:80`, 'base', 'sleep', '60');
      expect(await fails('run', '-d', '--name', 'gbo-port3', '-p', `127.0.0.1:${port}:80`, 'base', 'sleep', '60')).toMatch(/already allocated/);
      await ok('rm', '-f', 'gbo-port1', 'gbo-port2', 'gbo-port3');
      // and a server on the host holds it: refused by the kernel's own answer
      const srv = createServer();
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
      try {
        expect((await docker('run', '--rm', '-p', `127.0.0.1:${port}:80`, 'base', 'true')).code).not.toBe(0);
      } finally {
        await new Promise<void>((r) => srv.close(() => r()));
      }
    }, 60_000);

    it('diff leaves out /etc/hostname, hosts and resolv.conf (and /etc when nothing else changed in it)', async () => {
      await ok('run', '--name', 'gbo-diff', 'base', 'sh', '-c', 'echo x > /tmp/made');
      const diff = await ok('diff', 'gbo-diff');
      expect(diff).toMatch(/^A \/tmp\/made$/m);
      expect(diff).not.toMatch(/\/etc/);
      await ok('run', '--name', 'gbo-diff2', 'base', 'sh', '-c', 'echo y > /etc/mine');
      expect(await ok('diff', 'gbo-diff2')).toMatch(/^C \/etc$[\s\S]*^A \/etc\/mine$/m);
      await ok('rm', 'gbo-diff', 'gbo-diff2');
    });

    it('load of a bad tar is an error line in the JSON stream; save by id writes no tags; commit without a repository is <none>:<none>', async () => {
      const bad = join(base, 'bad.tar');
      writeFileSync(bad, 'this is not a tar archive at all\n'.repeat(100));
      const r = await docker('load', '-i', bad);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/tar|archive|image/i);
      const raw = await socketRequest(sock, 'POST', '/v1.47/images/load', 'garbage');
      expect(raw.status).toBe(200);
      expect(String(JSON.stringify(raw.json))).toMatch(/error/);

      await ok('run', '--name', 'gbo-commit', 'base', 'sh', '-c', 'echo c > /committed');
      const id = (await ok('commit', 'gbo-commit')).trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      const row = (await ok('images', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}')).split('\n').find((l) => l.endsWith(id));
      expect(row).toBe(`<none>:<none> ${id}`);
      expect((await ok('images', '-q', '--no-trunc', '--filter', 'dangling=true')).split('\n')).toContain(id);
      // another image's removal does not take the dangling one with it
      await ok('tag', 'base', 'gbopt-tmp:1');
      await ok('rmi', 'gbopt-tmp:1');
      expect(await ok('run', '--rm', id, 'cat', '/committed')).toBe('c\n');

      const out = join(base, 'byid.tar');
      await ok('save', '-o', out, id);
      const { stdout } = await runFile('tar', ['-xOf', out, 'manifest.json']);
      const manifest = JSON.parse(stdout) as { RepoTags: string[] | null }[];
      expect(manifest).toHaveLength(1);
      expect(manifest[0].RepoTags ?? []).toEqual([]);
      await ok('rm', 'gbo-commit');
      await ok('rmi', id);
    }, 60_000);

    it('rm of a restarting container without force is a 409; with -f it goes', async () => {
      await ok('run', '-d', '--name', 'gbo-restart', '--restart', 'always', 'base', 'sh', '-c', 'exit 1');
      await waitFor('restarting', async () => (await ok('inspect', '-f', '{{.State.Status}}', 'gbo-restart')).trim() === 'restarting');
      const r = await socketRequest(sock, 'DELETE', '/v1.47/containers/gbo-restart');
      if ((await ok('inspect', '-f', '{{.State.Status}}', 'gbo-restart')).trim() === 'restarting' || r.status === 409) {
        expect(r.status).toBe(409);
        expect(JSON.stringify(r.json)).toMatch(/restarting/);
      }
      await ok('rm', '-f', 'gbo-restart');
    }, 60_000);

    it('a commit racing the container exit is a clean answer, never a 500 about a missing cgroup', async () => {
      for (let i = 0; i < 4; i++) {
        await ok('run', '-d', '--name', `gbo-race${i}`, 'base', 'sh', '-c', 'sleep 0.0$RANDOM');
        const r = await socketRequest(sock, 'POST', `/v1.47/commit?container=gbo-race${i}`, '{}');
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        await ok('rm', '-f', `gbo-race${i}`);
        await ok('rmi', (r.json as { Id: string }).Id);
      }
    }, 60_000);
  });

  describe('options', () => {
    it('healthchecks: starting → healthy → unhealthy in inspect, ps and events; --no-healthcheck', async () => {
      const since = Math.floor(Date.now() / 1000) - 1;
      await ok('run', '-d', '--name', 'gbo-health', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-timeout', '2s', '--health-retries', '2', 'base', 'sleep', '60');
      expect((await inspect('gbo-health')).Config.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 200e6, Retries: 2 });
      await waitFor('unhealthy', async () => (await ok('inspect', '-f', '{{.State.Health.Status}}', 'gbo-health')).trim() === 'unhealthy');
      expect(await ok('ps', '--filter', 'name=gbo-health', '--format', '{{.Status}}')).toMatch(/\(unhealthy\)/);
      await ok('exec', 'gbo-health', 'touch', '/tmp/ok');
      await waitFor('healthy', async () => (await ok('inspect', '-f', '{{.State.Health.Status}}', 'gbo-health')).trim() === 'healthy');
      const h = (await inspect('gbo-health')).State.Health;
      expect(h.FailingStreak).toBe(0);
      expect(h.Log.at(-1)).toMatchObject({ ExitCode: 0 });
      expect(await ok('ps', '--filter', 'name=gbo-health', '--format', '{{.Status}}')).toMatch(/\(healthy\)/);
      const ev = await ok('events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=gbo-health', '--format', '{{.Action}}');
      expect(ev).toContain('health_status: unhealthy');
      expect(ev).toContain('health_status: healthy');
      await ok('run', '-d', '--name', 'gbo-nohealth', '--no-healthcheck', 'base', 'sleep', '60');
      expect((await inspect('gbo-nohealth')).State.Health).toBeUndefined();
      expect(await fails('run', '--rm', '--health-cmd', 'true', '--health-retries', '-1', 'base', 'true')).toMatch(/retries/);
      await ok('rm', '-f', 'gbo-health', 'gbo-nohealth');
    }, 90_000);

    it('--stop-signal and --stop-timeout', async () => {
      await ok('run', '-d', '--name', 'gbo-sig', '--stop-signal', 'SIGUSR1', 'base', 'sh', '-c', "trap 'echo got-usr1; exit 0' USR1; echo ready; while true; do sleep 0.1; done");
      await waitFor('ready', async () => (await ok('logs', 'gbo-sig')).includes('ready'));
      await ok('stop', 'gbo-sig');
      expect(await ok('logs', 'gbo-sig')).toContain('got-usr1');
      expect((await inspect('gbo-sig')).Config.StopSignal).toBe('SIGUSR1');
      await ok('run', '-d', '--name', 'gbo-timeout', '--stop-timeout', '1', 'base', 'sh', '-c', "trap '' TERM; echo ready; while true; do sleep 0.1; done");
      await waitFor('ready', async () => (await ok('logs', 'gbo-timeout')).includes('ready'));
      await ok('stop', 'gbo-timeout');
      expect((await ok('inspect', '-f', '{{.State.ExitCode}} {{.Config.StopTimeout}}', 'gbo-timeout')).trim()).toBe('137 1');
      expect(await fails('run', '--rm', '--stop-signal', 'SIGNOPE', 'base', 'true')).toMatch(/--stop-signal: invalid signal "SIGNOPE"/);
      await ok('rm', '-f', 'gbo-sig', 'gbo-timeout');
    }, 60_000);

    it('--group-add, --device (an allowlist), --sysctl (namespaced ones only)', async () => {
      expect((await ok('run', '--rm', '--group-add', '1234', '--group-add', '5678', 'base', 'id', '-G')).trim().split(' ')).toEqual(expect.arrayContaining(['1234', '5678']));
      expect(await fails('run', '--rm', '--group-add', 'no-such-group', 'base', 'true')).toMatch(/--group-add no-such-group/);
      expect((await ok('run', '--rm', '--device', '/dev/urandom:/dev/myrand', 'base', 'sh', '-c', 'head -c 4 /dev/myrand | wc -c')).trim()).toBe('4');
      expect(await fails('run', '--rm', '--device', '/dev/mem', 'base', 'true')).toMatch(/--device \/dev\/mem: not allowed/);
      const hostPortStart = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim();
      expect((await ok('run', '--rm', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=99', 'base', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start')).trim()).toBe('99');
      expect((await ok('run', '--rm', '--sysctl', 'kernel.shmmax=12345678', 'base', 'cat', '/proc/sys/kernel/shmmax')).trim()).toBe('12345678');
      expect(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim()).toBe(hostPortStart);
      expect(await fails('run', '--rm', '--sysctl', 'kernel.panic=1', 'base', 'true')).toMatch(/kernel\.panic=1' is not allowed/); // the CLI's own check
      const raw = await socketRequest(sock, 'POST', '/v1.47/containers/create', JSON.stringify({ Image: 'base', Cmd: ['true'], HostConfig: { Sysctls: { 'kernel.panic': '1' } } }));
      expect(raw.status).toBe(400);
      expect((raw.json as { message: string }).message).toMatch(/^--sysctl kernel\.panic: not allowed/);
      expect(await fails('run', '--rm', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'base', 'true')).toMatch(/host's network namespace/);
    }, 60_000);

    it('--cpuset-cpus, --memory-reservation, --blkio-weight, --memory-swappiness and --oom-kill-disable (v1 only)', async () => {
      const v2 = engine!.info().cgroupVersion === 2;
      await ok('run', '-d', '--name', 'gbo-lim', '--cpuset-cpus', '0', '--memory-reservation', '32m', '-m', '128m', 'base', 'sleep', '60');
      expect(cgroupFile('gbo-lim', 'cpuset.cpus')).toBe('0');
      expect(cgroupFile('gbo-lim', v2 ? 'memory.low' : 'memory.soft_limit_in_bytes')).toBe(String(32 << 20));
      expect((await inspect('gbo-lim')).HostConfig).toMatchObject({ CpusetCpus: '0', MemoryReservation: 32 << 20 });
      await ok('rm', '-f', 'gbo-lim');
      if (v2) {
        expect(await fails('run', '--rm', '--memory-swappiness', '10', 'base', 'true')).toMatch(/--memory-swappiness is not supported on cgroup v2/);
        expect(await fails('run', '--rm', '-m', '64m', '--oom-kill-disable', 'base', 'true')).toMatch(/--oom-kill-disable is not supported on cgroup v2/);
      } else {
        await ok('run', '-d', '--name', 'gbo-v1', '-m', '64m', '--memory-swappiness', '10', '--oom-kill-disable', 'base', 'sleep', '60');
        expect(cgroupFile('gbo-v1', 'memory.swappiness')).toBe('10');
        expect(cgroupFile('gbo-v1', 'memory.oom_control')).toMatch(/oom_kill_disable 1/);
        await ok('rm', '-f', 'gbo-v1');
      }
      const r = await docker('run', '-d', '--name', 'gbo-blkio', '--blkio-weight', '300', 'base', 'sleep', '60');
      if (r.code === 0) {
        const w = cgroupFile('gbo-blkio', 'io.bfq.weight') ?? cgroupFile('gbo-blkio', 'blkio.bfq.weight') ?? cgroupFile('gbo-blkio', 'io.weight') ?? cgroupFile('gbo-blkio', 'blkio.weight');
        expect(w).toMatch(/300|default 2021/);
      } else {
        // a host without a weight-based I/O scheduler: said by name
        expect(r.err).toMatch(/--blkio-weight: this host has no weight-based I\/O control/);
      }
      await ok('rm', '-f', 'gbo-blkio');
      expect(await fails('run', '--rm', '--blkio-weight', '5', 'base', 'true')).toMatch(/blkio-weight/);
      expect(await fails('run', '--rm', '--cpuset-cpus', 'abc', 'base', 'true')).toMatch(/cpuset-cpus/);
    }, 60_000);

    it('label filters on containers, images and networks: label=key and label=key=value', async () => {
      await ok('create', '--name', 'gbo-lab', '--label', 'gbo.k=v', 'base', 'true');
      expect((await ok('ps', '-a', '-q', '--filter', 'label=gbo.k')).trim()).toBe(engine!.get('gbo-lab').id.slice(0, 12));
      expect((await ok('ps', '-a', '-q', '--filter', 'label=gbo.k=v')).trim()).toBe(engine!.get('gbo-lab').id.slice(0, 12));
      expect((await ok('ps', '-a', '-q', '--filter', 'label=gbo.k=w')).trim()).toBe('');
      await ok('commit', '--change', 'LABEL gbo.img=yes', 'gbo-lab', 'gbopt-labelled:1');
      expect(await ok('images', '--filter', 'label=gbo.img', '--format', '{{.Repository}}')).toBe('gbopt-labelled\n');
      expect(await ok('images', '--filter', 'label=gbo.img=yes', '--format', '{{.Repository}}')).toBe('gbopt-labelled\n');
      expect(await ok('images', '--filter', 'label=gbo.img=no', '--format', '{{.Repository}}')).toBe('');
      await ok('network', 'create', '--label', 'gbo.n=1', 'gbo-lnet');
      expect(await ok('network', 'ls', '--filter', 'label=gbo.n', '--format', '{{.Name}}')).toBe('gbo-lnet\n');
      expect(await ok('network', 'ls', '--filter', 'label=gbo.n=2', '--format', '{{.Name}}')).toBe('');
      await ok('network', 'rm', 'gbo-lnet');
      await ok('rm', 'gbo-lab');
      await ok('rmi', 'gbopt-labelled:1');
    }, 60_000);
  });
});
