// Issue #18's parsing: the create body's new options → ContainerConfig, the engine's checks of
// them (allowlists, namespaced sysctls, v1-only knobs), healthcheck merging, detach keys,
// /proc/<pid>/net/dev, and the hosts/resolv.conf lines --add-host and --dns write.
import { describe, expect, it } from 'vitest';
import { parseCreateBody, toContainerConfig } from '../../server/api/docker/create-config.js';
import { detachScanner, parseDetachKeys } from '../../server/api/docker/detach-keys.js';
import { validateExtras, sysctlNamespace } from '../../server/engine/containers/validate-extras.js';
import { effectiveHealthcheck } from '../../server/engine/lifecycle/health.js';
import { renderHosts, renderResolvConf } from '../../server/engine/network/hosts.js';
import { parseNetDev } from '../../server/engine/network/net-dev.js';
import { blkioToIoWeight } from '../../server/engine/cgroups/extra-limits.js';

// what `docker run --rm base echo hi` sends (docker 28), the fields that matter here
const RUN_RM_ECHO = { Image: 'base', Cmd: ['echo', 'hi'], HostConfig: { AutoRemove: true, NetworkMode: 'default', MemorySwappiness: -1, Dns: [], ExtraHosts: null, GroupAdd: null, Devices: [], CpusetCpus: '', BlkioWeight: 0 }, NetworkingConfig: { EndpointsConfig: {} } } as Record<string, unknown>;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const map = (over: Record<string, unknown>, hc: Record<string, unknown> = {}, eps?: Record<string, unknown>) => {
  const b = { ...clone(RUN_RM_ECHO), ...over };
  Object.assign(b.HostConfig as object, hc);
  if (eps) b.NetworkingConfig = { EndpointsConfig: eps };
  return toContainerConfig(parseCreateBody(b), undefined);
};

describe('the create body options of issue #18', () => {
  it('maps healthcheck, stop signal/timeout, groups, limits, devices, sysctls, hosts, DNS and the endpoint', () => {
    const c = map(
      { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Timeout: 1e9, StartPeriod: 0, Retries: 4 }, StopSignal: 'SIGUSR1', StopTimeout: 3 },
      {
        NetworkMode: 'mynet',
        GroupAdd: ['audio', '1234'],
        CpusetCpus: '0-1',
        CpusetMems: '0',
        MemoryReservation: 32 << 20,
        MemorySwappiness: 10,
        OomKillDisable: true,
        BlkioWeight: 300,
        Devices: [{ PathOnHost: '/dev/urandom', PathInContainer: '/dev/r', CgroupPermissions: 'rwm' }],
        Sysctls: { 'net.ipv4.ip_forward': '1' },
        ExtraHosts: ['db:10.0.0.2', 'gw=host-gateway'],
        Dns: ['10.0.0.53'],
        DnsSearch: ['example.test'],
        DnsOptions: ['ndots:2'],
        Links: ['other:alias'],
      },
      { mynet: { IPAMConfig: { IPv4Address: '10.1.0.9' }, Aliases: ['web'], MacAddress: '02:42:0a:01:00:09', DriverOpts: { 'some.unknown': 'x' } } },
    );
    expect(c).toMatchObject({
      healthcheck: { test: ['CMD-SHELL', 'true'], intervalMs: 2000, timeoutMs: 1000, retries: 4 },
      stopSignal: 'SIGUSR1',
      stopTimeout: 3,
      groupAdd: ['audio', '1234'],
      limits: { cpusetCpus: '0-1', cpusetMems: '0', memoryReservation: 32 << 20, memorySwappiness: 10, oomKillDisable: true, blkioWeight: 300 },
      devices: [{ path: '/dev/urandom', containerPath: '/dev/r' }],
      sysctls: { 'net.ipv4.ip_forward': '1' },
      extraHosts: [{ name: 'db', ip: '10.0.0.2' }, { name: 'gw', ip: 'host-gateway' }],
      dns: { servers: ['10.0.0.53'], search: ['example.test'], options: ['ndots:2'] },
      endpoint: { ip: '10.1.0.9', aliases: ['web'], macAddress: '02:42:0a:01:00:09', links: [{ container: 'other', alias: 'alias' }] },
    });
    expect(c.healthcheck).not.toHaveProperty('startPeriodMs');
  });

  it('--no-healthcheck is Test ["NONE"]; nothing asked leaves the image its own', () => {
    expect(map({ Healthcheck: { Test: ['NONE'] } }).healthcheck).toEqual({ test: ['NONE'] });
    expect(map({ Healthcheck: { Test: null, Interval: 0 } }).healthcheck).toBeUndefined();
    expect(() => map({ Healthcheck: { Test: ['CMD', 'true'], Retries: -1 } })).toThrow('--health-retries cannot be negative');
    expect(() => map({ Healthcheck: { Test: ['CMD', 'true'], Interval: 5 } })).toThrow('--health-interval cannot be less than 1ms');
  });

  it('refuses the endpoint driver options the bridge driver reads, and bad --add-host', () => {
    expect(() => map({}, { NetworkMode: 'n' }, { n: { DriverOpts: { 'com.docker.network.endpoint.sysctls': 'x' } } })).toThrow('--network driver-opt com.docker.network.endpoint.sysctls');
    expect(() => map({}, { ExtraHosts: ['nohost'] })).toThrow('bad format for add-host');
  });
});

describe('the engine checks of the new options', () => {
  const ok = (c: object, v: 1 | 2 = 2) => validateExtras({ image: 'base', ...c }, { cgroupVersion: v });
  it.each<[object, RegExp, (1 | 2)?]>([
    [{ stopSignal: 'SIGNOPE' }, /--stop-signal: invalid signal "SIGNOPE"/],
    [{ healthcheck: { test: ['SHELL', 'x'] } }, /CMD, CMD-SHELL or NONE/],
    [{ healthcheck: { test: ['CMD'] } }, /a command is needed/],
    [{ devices: [{ path: '/dev/sda' }] }, /--device \/dev\/sda: not allowed/],
    [{ devices: [{ path: '/dev/null', containerPath: '/etc/passwd' }] }, /must be under \/dev/],
    [{ sysctls: { 'kernel.panic': '1' } }, /--sysctl kernel\.panic: not allowed/],
    [{ sysctls: { 'net.ipv4.ip_forward': '1' }, network: 'host' }, /host's network namespace/],
    [{ sysctls: { 'kernel.shmmax': '1' }, namespaces: { ipc: false } }, /shared IPC namespace/],
    [{ extraHosts: [{ name: 'x', ip: 'nope' }] }, /--add-host x:nope: invalid IP/],
    [{ dns: { servers: ['dns.example'] } }, /--dns dns\.example: not an IPv4/],
    [{ endpoint: { ip: '1.2.3' } }, /--ip 1\.2\.3/],
    [{ endpoint: { macAddress: '01:00:5e:00:00:01' } }, /multicast/],
    [{ limits: { memorySwappiness: 10 } }, /--memory-swappiness is not supported on cgroup v2/],
    [{ limits: { oomKillDisable: true, memory: 1 << 26 } }, /--oom-kill-disable is not supported on cgroup v2/],
    [{ limits: { oomKillDisable: true } }, /--oom-kill-disable needs --memory/, 1],
    [{ limits: { memory: 64 << 20, memoryReservation: 128 << 20 } }, /memory reservation/],
  ])('refuses %j naming the option', (c, re, v) => {
    expect(() => ok(c, v ?? 2)).toThrow(re);
  });

  it('takes what is allowed', () => {
    expect(() => ok({ limits: { memorySwappiness: 10, oomKillDisable: true, memory: 1 << 26 } }, 1)).not.toThrow();
    expect(() => ok({ devices: [{ path: '/dev/urandom', containerPath: '/dev/myrand' }], sysctls: { 'fs.mqueue.msg_max': '20', 'kernel.sem': '1 2 3 4' } })).not.toThrow();
    expect(sysctlNamespace('net.core.somaxconn')).toBe('net');
    expect(sysctlNamespace('net..x')).toBeNull();
    expect(sysctlNamespace('kernel.shm_rmid_forced')).toBe('ipc');
    expect(sysctlNamespace('vm.swappiness')).toBeNull();
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(1000)).toBe(10000);
  });
});

describe('healthchecks: the container over the image, field by field', () => {
  const image = { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Retries: 5 };
  it('merges, defaults, and NONE turns it off', () => {
    expect(effectiveHealthcheck(undefined, image)).toEqual({ argv: ['/bin/sh', '-c', 'curl -f localhost'], intervalMs: 5000, timeoutMs: 30_000, startPeriodMs: 0, retries: 5 });
    expect(effectiveHealthcheck({ test: [], intervalMs: 1000 }, image)).toMatchObject({ argv: ['/bin/sh', '-c', 'curl -f localhost'], intervalMs: 1000, retries: 5 });
    expect(effectiveHealthcheck({ test: ['CMD', 'true'] }, undefined)).toMatchObject({ argv: ['true'], intervalMs: 30_000, retries: 3 });
    expect(effectiveHealthcheck({ test: ['NONE'] }, image)).toBeNull();
    expect(effectiveHealthcheck(undefined, undefined)).toBeNull();
  });
});

describe('detach keys', () => {
  it('parses Docker\'s format and refuses a bad one', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17]);
    expect([...parseDetachKeys('ctrl-x,x')]).toEqual([24, 120]);
    expect([...parseDetachKeys('ctrl-@,ctrl-_')]).toEqual([0, 31]);
    expect(() => parseDetachKeys('ctrl-')).toThrow('Invalid escape keys');
    expect(() => parseDetachKeys('ab')).toThrow('Invalid escape keys');
  });
  it('passes everything but the sequence, across chunks', () => {
    const feed = detachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(feed(Buffer.from('ab\x10'))).toEqual({ pass: Buffer.from('ab'), detached: false });
    expect(feed(Buffer.from('c'))).toEqual({ pass: Buffer.from('\x10c'), detached: false });
    expect(feed(Buffer.from('\x10\x10'))).toEqual({ pass: Buffer.from('\x10'), detached: false });
    expect(feed(Buffer.from('\x11rest'))).toEqual({ pass: Buffer.from(''), detached: true });
  });
});

describe('/proc/<pid>/net/dev and the /etc files', () => {
  it('reads the counters of each interface but lo', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0',
      '  eth0:    1500      10    1    2    0     0          0         0      700       5    3    4    0     0       0          0',
    ].join('\n');
    expect(parseNetDev(text)).toEqual({ eth0: { rxBytes: 1500, rxPackets: 10, rxErrors: 1, rxDropped: 2, txBytes: 700, txPackets: 5, txErrors: 3, txDropped: 4 } });
  });
  it('writes --add-host lines and --dns over the host resolver', () => {
    expect(renderHosts({ hostname: 'h', ip: '10.0.0.5' }, [], {}, [{ ip: '10.1.2.3', names: ['db'] }])).toMatch(/^10\.0\.0\.5\th\n10\.1\.2\.3\tdb$/m);
    const r = renderResolvConf('nameserver 192.0.2.53\nsearch host.example\n', { dns: { servers: ['10.0.0.53'] } });
    expect(r).toMatch(/^nameserver 10\.0\.0\.53$/m);
    expect(r).not.toMatch(/192\.0\.2\.53/);
    expect(r).toMatch(/^search host\.example$/m);
  });
});
