// The Docker create/update bodies → ContainerConfig mapping, on bodies captured from the docker 28.2 CLI.
import { describe, expect, it } from 'vitest';
import { blockDeviceNumbers, isUnset, parseCreateBody, toContainerConfig } from '../../server/api/docker/create-config.js';
import { toEngineUpdate } from '../../server/api/docker/update-config.js';

export const RUN_RM_ECHO = {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": true, "AttachStderr": true, "Tty": false, "OpenStdin": false, "StdinOnce": false, "Env": null, "Cmd": ["echo", "hi"], "Image": "base", "Volumes": {}, "WorkingDir": "", "Entrypoint": null, "OnBuild": null, "Labels": {}, "HostConfig": {"Binds": null, "ContainerIDFile": "", "LogConfig": {"Type": "", "Config": {}}, "NetworkMode": "default", "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "AutoRemove": true, "VolumeDriver": "", "VolumesFrom": null, "ConsoleSize": [0, 0], "CapAdd": null, "CapDrop": null, "CgroupnsMode": "", "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": null, "GroupAdd": null, "IpcMode": "", "Cgroup": "", "Links": null, "OomScoreAdj": 0, "PidMode": "", "Privileged": false, "PublishAllPorts": false, "ReadonlyRootfs": false, "SecurityOpt": null, "UTSMode": "", "UsernsMode": "", "ShmSize": 0, "Isolation": "", "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "", "Devices": [], "DeviceCgroupRules": null, "DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": -1, "OomKillDisable": false, "PidsLimit": 0, "Ulimits": [], "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0, "MaskedPaths": null, "ReadonlyPaths": null}, "NetworkingConfig": {"EndpointsConfig": {"default": {"IPAMConfig": null, "Links": null, "Aliases": null, "MacAddress": "", "DriverOpts": null, "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null}}}} as Record<string, unknown>;
export const RUN_ALL_FLAGS = {"Hostname": "hh", "Domainname": "", "User": "1000:1000", "AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Tty": false, "OpenStdin": false, "StdinOnce": false, "Env": ["A=1"], "Cmd": ["-c", "true"], "Image": "base", "Volumes": {}, "WorkingDir": "/tmp", "Entrypoint": ["/bin/sh"], "OnBuild": null, "Labels": {}, "HostConfig": {"Binds": null, "ContainerIDFile": "", "LogConfig": {"Type": "", "Config": {}}, "NetworkMode": "none", "PortBindings": {}, "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}, "AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null, "ConsoleSize": [0, 0], "CapAdd": ["CAP_NET_ADMIN"], "CapDrop": ["CAP_CHOWN"], "CgroupnsMode": "", "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": null, "GroupAdd": null, "IpcMode": "host", "Cgroup": "", "Links": null, "OomScoreAdj": 0, "PidMode": "host", "Privileged": false, "PublishAllPorts": false, "ReadonlyRootfs": true, "SecurityOpt": ["no-new-privileges", "seccomp=unconfined"], "UTSMode": "host", "UsernsMode": "host", "ShmSize": 0, "Isolation": "", "CpuShares": 512, "Memory": 67108864, "NanoCpus": 500000000, "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": [{"Path": "/dev/vda", "Rate": 1048576}], "BlkioDeviceWriteBps": [{"Path": "/dev/vda", "Rate": 2097152}], "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "", "Devices": [], "DeviceCgroupRules": null, "DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 134217728, "MemorySwappiness": -1, "OomKillDisable": false, "PidsLimit": 20, "Ulimits": [], "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0, "MaskedPaths": null, "ReadonlyPaths": null, "Init": true}, "NetworkingConfig": {"EndpointsConfig": {}}} as Record<string, unknown>;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const dev = () => ({ major: 254, minor: 0 });
const map = (body: Record<string, unknown>, name?: string) => toContainerConfig(parseCreateBody(body), name, { deviceNumbers: dev });
const withHost = (hc: Record<string, unknown>) => {
  const b = clone(RUN_RM_ECHO);
  Object.assign(b.HostConfig as object, hc);
  return b;
};

describe('docker create body → ContainerConfig', () => {
  it('maps docker run --rm base echo hi to the minimum (zero values are unset)', () => {
    expect(map(RUN_RM_ECHO)).toEqual({ image: 'base', cmd: ['echo', 'hi'], autoRemove: true });
  });

  it('maps every supported flag', () => {
    const body = clone(RUN_ALL_FLAGS);
    (body.HostConfig as Record<string, unknown>).UTSMode = ''; // --hostname and --uts host conflict (next test)
    const c = map(body, 'x');
    expect(c).toEqual({
      image: 'base',
      name: 'x',
      entrypoint: ['/bin/sh'],
      cmd: ['-c', 'true'],
      env: ['A=1'],
      workingDir: '/tmp',
      user: '1000:1000',
      hostname: 'hh',
      limits: {
        memory: 64 * 1024 * 1024,
        memorySwap: 128 * 1024 * 1024,
        cpus: 0.5,
        cpuShares: 512,
        pids: 20,
        io: [{ major: 254, minor: 0, readBps: 1048576, writeBps: 2097152 }],
      },
      readOnlyRoot: true,
      init: true,
      capAdd: ['CAP_NET_ADMIN'],
      capDrop: ['CAP_CHOWN'],
      noNewPrivileges: true,
      seccomp: 'unconfined',
      namespaces: { pid: false, ipc: false, user: false },
      network: 'none',
      restartPolicy: { name: 'on-failure', maximumRetryCount: 3 },
    });
  });

  it('--hostname with --uts host is a conflict', () => {
    expect(() => map(RUN_ALL_FLAGS)).toThrow(/Conflicting options: hostname and the UTS mode/);
  });

  it('maps --log-driver/--log-opt, --shm-size, --ulimit, --storage-opt and --tmpfs size= as the CLI sends them', () => {
    const c = map(
      withHost({
        LogConfig: { Type: 'local', Config: { 'max-size': '1m', 'max-file': '2' } },
        ShmSize: 8388608,
        Ulimits: [{ Name: 'nofile', Hard: 200, Soft: 100 }],
        StorageOpt: { size: '1G' },
        Tmpfs: { '/x': 'size=1m,mode=1777,noexec', '/y': '' },
        Mounts: [{ Type: 'tmpfs', Target: '/z', TmpfsOptions: { SizeBytes: 4096, Mode: 448 } }],
      }),
    );
    expect(c.logConfig).toEqual({ driver: 'local', options: { 'max-size': '1m', 'max-file': '2' } });
    expect(c.shmSize).toBe(8 * 1024 * 1024);
    expect(c.ulimits).toEqual([{ name: 'nofile', soft: 100, hard: 200 }]);
    expect(c.storageSize).toBe(1024 ** 3);
    expect(c.mounts).toEqual([
      { type: 'tmpfs', target: '/x', readOnly: false, size: 1024 * 1024, mode: 0o1777 },
      { type: 'tmpfs', target: '/y', readOnly: false },
      { type: 'tmpfs', target: '/z', readOnly: false, size: 4096, mode: 0o700 },
    ]);
    // --log-opt alone: the daemon's driver (the engine merges)
    expect(map(withHost({ LogConfig: { Type: '', Config: { 'max-size': '5m' } } })).logConfig).toEqual({ options: { 'max-size': '5m' } });
    expect(() => map(withHost({ StorageOpt: { dm: 'x' } }))).toThrow('glassbox: --storage-opt dm is not supported');
    expect(() => map(withHost({ StorageOpt: { size: 'big' } }))).toThrow('--storage-opt size: invalid size "big"');
    expect(() => map(withHost({ Tmpfs: { '/x': 'size=lots' } }))).toThrow('--tmpfs /x: invalid size "lots"');
    expect(() => map(withHost({ Tmpfs: { '/x': 'mode=999' } }))).toThrow('--tmpfs /x: invalid mode "999"');
  });

  it('ignores fields it does not know, as Docker does (a Node client sends name, a Python one Runtime)', () => {
    expect(map({ ...clone(RUN_RM_ECHO), name: 'from-the-body', SomethingNew: { deep: 1 } })).toEqual({ image: 'base', cmd: ['echo', 'hi'], autoRemove: true });
    expect(map(withHost({ SomethingNew: 'yes', Annotations2: { a: 'b' } }))).toEqual({ image: 'base', cmd: ['echo', 'hi'], autoRemove: true });
    const ep = clone(RUN_RM_ECHO);
    (ep.NetworkingConfig as { EndpointsConfig: Record<string, unknown> }).EndpointsConfig.default = { SomethingNew: 'x' };
    expect(map(ep)).toEqual({ image: 'base', cmd: ['echo', 'hi'], autoRemove: true });
  });

  it('refuses unsupported options naming the flag', () => {
    expect(() => map(withHost({ VolumeDriver: 'x' }))).toThrow('glassbox: --volume-driver is not supported');
    expect(() => map(withHost({ DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] }))).toThrow('glassbox: --gpus is not supported');
    expect(() => map(withHost({ CpuRealtimePeriod: 1000 }))).toThrow('--cpu-rt-period');
    expect(() => map(withHost({ OomScoreAdj: 500 }))).toThrow('--oom-score-adj');
    expect(() => map(withHost({ PublishAllPorts: true }))).toThrow('--publish-all');
    expect(() => map(withHost({ LogConfig: { Type: 'syslog', Config: {} } }))).toThrow('--log-driver syslog');
    expect(() => map(withHost({ SecurityOpt: ['apparmor=docker-default'] }))).toThrow('--security-opt apparmor=docker-default');
    expect(() => map(withHost({ UsernsMode: 'keep-id' }))).toThrow('glassbox: --userns keep-id is not supported');
    expect(() => map(withHost({ UsernsMode: 'auto:size=1024' }))).toThrow('--userns auto:size=1024');
    expect(() => map({ ...clone(RUN_RM_ECHO), Domainname: 'example.org' })).toThrow('--domainname');
    expect(map(withHost({ Binds: ['vol:/data:ro,nocopy'] })).mounts).toEqual([{ type: 'volume', source: 'vol', target: '/data', readOnly: true, noCopy: true }]);
    expect(() => map(withHost({ Binds: ['vol:/data:rshared'] }))).toThrow(/-v mode "rshared" is not supported/);
    expect(() => map(withHost({ Binds: ['/host:/data:nocopy'] }))).toThrow(/-v mode "nocopy" is not supported/);
    expect(() => map(withHost({ Mounts: [{ Type: 'volume', Target: '/v', VolumeOptions: { Subpath: 'x' } }] }))).toThrow(/--mount volume-subpath is not supported/);
    expect(() => map(withHost({ Mounts: [{ Type: 'npipe', Target: '/v' }] }))).toThrow(/--mount type=npipe is not supported/);
  });

  it('--userns private and auto give a user namespace (a range of its own), host none', () => {
    expect(map(withHost({ UsernsMode: 'private' })).namespaces?.user).toBe(true);
    expect(map(withHost({ UsernsMode: 'auto' })).namespaces?.user).toBe(true);
    expect(map(withHost({ UsernsMode: 'host' })).namespaces?.user).toBe(false);
  });

  it('accepts the zero values the CLI always sends and the harmless ones', () => {
    expect(() => map(withHost({ MemorySwappiness: -1, OomKillDisable: false, SecurityOpt: ['label=disable', 'apparmor=unconfined'] }))).not.toThrow();
  });

  it('maps security options in both spellings', () => {
    expect(map(withHost({ SecurityOpt: ['no-new-privileges:true', 'seccomp:unconfined'] }))).toMatchObject({ noNewPrivileges: true, seccomp: 'unconfined' });
    expect(map(withHost({ SecurityOpt: ['no-new-privileges=false'] }))).toMatchObject({ noNewPrivileges: false });
    expect(() => map(withHost({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] }))).toThrow(/seccomp=<profile>/);
  });

  it('maps namespace and network modes', () => {
    expect(map(withHost({ NetworkMode: 'host', PidMode: 'host', Privileged: true }))).toMatchObject({ network: 'host', namespaces: { pid: false }, privileged: true });
    expect(map(withHost({ NetworkMode: 'default' })).network).toBeUndefined();
    expect(map(withHost({ NetworkMode: 'bridge' })).network).toBe('bridge');
    expect(map(withHost({ IpcMode: 'shareable' })).namespaces).toBeUndefined();
    expect(map(withHost({ IpcMode: 'container:abc', PidMode: 'container:abc' })).shareNamespaces).toEqual({ ipc: 'container:abc', pid: 'container:abc' });
    expect(map(withHost({ CgroupnsMode: 'host' })).namespaces).toEqual({ cgroup: false });
  });

  it('maps limits: 0/-1 pids is unlimited, CPU quota/period become cpus', () => {
    // -1: no limit at all, not the daemon's default-pids-limit; 0 or null: the default
    expect(map(withHost({ PidsLimit: -1 })).limits).toEqual({ pids: null });
    expect(map(withHost({ PidsLimit: 0 })).limits).toBeUndefined();
    expect(map(withHost({ PidsLimit: null })).limits).toBeUndefined();
    expect(map(withHost({ CpuQuota: 50000, CpuPeriod: 100000 })).limits).toEqual({ cpus: 0.5, cpuPeriod: 100000 });
    expect(() => map(withHost({ NanoCpus: 1e9, CpuPeriod: 100000 }))).toThrow(/Nano CPUs and CPU Period/);
    expect(map(withHost({ Memory: 10 << 20, MemorySwap: -1 })).limits).toEqual({ memory: 10 << 20, memorySwap: -1 });
  });

  it('maps restart policies, refuses --restart with --rm', () => {
    const b = withHost({ AutoRemove: false, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } });
    expect(map(b).restartPolicy).toEqual({ name: 'always' });
    expect(() => map(withHost({ RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }))).toThrow(/--restart and --rm/);
    expect(() => map(withHost({ AutoRemove: false, RestartPolicy: { Name: 'sometimes' } }))).toThrow(/invalid restart policy/);
  });

  it('maps binds, tmpfs and published ports', () => {
    const c = map(withHost({ Binds: ['/srv:/data:ro'], Tmpfs: { '/run': 'rw,noexec' }, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } }));
    expect(c.mounts).toEqual([
      { type: 'bind', source: '/srv', target: '/data', readOnly: true },
      { type: 'tmpfs', target: '/run', readOnly: false },
    ]);
    expect(c.ports).toEqual([{ hostIp: undefined, hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  });

  it('refuses mount destinations that are relative, "/" or hold ".." (nothing reaches the engine)', () => {
    expect(() => map(withHost({ Binds: ['/srv:data'] }))).toThrow(/invalid mount config: -v \/srv:data: invalid mount path: 'data' mount path must be absolute/);
    expect(() => map(withHost({ Binds: ['/srv:/data/../../etc'] }))).toThrow(/invalid mount path: '\/data\/\.\.\/\.\.\/etc' mount path must not contain "\.\."/);
    expect(() => map(withHost({ Binds: ['/srv:/'] }))).toThrow(/destination can't be '\/'/);
    expect(() => map(withHost({ Tmpfs: { '../run': '' } }))).toThrow(/--tmpfs \.\.\/run: invalid mount path: '\.\.\/run' mount path must be absolute/);
    expect(() => map(withHost({ Mounts: [{ Type: 'bind', Source: '/srv', Target: '/x/..' }] }))).toThrow(/--mount type=bind,target=\/x\/\.\.: invalid mount path/);
  });

  it('--entrypoint "" clears the image entrypoint; a string Cmd is one argument', () => {
    expect(map({ ...clone(RUN_RM_ECHO), Entrypoint: [''] }).entrypoint).toEqual([]);
    expect(map({ ...clone(RUN_RM_ECHO), Cmd: 'ls' }).cmd).toEqual(['ls']);
  });

  it('rejects malformed bodies with a clear message', () => {
    expect(() => parseCreateBody({})).toThrow(/Image/);
    expect(() => parseCreateBody({ Image: 'base', HostConfig: { Memory: 'lots' } })).toThrow(/HostConfig.Memory/);
    expect(() => parseCreateBody({ Image: 'base', Env: 'A=1' })).toThrow(/Env/);
    expect(() => parseCreateBody([1, 2])).toThrow(/invalid container config/);
  });

  it('turns a device path into major:minor, refusing what is not a block device', () => {
    expect(() => blockDeviceNumbers('/dev/null')).toThrow(/not a block device/);
    expect(() => blockDeviceNumbers('/dev/no-such-device')).toThrow(/no such device/);
    const loops = ['/dev/loop0', '/dev/vda', '/dev/sda'];
    for (const p of loops) {
      try {
        const d = blockDeviceNumbers(p);
        expect(d.major).toBeGreaterThan(0);
        break;
      } catch {
        /* not on this host */
      }
    }
    expect(() => map(withHost({ BlkioDeviceReadBps: [{ Path: '/dev/null', Rate: 1 }] }), undefined)).not.toThrow(); // injected resolver
    expect(() => toContainerConfig(parseCreateBody(withHost({ BlkioDeviceReadBps: [{ Path: '/dev/null', Rate: 1 }] })), undefined)).toThrow(
      '--device-read-bps: /dev/null is not a block device',
    );
  });

  it('isUnset knows Docker zero values', () => {
    for (const v of [undefined, null, '', 0, false, [], {}, { Type: '', Config: {} }]) expect(isUnset(v)).toBe(true);
    for (const v of ['x', 1, true, ['a'], { a: 1 }]) expect(isUnset(v)).toBe(false);
  });
});

describe('docker update body → engine update', () => {
  const UPDATE = {
    CpuShares: 0, Memory: 104857600, NanoCpus: 1000000000, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: null, BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: null, BlkioDeviceWriteIOps: null, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: null, DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0,
    MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: 30, Ulimits: null, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0,
    IOMaximumBandwidth: 0, RestartPolicy: { Name: '', MaximumRetryCount: 0 },
  };
  it('maps docker update --memory 100m --cpus 1 --pids-limit 30 (as the CLI sends it)', () => {
    expect(toEngineUpdate(UPDATE)).toEqual({ memory: 104857600, cpus: 1, pids: 30 });
  });
  it('maps -1 pids to unlimited, restart policy, quota', () => {
    expect(toEngineUpdate({ PidsLimit: -1, RestartPolicy: { Name: 'always' } })).toEqual({ pids: null, restartPolicy: { name: 'always' } });
    expect(toEngineUpdate({ CpuQuota: 25000, CpuPeriod: 50000 })).toEqual({ cpus: 0.5, cpuPeriod: 50000 });
  });
  it('refuses what it cannot change', () => {
    expect(() => toEngineUpdate({ ...UPDATE, CpusetCpus: '1' })).toThrow('glassbox: docker update --cpuset-cpus is not supported');
    expect(() => toEngineUpdate({ Memory: 'x' })).toThrow(/invalid update config: Memory/);
  });
});
