// POST /containers/create: Docker's body (Config + HostConfig + NetworkingConfig) → the engine's
// ContainerConfig. Every HostConfig field is checked one by one: a supported field is mapped, an
// unsupported one is refused naming its docker flag unless it holds its zero/empty default.
import { statSync } from 'node:fs';
import { z } from 'zod';
import type { ContainerConfig, IoThrottle, Namespace, RestartPolicy } from '../../engine/index.js';
import { ApiError, badRequest, unsupported } from './errors.js';
import { parseSize } from '../../engine/index.js';

// ---------------------------------------------------------------- body schema

const strList = z.array(z.string()).nullish();
const throttleList = z.array(z.object({ Path: z.string(), Rate: z.number().int().min(0) })).nullish();

export const restartPolicySchema = z
  .object({ Name: z.string().optional(), MaximumRetryCount: z.number().int().min(0).optional() })
  .nullish();

export const hostConfigSchema = z.looseObject({
  Memory: z.number().int().min(0).optional(),
  MemorySwap: z.number().int().min(-1).optional(),
  NanoCpus: z.number().int().min(0).optional(),
  CpuShares: z.number().int().min(0).optional(),
  CpuPeriod: z.number().int().min(0).optional(),
  CpuQuota: z.number().int().min(-1).optional(),
  PidsLimit: z.number().int().nullish(),
  BlkioDeviceReadBps: throttleList,
  BlkioDeviceWriteBps: throttleList,
  BlkioDeviceReadIOps: throttleList,
  BlkioDeviceWriteIOps: throttleList,
  ReadonlyRootfs: z.boolean().optional(),
  CapAdd: strList,
  CapDrop: strList,
  SecurityOpt: strList,
  Privileged: z.boolean().optional(),
  Init: z.boolean().nullish(),
  PidMode: z.string().optional(),
  NetworkMode: z.string().optional(),
  IpcMode: z.string().optional(),
  UTSMode: z.string().optional(),
  UsernsMode: z.string().optional(),
  CgroupnsMode: z.string().optional(),
  RestartPolicy: restartPolicySchema,
  AutoRemove: z.boolean().optional(),
  ConsoleSize: z.array(z.number().int().min(0)).nullish(),
  LogConfig: z.object({ Type: z.string().optional(), Config: z.record(z.string(), z.string()).nullish() }).nullish(),
  Binds: strList,
  Tmpfs: z.record(z.string(), z.string()).nullish(),
  ShmSize: z.number().int().min(0).optional(),
  Ulimits: z.array(z.object({ Name: z.string(), Soft: z.number().int(), Hard: z.number().int() })).nullish(),
  StorageOpt: z.record(z.string(), z.string()).nullish(),
  Mounts: z
    .array(
      z.looseObject({
        Type: z.string().optional(),
        Source: z.string().optional(),
        Target: z.string(),
        ReadOnly: z.boolean().optional(),
        TmpfsOptions: z.looseObject({ SizeBytes: z.number().int().optional(), Mode: z.number().int().optional() }).nullish(),
        VolumeOptions: z
          .looseObject({ NoCopy: z.boolean().optional(), Labels: z.record(z.string(), z.string()).nullish(), DriverConfig: z.looseObject({ Name: z.string().optional(), Options: z.record(z.string(), z.string()).nullish() }).nullish(), Subpath: z.string().optional() })
          .nullish(),
        BindOptions: z.looseObject({ Propagation: z.string().optional() }).nullish(),
      }),
    )
    .nullish(),
  PortBindings: z.record(z.string(), z.array(z.object({ HostIp: z.string().optional(), HostPort: z.string().optional() })).nullable()).nullish(),
  Runtime: z.string().optional(),
  VolumesFrom: strList,
});

export const createBodySchema = z.looseObject({
  Hostname: z.string().optional(),
  Domainname: z.string().optional(),
  User: z.string().optional(),
  AttachStdin: z.boolean().optional(),
  AttachStdout: z.boolean().optional(),
  AttachStderr: z.boolean().optional(),
  Tty: z.boolean().optional(),
  OpenStdin: z.boolean().optional(),
  StdinOnce: z.boolean().optional(),
  Env: strList,
  Cmd: z.union([z.array(z.string()), z.string()]).nullish(),
  Entrypoint: z.union([z.array(z.string()), z.string()]).nullish(),
  Image: z.string({ error: 'Config.Image: an image is required' }).min(1, 'Config.Image: an image is required'),
  WorkingDir: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullish(),
  HostConfig: hostConfigSchema.nullish(),
  NetworkingConfig: z.looseObject({ EndpointsConfig: z.record(z.string(), z.looseObject({}).nullable()).nullish() }).nullish(),
});

export type CreateBody = z.infer<typeof createBodySchema>;
export type HostConfigBody = z.infer<typeof hostConfigSchema>;

// ---------------------------------------------------------------- unset values and flag names

/** Docker's zero values: a field holding one of these was not asked for. */
export function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value as object).every(isUnset);
  return false;
}

/** The docker flag behind each HostConfig field, for refusal messages. */
export const HOST_CONFIG_FLAGS: Record<string, string> = {
  VolumeDriver: '--volume-driver',
  VolumesFrom: '--volumes-from',
  ContainerIDFile: '--cidfile',
  Dns: '--dns',
  DnsOptions: '--dns-option',
  DnsSearch: '--dns-search',
  ExtraHosts: '--add-host',
  GroupAdd: '--group-add',
  Links: '--link',
  OomScoreAdj: '--oom-score-adj',
  PublishAllPorts: '--publish-all',
  ShmSize: '--shm-size',
  Isolation: '--isolation',
  CgroupParent: '--cgroup-parent',
  Cgroup: '--cgroup',
  BlkioWeight: '--blkio-weight',
  BlkioWeightDevice: '--blkio-weight-device',
  CpuRealtimePeriod: '--cpu-rt-period',
  CpuRealtimeRuntime: '--cpu-rt-runtime',
  CpusetCpus: '--cpuset-cpus',
  CpusetMems: '--cpuset-mems',
  Devices: '--device',
  DeviceCgroupRules: '--device-cgroup-rule',
  DeviceRequests: '--gpus',
  MemoryReservation: '--memory-reservation',
  MemorySwappiness: '--memory-swappiness',
  OomKillDisable: '--oom-kill-disable',
  Ulimits: '--ulimit',
  CpuCount: '--cpu-count',
  CpuPercent: '--cpu-percent',
  IOMaximumIOps: '--io-maxiops',
  IOMaximumBandwidth: '--io-maxbandwidth',
  MaskedPaths: 'HostConfig.MaskedPaths',
  ReadonlyPaths: 'HostConfig.ReadonlyPaths',
  KernelMemory: '--kernel-memory',
  KernelMemoryTCP: 'HostConfig.KernelMemoryTCP',
  Sysctls: '--sysctl',
  StorageOpt: '--storage-opt',
  Annotations: '--annotation',
  CpusetCpusShared: '--cpuset-cpus',
  Memory: '--memory',
  MemorySwap: '--memory-swap',
  NanoCpus: '--cpus',
  CpuShares: '--cpu-shares',
  CpuPeriod: '--cpu-period',
  CpuQuota: '--cpu-quota',
  PidsLimit: '--pids-limit',
  BlkioDeviceReadBps: '--device-read-bps',
  BlkioDeviceWriteBps: '--device-write-bps',
  BlkioDeviceReadIOps: '--device-read-iops',
  BlkioDeviceWriteIOps: '--device-write-iops',
  PidMode: '--pid',
  NetworkMode: '--network',
  IpcMode: '--ipc',
  UTSMode: '--uts',
  UsernsMode: '--userns',
  CgroupnsMode: '--cgroupns',
  SecurityOpt: '--security-opt',
  LogConfig: '--log-driver',
  Runtime: '--runtime',
  PortBindings: '--publish',
  Binds: '--volume',
  Tmpfs: '--tmpfs',
  Mounts: '--mount',
};

/** HostConfig fields the adapter maps (or which carry no behaviour, like ConsoleSize). */
const SUPPORTED_HOST_FIELDS = new Set([
  'Memory', 'MemorySwap', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'PidsLimit',
  'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps',
  'ReadonlyRootfs', 'CapAdd', 'CapDrop', 'SecurityOpt', 'Privileged', 'Init',
  'PidMode', 'NetworkMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode',
  'RestartPolicy', 'AutoRemove', 'ConsoleSize', 'LogConfig', 'Binds', 'Tmpfs', 'Mounts', 'PortBindings', 'Runtime',
  'ShmSize', 'Ulimits', 'StorageOpt', 'VolumesFrom',
  'GroupAdd', 'CpusetCpus', 'CpusetMems', 'MemoryReservation', 'MemorySwappiness', 'OomKillDisable', 'BlkioWeight',
  'Devices', 'Sysctls', 'ExtraHosts', 'Dns', 'DnsSearch', 'DnsOptions', 'Links',
  // the client-side flag --cidfile arrives as a path the CLI itself writes; the daemon ignores it too
  'ContainerIDFile',
]);

/** Fields whose zero is not 0: Docker sends -1 for "kernel default". */
const SPECIAL_UNSET: Record<string, (v: unknown) => boolean> = {
  MemorySwappiness: (v) => v === -1 || v === null || v === undefined,
  VolumeDriver: (v) => v === '' || v === 'local' || v === null || v === undefined,
};

/** Top-level Config fields the adapter maps or that carry no behaviour. */
const SUPPORTED_CONFIG_FIELDS = new Set([
  'Hostname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd',
  'Image', 'WorkingDir', 'Entrypoint', 'Labels', 'HostConfig', 'NetworkingConfig',
  // metadata only, in Docker as well
  'ExposedPorts', 'ArgsEscaped', 'OnBuild', 'Volumes',
  'Healthcheck', 'StopSignal', 'StopTimeout', 'MacAddress',
]);
const CONFIG_FLAGS: Record<string, string> = {
  Domainname: '--domainname',
  Healthcheck: '--health-cmd',
  StopSignal: '--stop-signal',
  StopTimeout: '--stop-timeout',
  MacAddress: '--mac-address',
  NetworkDisabled: 'Config.NetworkDisabled',
  Shell: 'Config.Shell',
};

// ---------------------------------------------------------------- mapping

export interface MapContext {
  /** PathOnHost → device numbers (fs.statSync(path).rdev); injectable for tests */
  deviceNumbers?: (path: string) => { major: number; minor: number };
}

export function blockDeviceNumbers(path: string): { major: number; minor: number } {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch (e) {
    throw badRequest(`no such device: ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isBlockDevice()) throw badRequest(`${path} is not a block device`);
  const rdev = st.rdev;
  // glibc's gnu_dev_major/minor
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

function argv(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}

export function mapRestartPolicy(p: z.infer<typeof restartPolicySchema>): RestartPolicy | undefined {
  if (!p || !p.Name) return undefined;
  const name = p.Name;
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw badRequest(`invalid restart policy '${name}'`);
  if (name !== 'on-failure' && (p.MaximumRetryCount ?? 0) > 0) {
    throw badRequest(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  return { name: name as RestartPolicy['name'], ...(p.MaximumRetryCount ? { maximumRetryCount: p.MaximumRetryCount } : {}) };
}

function mapThrottles(hc: HostConfigBody, ctx: MapContext): IoThrottle[] {
  const resolve = ctx.deviceNumbers ?? blockDeviceNumbers;
  const byDev = new Map<string, IoThrottle>();
  const kinds: [keyof HostConfigBody, keyof IoThrottle][] = [
    ['BlkioDeviceReadBps', 'readBps'],
    ['BlkioDeviceWriteBps', 'writeBps'],
    ['BlkioDeviceReadIOps', 'readIops'],
    ['BlkioDeviceWriteIOps', 'writeIops'],
  ];
  for (const [field, key] of kinds) {
    for (const t of (hc[field] as { Path: string; Rate: number }[] | null | undefined) ?? []) {
      let dev;
      try {
        dev = resolve(t.Path);
      } catch (e) {
        throw badRequest(`${HOST_CONFIG_FLAGS[field]}: ${(e as Error).message}`);
      }
      const k = `${dev.major}:${dev.minor}`;
      const entry = byDev.get(k) ?? { major: dev.major, minor: dev.minor };
      (entry as unknown as Record<string, number>)[key] = t.Rate;
      byDev.set(k, entry);
    }
  }
  return [...byDev.values()];
}

function mapSecurityOpts(opts: string[], out: ContainerConfig): void {
  for (const raw of opts) {
    const opt = raw.trim();
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const key = m?.[1] ?? opt;
    const value = m?.[2];
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true' || value === '') out.noNewPrivileges = true;
      else if (value === 'false') out.noNewPrivileges = false;
      else throw badRequest(`invalid --security-opt 2: "${opt}"`);
    } else if (key === 'seccomp') {
      if (value === 'unconfined') out.seccomp = 'unconfined';
      else if (value === 'builtin' || value === 'default') out.seccomp = 'default';
      else throw unsupported(`--security-opt seccomp=<profile>`, 'only seccomp=unconfined and the built-in default profile are');
    } else if (key === 'apparmor' && value === 'unconfined') {
      // Glassbox applies no AppArmor profile: unconfined is what it does.
    } else if (key === 'label' && value === 'disable') {
      // nor SELinux labels: label=disable is what it does.
    } else {
      throw unsupported(`--security-opt ${opt}`);
    }
  }
}

function mapNamespaceModes(hc: HostConfigBody, out: ContainerConfig): void {
  const ns: Partial<Record<Namespace, boolean>> = {};
  const share: Partial<Record<Namespace, string>> = {};
  const containerRef = (v: string) => /^container:./.test(v);

  const pid = hc.PidMode ?? '';
  if (pid === 'host') ns.pid = false;
  else if (containerRef(pid)) share.pid = pid;
  else if (pid !== '' && pid !== 'private') throw badRequest(`--pid: invalid PID mode "${pid}"`);

  const ipc = hc.IpcMode ?? '';
  if (ipc === 'host') ns.ipc = false;
  else if (containerRef(ipc)) share.ipc = ipc;
  else if (!['', 'private', 'shareable'].includes(ipc)) {
    if (ipc === 'none') throw unsupported('--ipc none');
    throw badRequest(`--ipc: invalid IPC mode "${ipc}"`);
  }

  const uts = hc.UTSMode ?? '';
  if (uts === 'host') ns.uts = false;
  else if (uts !== '' && uts !== 'private') throw badRequest(`--uts: invalid UTS mode "${uts}"`);

  // private and auto (podman's word): a user namespace with a host uid range of its own
  const userns = hc.UsernsMode ?? '';
  if (userns === 'host') ns.user = false;
  else if (userns === 'private' || userns === 'auto') ns.user = true;
  else if (userns.startsWith('auto:')) throw unsupported(`--userns ${userns}`, 'options of auto: use --userns auto (each container gets 65536 ids of its own)');
  else if (userns !== '') throw unsupported(`--userns ${userns}`, 'use --userns host, private or auto');

  const cgroupns = hc.CgroupnsMode ?? '';
  if (cgroupns === 'host') ns.cgroup = false;
  else if (cgroupns === 'private') ns.cgroup = true;
  else if (cgroupns !== '') throw badRequest(`--cgroupns: invalid cgroup namespace mode "${cgroupns}"`);

  const net = hc.NetworkMode ?? '';
  if (net === '' || net === 'default') {
    // the engine's default: the bridge when it has networking
  } else if (net === 'none' || net === 'host' || net === 'bridge' || containerRef(net)) {
    out.network = net;
  } else {
    // a user-defined network name: the engine decides whether it exists
    out.network = net;
  }

  if (Object.keys(ns).length) out.namespaces = ns;
  if (Object.keys(share).length) out.shareNamespaces = share;
  if (out.hostname && ns.uts === false) throw badRequest('Conflicting options: hostname and the UTS mode');
  if (out.hostname && out.network === 'host') {
    // Docker allows --hostname with --network host (it only affects the UTS namespace)
  }
}

/** Docker's own check of a destination (the engine checks again, with its own words). */
function checkDestination(target: string, spec: string): void {
  const bad = !target.startsWith('/') ? 'mount path must be absolute' : target.split('/').includes('..') ? 'mount path must not contain ".."' : target.split('/').every((c) => c === '' || c === '.') ? "destination can't be '/'" : null;
  if (bad) throw badRequest(`invalid mount config: ${spec}: invalid mount path: '${target}' ${bad}`);
}

/** -v's options: ro/rw, nocopy (volumes), SELinux z/Z (no SELinux here: no effect), private propagation. */
const BIND_MODES = ['ro', 'rw', 'z', 'Z', 'rprivate', 'private'];

function mapMounts(hc: HostConfigBody, body: CreateBody, out: ContainerConfig): void {
  const mounts: NonNullable<ContainerConfig['mounts']> = [];
  for (const b of hc.Binds ?? []) {
    const parts = b.split(':');
    const [source, target, mode = ''] = parts;
    if (parts.length < 2 || parts.length > 3 || !target || !source) throw badRequest(`invalid volume specification: '${b}'`);
    const modes = mode.split(',').filter(Boolean);
    const named = !source.startsWith('/');
    for (const m of modes) if (!BIND_MODES.includes(m) && !(named && m === 'nocopy')) throw unsupported(`-v mode "${m}"`, named ? 'ro, rw and nocopy are' : 'ro, rw and rprivate are');
    checkDestination(target, `-v ${b}`);
    if (named) mounts.push({ type: 'volume', source, target, readOnly: modes.includes('ro'), ...(modes.includes('nocopy') ? { noCopy: true } : {}) });
    else mounts.push({ type: 'bind', source, target, readOnly: modes.includes('ro') });
  }
  // -v /path: a new anonymous volume (the CLI sends it in Config.Volumes, as an image's VOLUME is)
  for (const target of Object.keys(body.Volumes ?? {})) {
    checkDestination(target, `-v ${target}`);
    if (!mounts.some((m) => m.target === target)) mounts.push({ type: 'volume', target });
  }
  for (const [target, opts] of Object.entries(hc.Tmpfs ?? {})) {
    const o = opts.split(',').filter(Boolean);
    const m: NonNullable<ContainerConfig['mounts']>[number] = { type: 'tmpfs', target, readOnly: o.includes('ro') };
    for (const x of o) {
      const [k, v] = x.split('=', 2);
      if (k === 'size' && v !== undefined) {
        const bytes = parseSize(v);
        if (bytes === null || bytes < 1) throw badRequest(`--tmpfs ${target}: invalid size "${v}" (like 64m)`);
        m.size = bytes;
      } else if (k === 'mode' && v !== undefined) {
        if (!/^[0-7]{1,4}$/.test(v)) throw badRequest(`--tmpfs ${target}: invalid mode "${v}" (octal, like 1777)`);
        m.mode = parseInt(v, 8);
      } else if (!['ro', 'rw', 'noexec', 'nosuid', 'nodev'].includes(x)) throw unsupported(`--tmpfs option "${x}"`);
    }
    checkDestination(target, `--tmpfs ${target}`);
    mounts.push(m);
  }
  for (const m of hc.Mounts ?? []) {
    checkDestination(m.Target, `--mount type=${m.Type ?? 'volume'},target=${m.Target}`);
    if (m.Type === 'bind') {
      if (!m.Source?.startsWith('/')) throw badRequest('--mount type=bind needs an absolute source path');
      const propagation = m.BindOptions?.Propagation;
      if (propagation && !['rprivate', 'private'].includes(propagation)) throw unsupported(`--mount bind-propagation=${propagation}`, 'mounts are private here');
      mounts.push({ type: 'bind', source: m.Source, target: m.Target, readOnly: m.ReadOnly === true });
    } else if (m.Type === 'volume' || m.Type === undefined) {
      const vo = m.VolumeOptions;
      if (vo?.Labels && Object.keys(vo.Labels).length) throw unsupported('--mount volume-label', 'make the volume first: docker volume create --label');
      if (vo?.DriverConfig?.Name && vo.DriverConfig.Name !== 'local') throw unsupported(`--mount volume-driver=${vo.DriverConfig.Name}`, 'only the local driver is');
      if (vo?.DriverConfig?.Options && Object.keys(vo.DriverConfig.Options).length) throw unsupported('--mount volume-opt', 'the local driver here keeps plain directories');
      if (vo?.Subpath) throw unsupported('--mount volume-subpath');
      mounts.push({ type: 'volume', ...(m.Source ? { source: m.Source } : {}), target: m.Target, readOnly: m.ReadOnly === true, ...(vo?.NoCopy ? { noCopy: true } : {}) });
    } else if (m.Type === 'tmpfs') {
      mounts.push({
        type: 'tmpfs',
        target: m.Target,
        readOnly: m.ReadOnly === true,
        ...(m.TmpfsOptions?.SizeBytes ? { size: m.TmpfsOptions.SizeBytes } : {}),
        ...(m.TmpfsOptions?.Mode ? { mode: m.TmpfsOptions.Mode } : {}),
      });
    }
    else throw unsupported(`--mount type=${m.Type}`, 'bind, volume and tmpfs mounts are');
  }
  if (mounts.length) out.mounts = mounts;
}

/** --log-driver/--log-opt, --shm-size, --ulimit, --storage-opt: the engine checks the values. */
function mapLimitsOfFiles(hc: HostConfigBody, out: ContainerConfig): void {
  const log = hc.LogConfig;
  if (log && (log.Type || Object.keys(log.Config ?? {}).length)) {
    out.logConfig = {
      ...(log.Type ? { driver: log.Type as NonNullable<ContainerConfig['logConfig']>['driver'] } : {}),
      ...(Object.keys(log.Config ?? {}).length ? { options: { ...log.Config } } : {}),
    };
  }
  if (hc.ShmSize) out.shmSize = hc.ShmSize;
  if (hc.Ulimits?.length) out.ulimits = hc.Ulimits.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard }));
  for (const [k, v] of Object.entries(hc.StorageOpt ?? {})) {
    if (k !== 'size') throw unsupported(`--storage-opt ${k}`, 'only size= is');
    const bytes = parseSize(v);
    if (bytes === null || bytes < 1) throw badRequest(`--storage-opt size: invalid size "${v}" (like 1G)`);
    out.storageSize = bytes;
  }
}

function mapPorts(hc: HostConfigBody, out: ContainerConfig): void {
  const ports: NonNullable<ContainerConfig['ports']> = [];
  for (const [key, bindings] of Object.entries(hc.PortBindings ?? {})) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m) throw badRequest(`invalid port specification: "${key}"`);
    if (m[2] === 'sctp') throw unsupported('--publish .../sctp');
    for (const b of bindings ?? []) {
      const hostPort = b.HostPort ? Number(b.HostPort) : 0;
      if (!Number.isInteger(hostPort)) throw unsupported(`--publish with a port range (${b.HostPort})`);
      ports.push({ hostIp: b.HostIp || undefined, hostPort, containerPort: Number(m[1]), protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp' });
    }
  }
  if (ports.length) out.ports = ports;
}

/**
 * Checks fields one by one, as Docker's decoder does: a supported one passes, a known option
 * Glassbox cannot honour is refused by its flag unless it holds its zero value, and a field it
 * does not know at all is ignored (Docker ignores unknown JSON fields: a Node client sends `name`
 * in the body, a Python client a top-level `Runtime`).
 */
export function refuseUnsupported(body: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(body)) {
    if (SUPPORTED_CONFIG_FIELDS.has(field) || !(field in CONFIG_FLAGS)) continue;
    if (isUnset(value)) continue;
    throw unsupported(CONFIG_FLAGS[field]);
  }
  const hc = (body.HostConfig ?? {}) as Record<string, unknown>;
  for (const [field, value] of Object.entries(hc)) {
    if (SUPPORTED_HOST_FIELDS.has(field) || !(field in HOST_CONFIG_FLAGS)) continue;
    const unset = SPECIAL_UNSET[field] ? SPECIAL_UNSET[field](value) : isUnset(value);
    if (unset) continue;
    throw unsupported(HOST_CONFIG_FLAGS[field]);
  }
  const log = hc.LogConfig as { Type?: string; Config?: Record<string, string> } | null | undefined;
  if (log?.Type && !['json-file', 'local', 'none'].includes(log.Type)) throw unsupported(`--log-driver ${log.Type}`, 'the drivers are json-file, local and none');
  const eps = ((body.NetworkingConfig as { EndpointsConfig?: Record<string, Record<string, unknown> | null> } | null)?.EndpointsConfig ?? {}) as Record<
    string,
    Record<string, unknown> | null
  >;
  for (const ep of Object.values(eps)) {
    const opts = (ep?.DriverOpts ?? {}) as Record<string, unknown>;
    // the bridge driver reads these two; any other endpoint option is ignored, as Docker's bridge does
    for (const k of ['com.docker.network.endpoint.sysctls', 'com.docker.network.endpoint.ifname']) {
      if (!isUnset(opts[k])) throw unsupported(`--network driver-opt ${k}`);
    }
    if (!isUnset(ep?.IPAMConfig) && !isUnset((ep!.IPAMConfig as Record<string, unknown>).IPv6Address)) throw unsupported('--ip6');
    if (!isUnset(ep?.IPAMConfig) && !isUnset((ep!.IPAMConfig as Record<string, unknown>).LinkLocalIPs)) throw unsupported('--link-local-ip');
  }
}

function zodMessage(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const path = i.path.join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

/** Parses and checks a create body; throws ApiError(400) naming the problem. */
export function parseCreateBody(input: unknown): CreateBody {
  const parsed = createBodySchema.safeParse(input);
  if (!parsed.success) throw new ApiError(400, `invalid container config: ${zodMessage(parsed.error)}`);
  refuseUnsupported(parsed.data as Record<string, unknown>);
  return parsed.data;
}

export function toContainerConfig(body: CreateBody, name: string | undefined, ctx: MapContext = {}): ContainerConfig {
  const hc: HostConfigBody = body.HostConfig ?? {};
  const out: ContainerConfig = { image: body.Image };
  if (name) out.name = name;
  const entrypoint = argv(body.Entrypoint);
  if (entrypoint && entrypoint.length) out.entrypoint = entrypoint;
  // --entrypoint "" resets the image's entrypoint: Docker sends [""]
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') out.entrypoint = [];
  const cmd = argv(body.Cmd);
  if (cmd && cmd.length) out.cmd = cmd;
  if (body.Env?.length) out.env = body.Env;
  if (body.WorkingDir) out.workingDir = body.WorkingDir;
  if (body.User) out.user = body.User;
  if (body.Hostname) out.hostname = body.Hostname;
  if (body.Tty) out.tty = true;
  if (body.OpenStdin) out.openStdin = true;
  if (body.OpenStdin && body.StdinOnce) out.stdinOnce = true;
  if (body.Labels && Object.keys(body.Labels).length) out.labels = body.Labels;

  // limits: 0 (and -1 for pids) mean "no limit"
  const limits: NonNullable<ContainerConfig['limits']> = {};
  if (hc.Memory) limits.memory = hc.Memory;
  if (hc.MemorySwap) limits.memorySwap = hc.MemorySwap;
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) throw badRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (hc.NanoCpus) limits.cpus = hc.NanoCpus / 1e9;
  if (hc.CpuQuota && hc.CpuQuota > 0) {
    const period = hc.CpuPeriod || 100_000;
    limits.cpus = hc.CpuQuota / period;
    limits.cpuPeriod = period;
  } else if (hc.CpuPeriod) {
    limits.cpuPeriod = hc.CpuPeriod;
  }
  if (hc.CpuShares) limits.cpuShares = hc.CpuShares;
  if (hc.PidsLimit && hc.PidsLimit > 0) limits.pids = hc.PidsLimit;
  // --pids-limit -1: no limit, not even the daemon's default-pids-limit (0, the CLI's unset, gets the default)
  else if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && hc.PidsLimit < 0) limits.pids = null;
  const io = mapThrottles(hc, ctx);
  if (io.length) limits.io = io;
  if (Object.keys(limits).length) out.limits = limits;

  if (hc.ReadonlyRootfs) out.readOnlyRoot = true;
  if (hc.Privileged) out.privileged = true;
  if (hc.Init) out.init = true;
  if (hc.CapAdd?.length) out.capAdd = hc.CapAdd;
  if (hc.CapDrop?.length) out.capDrop = hc.CapDrop;
  mapSecurityOpts(hc.SecurityOpt ?? [], out);
  mapNamespaceModes(hc, out);
  mapMounts(hc, body, out);
  if (hc.VolumesFrom?.length) out.volumesFrom = hc.VolumesFrom;
  mapPorts(hc, out);
  const restart = mapRestartPolicy(hc.RestartPolicy);
  if (restart && restart.name !== 'no') out.restartPolicy = restart;
  if (hc.AutoRemove) {
    if (restart && restart.name !== 'no') throw badRequest('Conflicting options: --restart and --rm');
    out.autoRemove = true;
  }
  mapLimitsOfFiles(hc, out);
  // the engine refuses a runtime it does not have, naming the ones it has (one place for REST too)
  if (hc.Runtime) out.runtime = hc.Runtime;
  mapOptions(body, hc, out);
  return out;
}

const NS_PER_MS = 1_000_000;

/** Docker's HealthConfig (durations in ns, 0 = the default) → the engine's (ms). */
export function mapHealthcheck(h: unknown): ContainerConfig['healthcheck'] {
  if (!h || typeof h !== 'object') return undefined;
  const x = h as { Test?: unknown; Interval?: unknown; Timeout?: unknown; StartPeriod?: unknown; Retries?: unknown };
  const ms = (v: unknown, flag: string, min = 1) => {
    if (v === undefined || v === null || v === 0) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badRequest(`${flag}: a duration in nanoseconds was expected`);
    if (v / NS_PER_MS < min) throw badRequest(`${flag} cannot be less than 1ms`);
    return Math.round(v / NS_PER_MS);
  };
  const test = x.Test;
  if (test !== undefined && test !== null && !(Array.isArray(test) && test.every((t) => typeof t === 'string'))) throw badRequest('--health-cmd: Healthcheck.Test must be a list of strings');
  const out: NonNullable<ContainerConfig['healthcheck']> = { test: (test as string[] | null | undefined)?.length ? (test as string[]) : [] };
  const interval = ms(x.Interval, '--health-interval');
  const timeout = ms(x.Timeout, '--health-timeout');
  const start = ms(x.StartPeriod, '--health-start-period', 0);
  if (interval !== undefined) out.intervalMs = interval;
  if (timeout !== undefined) out.timeoutMs = timeout;
  if (start !== undefined) out.startPeriodMs = start;
  if (x.Retries !== undefined && x.Retries !== null && x.Retries !== 0) {
    if (typeof x.Retries !== 'number' || !Number.isInteger(x.Retries) || x.Retries < 0) throw badRequest('--health-retries cannot be negative');
    out.retries = x.Retries;
  }
  // nothing asked: the image's HEALTHCHECK applies (the engine merges), so leave it out
  if (!out.test.length && Object.keys(out).length === 1) return undefined;
  return out;
}

/** "name:ip" (and the newer "name=ip"; IPv6 addresses hold colons, so the first separator counts). */
function parseExtraHost(h: string): { name: string; ip: string } {
  const i = h.search(/[=:]/);
  if (i <= 0 || i === h.length - 1) throw badRequest(`invalid argument "${h}" for "--add-host" flag: bad format for add-host: "${h}"`);
  return { name: h.slice(0, i), ip: h.slice(i + 1).replace(/^\[(.*)\]$/, '$1') };
}

/** The endpoint settings of the network the container joins at create (keyed by its name). */
function endpointOf(body: CreateBody, network: string | undefined): Record<string, unknown> | null {
  const eps = (body.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, Record<string, unknown> | null>;
  const keys = Object.keys(eps);
  const key = network && keys.includes(network) ? network : keys.length === 1 ? keys[0] : undefined;
  return key ? eps[key] : null;
}

/** Docker's "other:alias" (the CLI's form) or "/other:/me/alias" (the daemon's own). */
function parseLink(l: string): { container: string; alias: string } {
  const [c, a] = l.split(':');
  const container = (c ?? '').replace(/^\//, '');
  const alias = (a ?? c ?? '').split('/').filter(Boolean).at(-1) ?? '';
  if (!container || !alias) throw badRequest(`invalid --link "${l}": use name[:alias]`);
  return { container, alias };
}

/** Healthcheck, stop signal/timeout, groups, cpuset, memory and blkio extras, devices, sysctls, hosts, DNS, endpoint. */
function mapOptions(body: CreateBody, hc: HostConfigBody, out: ContainerConfig): void {
  const b = body as Record<string, unknown>;
  const h = b.Healthcheck;
  const health = mapHealthcheck(h);
  if (health) out.healthcheck = health;
  if (typeof b.StopSignal === 'string' && b.StopSignal) out.stopSignal = b.StopSignal;
  if (b.StopTimeout !== undefined && b.StopTimeout !== null) {
    if (typeof b.StopTimeout !== 'number' || !Number.isInteger(b.StopTimeout)) throw badRequest('--stop-timeout: a number of seconds was expected');
    out.stopTimeout = b.StopTimeout;
  }
  const x = hc as Record<string, unknown>;
  const strs = (v: unknown, flag: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((e) => typeof e !== 'string')) throw badRequest(`${flag}: a list of strings was expected`);
    return v as string[];
  };
  const groups = strs(x.GroupAdd, '--group-add');
  if (groups.length) out.groupAdd = groups;

  const limits: NonNullable<ContainerConfig['limits']> = { ...(out.limits ?? {}) };
  if (typeof x.CpusetCpus === 'string' && x.CpusetCpus) limits.cpusetCpus = x.CpusetCpus;
  if (typeof x.CpusetMems === 'string' && x.CpusetMems) limits.cpusetMems = x.CpusetMems;
  if (typeof x.MemoryReservation === 'number' && x.MemoryReservation > 0) limits.memoryReservation = x.MemoryReservation;
  if (typeof x.MemorySwappiness === 'number' && x.MemorySwappiness !== -1) limits.memorySwappiness = x.MemorySwappiness;
  if (x.OomKillDisable === true) limits.oomKillDisable = true;
  if (typeof x.BlkioWeight === 'number' && x.BlkioWeight > 0) limits.blkioWeight = x.BlkioWeight;
  if (Object.keys(limits).length) out.limits = limits;

  const devices = (x.Devices ?? []) as { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }[];
  if (!Array.isArray(devices)) throw badRequest('--device: a list was expected');
  if (devices.length) {
    out.devices = devices.map((d) => ({
      path: d.PathOnHost ?? '',
      ...(d.PathInContainer && d.PathInContainer !== d.PathOnHost ? { containerPath: d.PathInContainer } : {}),
      ...(d.CgroupPermissions && d.CgroupPermissions !== 'rwm' ? { permissions: d.CgroupPermissions } : {}),
    }));
  }
  const sysctls = x.Sysctls;
  if (sysctls && typeof sysctls === 'object' && Object.keys(sysctls).length) out.sysctls = sysctls as Record<string, string>;

  const hosts = strs(x.ExtraHosts, '--add-host');
  if (hosts.length) out.extraHosts = hosts.map(parseExtraHost);
  const dns = { servers: strs(x.Dns, '--dns'), search: strs(x.DnsSearch, '--dns-search'), options: strs(x.DnsOptions, '--dns-option') };
  if (dns.servers.length || dns.search.length || dns.options.length) {
    out.dns = Object.fromEntries(Object.entries(dns).filter(([, v]) => v.length));
  }

  const endpoint: NonNullable<ContainerConfig['endpoint']> = {};
  const ep = endpointOf(body, hc.NetworkMode);
  const ipam = (ep?.IPAMConfig ?? null) as { IPv4Address?: string } | null;
  if (ipam?.IPv4Address) endpoint.ip = ipam.IPv4Address;
  const aliases = strs(ep?.Aliases, '--network-alias');
  if (aliases.length) endpoint.aliases = aliases;
  const mac = (typeof ep?.MacAddress === 'string' && ep.MacAddress) || (typeof b.MacAddress === 'string' && b.MacAddress) || '';
  if (mac) endpoint.macAddress = mac;
  const links = [...strs(x.Links, '--link'), ...strs(ep?.Links, '--link')].map(parseLink);
  if (links.length) endpoint.links = links;
  if (Object.keys(endpoint).length) out.endpoint = endpoint;
}
