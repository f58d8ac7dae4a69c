// What a learner may ask for (issue 13's policy), applied by the engine before anything is made.
import { describe, expect, it } from 'vitest';
import { applyLearnerPolicy, errorKind, OWNER_LABEL, type ContainerConfig } from '../../server/engine/index.js';

const policy = { learnerId: 'ab12cd', ports: { from: 20000, to: 20009 }, maxContainers: 3 };
const ctx = { ownNetworks: new Set(['bridge', 'ab12cd-net']), containers: 0 };
const apply = (c: Partial<ContainerConfig>, over: Partial<typeof ctx> = {}) => applyLearnerPolicy({ image: 'base', ...c }, policy, { ...ctx, ...over });

describe('the learner policy', () => {
  it('lets a learner use the options that stay inside their sandbox', () => {
    const out = apply({
      groupAdd: ['1234'],
      limits: { cpusetCpus: '0', blkioWeight: 300, memorySwappiness: 10 },
      sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      devices: [{ path: '/dev/urandom', containerPath: '/dev/myrand' }],
      healthcheck: { test: ['CMD-SHELL', 'true'], intervalMs: 1000 },
      stopSignal: 'SIGUSR1',
      stopTimeout: 5,
      extraHosts: [{ name: 'db', ip: '10.0.0.2' }],
      dns: { servers: ['10.0.0.53'] },
      endpoint: { aliases: ['web'], ip: '10.1.0.9' },
      network: 'ab12cd-net',
    });
    expect(out).toMatchObject({ groupAdd: ['1234'], stopSignal: 'SIGUSR1', endpoint: { aliases: ['web'] }, namespaces: { user: true } });
  });

  it('makes every container a user-namespaced sandbox without NET_RAW, labelled with its owner', () => {
    const out = apply({ capDrop: ['chown'], ports: [{ hostPort: 20001, containerPort: 80, protocol: 'tcp' }] });
    expect(out.namespaces?.user).toBe(true);
    expect(out.capDrop).toEqual(['CHOWN', 'NET_RAW']);
    expect(out.noNewPrivileges).toBe(true);
    expect(out.labels?.[OWNER_LABEL]).toBe('ab12cd');
    expect(out.ports).toEqual([{ hostIp: '127.0.0.1', hostPort: 20001, containerPort: 80, protocol: 'tcp' }]);
  });

  it.each<[Partial<ContainerConfig>, RegExp]>([
    [{ privileged: true }, /--privileged/],
    [{ namespaces: { user: false } }, /--userns=host/],
    [{ namespaces: { pid: false } }, /host pid namespace/],
    [{ shareNamespaces: { net: 'host' } }, /host net namespace/],
    [{ shareNamespaces: { ipc: 'container:other' } }, /another container's ipc/],
    [{ network: 'host' }, /--network host/],
    [{ network: 'someone-elses' }, /only the learner's own networks/],
    [{ mounts: [{ type: 'bind', source: '/', target: '/host' }] }, /bind mount of the host path \//],
    [{ capAdd: ['SYS_ADMIN'] }, /--cap-add SYS_ADMIN/],
    [{ capAdd: ['cap_net_raw'] }, /--cap-add NET_RAW/],
    [{ capAdd: ['ALL'] }, /--cap-add ALL/],
    [{ seccomp: 'unconfined' }, /seccomp=unconfined/],
    [{ uidMap: [{ containerId: 0, hostId: 0, size: 1 }] }, /uid\/gid maps/],
    [{ ports: [{ hostPort: 80, containerPort: 80, protocol: 'tcp' }] }, /host port 80 .*20000-20009/],
    [{ ports: [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }] }, /host port \(any\)/],
    [{ ports: [{ hostIp: '0.0.0.0', hostPort: 20001, containerPort: 80, protocol: 'tcp' }] }, /publishing on 0\.0\.0\.0/],
    [{ labels: { [OWNER_LABEL]: 'someone' } }, /the label glassbox.owner/],
    [{ runtime: 'runc' }, /--runtime runc/],
    [{ limits: { memoryReservation: 64 << 20 } }, /--memory-reservation/],
    [{ limits: { oomKillDisable: true, memory: 64 << 20 } }, /--oom-kill-disable/],
    [{ limits: { blkioWeight: 900 } }, /--blkio-weight 900/],
    [{ sysctls: { 'kernel.shmmax': '1000' } }, /--sysctl kernel\.shmmax \(only net\.\*/],
    [{ sysctls: { 'fs.mqueue.msg_max': '20' } }, /--sysctl fs\.mqueue\.msg_max/],
    [{ devices: [{ path: '/dev/sda' }] }, /--device \/dev\/sda/],
    [{ healthcheck: { test: ['CMD', 'true'], intervalMs: 10 } }, /--health-interval under 1s/],
    [{ stopTimeout: -1 }, /--stop-timeout -1/],
    [{ stopTimeout: 3600 }, /--stop-timeout 3600/],
  ])('refuses %j, naming the option', (c, message) => {
    let err: unknown;
    try {
      apply(c);
    } catch (e) {
      err = e;
    }
    expect(errorKind(err)).toBe('permission-denied');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/not allowed in a learner's sandbox|quota/);
  });

  it("allows adding back what Docker's default set has, except NET_RAW", () => {
    expect(apply({ capAdd: ['chown', 'CAP_KILL'] }).capAdd).toEqual(['chown', 'CAP_KILL']);
  });

  it('refuses the (max+1)-th container', () => {
    expect(() => apply({}, { containers: 3 })).toThrow(/at most 3 containers/);
    expect(() => apply({}, { containers: 2 })).not.toThrow();
  });

  it('does not change the request it was given', () => {
    const req: ContainerConfig = { image: 'base', labels: { a: 'b' } };
    apply(req);
    expect(req).toEqual({ image: 'base', labels: { a: 'b' } });
  });
});

describe("a learner's logs and layers", () => {
  it('rotate at 10m × 2 unless a smaller size is asked; a bigger one is refused', () => {
    expect(apply({}).logConfig).toEqual({ driver: 'json-file', options: { 'max-size': '10m', 'max-file': '2' } });
    expect(apply({ logConfig: { driver: 'local', options: { 'max-size': '1m' } } }).logConfig).toEqual({ driver: 'local', options: { 'max-size': '1m', 'max-file': '2' } });
    expect(apply({ logConfig: { driver: 'none' } }).logConfig).toEqual({ driver: 'none' });
    expect(() => apply({ logConfig: { options: { 'max-size': '1g' } } })).toThrow(/--log-opt max-size=1g \(at most 10m\)/);
    expect(() => apply({ logConfig: { options: { 'max-file': '9' } } })).toThrow(/--log-opt max-file=9 \(at most 2\)/);
  });

  it('hold each layer to the class disk over its container count', () => {
    const withDisk = { ...policy, diskPerContainer: 64 * 1024 * 1024 };
    expect(applyLearnerPolicy({ image: 'base' }, withDisk, ctx).storageSize).toBe(64 * 1024 * 1024);
    expect(applyLearnerPolicy({ image: 'base', storageSize: 1024 * 1024 * 32 }, withDisk, ctx).storageSize).toBe(32 * 1024 * 1024);
    expect(() => applyLearnerPolicy({ image: 'base', storageSize: 1024 * 1024 * 128 }, withDisk, ctx)).toThrow(/--storage-opt size=134217728 \(at most 67108864 bytes/);
  });
});
