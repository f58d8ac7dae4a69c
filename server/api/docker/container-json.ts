// Container records → Docker's JSON: GET /containers/json (summaries) and /containers/{id}/json.
import type { ContainerRecord, ContainerStatus, LayerChange } from '../../engine/index.js';
import type { NetworkInfo } from '../../engine/index.js';
import { labelMatches, type Filters, checkFilterKeys } from './filters.js';
import { endpointId } from './networks.js';
import { isActive } from '../../engine/index.js';
import { badRequest } from './errors.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker's go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

/** The STATUS column of docker ps. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const st = rec.state;
  const since = (iso: string | null) => (iso ? humanDuration(now - Date.parse(iso)) : '');
  switch (st.status) {
    case 'running':
      // docker ps: "Up 5 seconds (healthy)", "(health: starting)", "(unhealthy)"
      return `Up ${since(st.startedAt)}${st.health ? ` (${st.health.status === 'starting' ? 'health: starting' : st.health.status})` : ''}`;
    case 'paused':
      return `Up ${since(st.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${st.exitCode}) ${since(st.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return st.finishedAt ? `Exited (${st.exitCode}) ${since(st.finishedAt)} ago` : 'Exited';
    default:
      return 'Created';
  }
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

const isLive = (rec: ContainerRecord) => isActive(rec.state.status);

/** Published ports, as docker ps shows them: only while the container runs (Docker frees them at exit). */
function portsOf(rec: ContainerRecord) {
  if (!isLive(rec)) return [];
  return (rec.network.ports ?? rec.config.ports ?? []).map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol }));
}

/** NetworkSettings.Ports: {"80/tcp": [{HostIp, HostPort}]} while running. */
function portMap(rec: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  if (!isLive(rec)) return out;
  for (const p of rec.network.ports ?? rec.config.ports ?? []) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  return out;
}

function networkName(rec: ContainerRecord): string {
  return rec.network.mode === 'default' ? 'bridge' : rec.network.mode;
}

/** The engine's networks, for a container's endpoints on each (the record holds only the first). */
export type NetworkList = NetworkInfo[];

function prefixLenOf(rec: ContainerRecord, nets?: NetworkList): number {
  if (!rec.network.ipAddress) return 0;
  const n = nets?.find((x) => x.id === rec.network.networkId);
  const c = n?.containers[rec.id];
  if (c?.prefixLen) return c.prefixLen;
  const bits = n?.subnet ? Number(n.subnet.split('/')[1]) : NaN;
  return Number.isInteger(bits) ? bits : 16;
}

function endpointJson(f: { networkId: string; endpointId: string; gateway: string; ip: string; prefixLen: number; mac: string; aliases?: string[] | null }) {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: f.aliases ?? null,
    MacAddress: f.mac,
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: f.networkId,
    EndpointID: f.endpointId,
    Gateway: f.gateway,
    IPAddress: f.ip,
    IPPrefixLen: f.prefixLen,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: f.aliases ?? null,
  };
}

/**
 * On a user-defined network Docker lists the container's short id among its aliases (API < 1.44,
 * which compose 1.29 speaks; later ones name it in DNSNames): compose takes a container without it
 * for one it must disconnect and connect again.
 */
function aliasesOn(rec: ContainerRecord, networkName: string, builtin: boolean): string[] | null {
  if (builtin || ['bridge', 'host', 'none'].includes(networkName)) return null;
  return [...new Set([rec.id.slice(0, 12), ...(rec.config.endpoint?.aliases ?? [])])];
}

/** NetworkSettings.Networks: one entry per network the container is on. */
function networksOf(rec: ContainerRecord, nets?: NetworkList): Record<string, ReturnType<typeof endpointJson>> {
  const out: Record<string, ReturnType<typeof endpointJson>> = {};
  for (const n of nets ?? []) {
    const c = n.containers[rec.id];
    if (!c) continue;
    out[n.name] = endpointJson({ networkId: n.id, endpointId: endpointId(n.id, rec.id), gateway: c.ip ? (n.gateway ?? '') : '', ip: c.ip, prefixLen: c.ip ? c.prefixLen : 0, mac: c.mac, aliases: aliasesOn(rec, n.name, n.builtin) });
  }
  if (Object.keys(out).length) return out;
  // not wired yet (created, never started), or an engine without networking: what the record says
  if (rec.network.mode.startsWith('container:')) return out;
  const netId = rec.network.networkId ?? nets?.find((n) => n.name === networkName(rec))?.id ?? '';
  out[networkName(rec)] = endpointJson({
    networkId: netId,
    endpointId: netId && rec.network.ipAddress ? endpointId(netId, rec.id) : '',
    gateway: rec.network.gateway ?? '',
    ip: rec.network.ipAddress ?? '',
    prefixLen: prefixLenOf(rec, nets),
    mac: rec.network.macAddress ?? '',
    aliases: aliasesOn(rec, networkName(rec), nets?.find((n) => n.id === netId)?.builtin ?? false),
  });
  return out;
}

export function containerSummary(rec: ContainerRecord, now = Date.now(), nets?: NetworkList) {
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.image.ref,
    ImageID: rec.image.id,
    Command: [rec.path, ...rec.args].map(shellQuote).join(' '),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: portsOf(rec),
    Labels: rec.config.labels ?? {},
    State: rec.state.status,
    Status: statusText(rec, now),
    HostConfig: { NetworkMode: networkName(rec) },
    NetworkSettings: { Networks: networksOf(rec, nets) },
    Mounts: mountsOf(rec),
  };
}

function mountsOf(rec: ContainerRecord) {
  return (rec.config.mounts ?? []).map((m) => ({
    Type: m.type,
    // a volume: its name (its directory on the host is in docker volume inspect)
    ...(m.type === 'volume' ? { Name: m.source ?? '', Driver: 'local' } : {}),
    Source: m.type === 'volume' ? '' : (m.source ?? ''),
    Destination: m.target,
    Mode: m.readOnly ? 'ro' : '',
    RW: !m.readOnly,
    Propagation: m.type === 'bind' ? 'rprivate' : '',
  }));
}

const nsMode = (rec: ContainerRecord, ns: 'pid' | 'ipc' | 'uts' | 'user' | 'cgroup', dflt: string): string => {
  if (rec.config.namespaces?.[ns] === false) return 'host';
  const share = rec.config.shareNamespaces?.[ns];
  if (share) return share;
  if (ns === 'cgroup') return rec.config.namespaces?.cgroup === false ? 'host' : 'private';
  return dflt;
};

/** Docker's restart policy name; "no" when none. */
function restartPolicyOf(rec: ContainerRecord) {
  const p = rec.config.restartPolicy ?? { name: 'no' as const };
  return { Name: p.name, MaximumRetryCount: p.maximumRetryCount ?? 0 };
}

function throttles(rec: ContainerRecord, key: 'readBps' | 'writeBps' | 'readIops' | 'writeIops') {
  return rec.limits.io
    .filter((t) => t[key] !== undefined)
    .map((t) => ({ Path: `/dev/block/${t.major}:${t.minor}`, Rate: t[key] as number }));
}

export interface ImageDefaults {
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: Record<string, unknown>;
}

/** GET /containers/{id}/json */
export function containerInspect(rec: ContainerRecord, image: ImageDefaults = {}, nets?: NetworkList) {
  const c = rec.config;
  const l = rec.limits;
  const st = rec.state;
  const running = isActive(st.status);
  const cpus = l.cpus ?? 0;
  const period = l.cpuPeriod ?? 100_000;
  const env = mergeEnv(image.Env ?? [], c.env ?? []);
  return {
    Id: rec.id,
    Created: rec.created,
    Path: rec.path,
    Args: rec.args,
    State: {
      Status: st.status,
      Running: isActive(st.status),
      Paused: st.status === 'paused',
      Restarting: st.status === 'restarting',
      OOMKilled: st.oomKilled,
      Dead: st.status === 'dead',
      Pid: running ? st.pid : 0,
      ExitCode: st.exitCode,
      Error: st.error,
      StartedAt: st.startedAt ?? ZERO_TIME,
      FinishedAt: st.finishedAt ?? ZERO_TIME,
      ...(st.health
        ? {
            Health: {
              Status: st.health.status,
              FailingStreak: st.health.failingStreak,
              Log: st.health.log.map((e) => ({ Start: e.start, End: e.end, ExitCode: e.exitCode, Output: e.output })),
            },
          }
        : {}),
    },
    Image: rec.image.id,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: rec.logging?.driver === 'none' ? '' : rec.paths.log,
    Name: `/${rec.name}`,
    RestartCount: st.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: (c.mounts ?? []).filter((m) => m.type === 'bind').map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
      ContainerIDFile: '',
      LogConfig: { Type: c.logConfig?.driver ?? 'json-file', Config: c.logConfig?.options ?? {} },
      NetworkMode: networkName(rec),
      PortBindings: Object.fromEntries(
        (c.ports ?? []).map((p) => [`${p.containerPort}/${p.protocol}`, [{ HostIp: p.hostIp ?? '', HostPort: String(p.hostPort) }]]),
      ),
      RestartPolicy: restartPolicyOf(rec),
      AutoRemove: c.autoRemove === true,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      CapAdd: c.capAdd ?? null,
      CapDrop: c.capDrop ?? null,
      CgroupnsMode: nsMode(rec, 'cgroup', 'private'),
      Dns: c.dns?.servers ?? [],
      DnsOptions: c.dns?.options ?? [],
      DnsSearch: c.dns?.search ?? [],
      ExtraHosts: c.extraHosts?.map((h) => `${h.name}:${h.ip}`) ?? null,
      GroupAdd: c.groupAdd ?? null,
      IpcMode: nsMode(rec, 'ipc', 'private'),
      Cgroup: '',
      Links: c.endpoint?.links?.map((k) => `/${k.container}:/${rec.name}/${k.alias}`) ?? null,
      OomScoreAdj: 0,
      PidMode: nsMode(rec, 'pid', ''),
      Privileged: c.privileged === true,
      PublishAllPorts: false,
      ReadonlyRootfs: c.readOnlyRoot === true,
      SecurityOpt: [
        ...(c.noNewPrivileges ? ['no-new-privileges'] : []),
        ...(c.seccomp === 'unconfined' ? ['seccomp=unconfined'] : []),
      ],
      UTSMode: nsMode(rec, 'uts', ''),
      UsernsMode: c.namespaces?.user === true ? 'private' : c.namespaces?.user === false ? 'host' : '',
      ShmSize: c.shmSize ?? 67108864,
      Runtime: c.runtime ?? 'builtin',
      Isolation: '',
      CpuShares: l.cpuShares ?? 0,
      Memory: l.memory ?? 0,
      NanoCpus: l.cpus != null && l.cpuPeriod === undefined ? Math.round(cpus * 1e9) : 0,
      CgroupParent: '',
      BlkioWeight: l.blkioWeight ?? 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: throttles(rec, 'readBps'),
      BlkioDeviceWriteBps: throttles(rec, 'writeBps'),
      BlkioDeviceReadIOps: throttles(rec, 'readIops'),
      BlkioDeviceWriteIOps: throttles(rec, 'writeIops'),
      CpuPeriod: l.cpuPeriod ?? 0,
      CpuQuota: l.cpus != null && l.cpuPeriod !== undefined ? Math.round(cpus * period) : 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: l.cpusetCpus ?? '',
      CpusetMems: l.cpusetMems ?? '',
      Devices: (c.devices ?? []).map((d) => ({ PathOnHost: d.path, PathInContainer: d.containerPath ?? d.path, CgroupPermissions: d.permissions ?? 'rwm' })),
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: l.memoryReservation ?? 0,
      MemorySwap: l.memorySwap ?? (l.memory ? l.memory * 2 : 0),
      MemorySwappiness: l.memorySwappiness ?? null,
      OomKillDisable: l.oomKillDisable ?? null,
      ...(c.sysctls ? { Sysctls: c.sysctls } : {}),
      PidsLimit: l.pids ?? null,
      Ulimits: (c.ulimits ?? []).map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
      Tmpfs: Object.fromEntries(
        (c.mounts ?? [])
          .filter((m) => m.type === 'tmpfs')
          .map((m) => [m.target, [m.readOnly ? 'ro' : '', m.size ? `size=${m.size}` : '', m.mode !== undefined ? `mode=${m.mode.toString(8)}` : ''].filter(Boolean).join(',')]),
      ),
      StorageOpt: c.storageSize ? { size: String(c.storageSize) } : null,
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      Init: c.init ?? null,
      MaskedPaths: c.privileged ? [] : undefined,
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        // overlayfs order: the top lower layer first
        LowerDir: [...rec.paths.lowers].reverse().join(':'),
        UpperDir: rec.paths.upper,
        MergedDir: rec.paths.rootfs,
        WorkDir: rec.paths.work,
      },
    },
    Mounts: mountsOf(rec),
    Config: {
      Hostname: c.namespaces?.uts === false ? '' : (c.hostname ?? rec.id.slice(0, 12)),
      Domainname: '',
      User: c.user ?? image.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: c.tty === true,
      OpenStdin: c.openStdin === true,
      StdinOnce: c.stdinOnce === true,
      Env: env,
      Cmd: c.cmd ?? (c.entrypoint ? null : (image.Cmd ?? null)),
      Image: rec.image.ref,
      Volumes: null,
      WorkingDir: c.workingDir ?? image.WorkingDir ?? '',
      Entrypoint: c.entrypoint ?? image.Entrypoint ?? null,
      OnBuild: null,
      Labels: { ...(image.Labels ?? {}), ...(c.labels ?? {}) },
      ...(c.stopSignal ?? image.StopSignal ? { StopSignal: c.stopSignal ?? image.StopSignal } : {}),
      ...(c.stopTimeout !== undefined ? { StopTimeout: c.stopTimeout } : {}),
      ...(healthConfig(c.healthcheck) ?? (image.Healthcheck ? { Healthcheck: image.Healthcheck } : {})),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      Ports: portMap(rec),
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: rec.network.networkId && rec.network.ipAddress ? endpointId(rec.network.networkId, rec.id) : '',
      Gateway: rec.network.gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: rec.network.ipAddress ?? '',
      IPPrefixLen: prefixLenOf(rec, nets),
      IPv6Gateway: '',
      MacAddress: rec.network.macAddress ?? '',
      Networks: networksOf(rec, nets),
    },
    // Glassbox extras, for the curious: where the cgroup lives
    Glassbox: { Cgroups: rec.paths.cgroups, Bundle: rec.paths.bundle },
  };
}

function mergeEnv(imageEnv: string[], userEnv: string[]): string[] {
  const map = new Map<string, string>();
  for (const e of [...imageEnv, ...userEnv]) {
    const i = e.indexOf('=');
    map.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...map.values()];
}

/** docker diff: Kind 0 modified, 1 added, 2 deleted */
/** The files the engine bind-mounts over the root: their mount points are not the user's changes. */
const MOUNTED_ETC_FILES = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);

/**
 * docker diff: Docker keeps these mount points in an "-init" layer below the container's, so they
 * (and /etc, when they are all that changed in it) never show; Glassbox's upper dir holds them.
 */
export function changesJson(changes: LayerChange[]) {
  const kind = { modified: 0, opaque: 0, added: 1, deleted: 2 } as const;
  const own = changes.filter((c) => !MOUNTED_ETC_FILES.has(c.path));
  const etcTouched = own.some((c) => c.path.startsWith('/etc/'));
  return own.filter((c) => !(c.path === '/etc' && c.kind === 'modified' && !etcTouched)).map((c) => ({ Path: c.path, Kind: kind[c.kind] }));
}

const STATUS_VALUES: ContainerStatus[] = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** GET /containers/json filters: status, name, id, label (plus exited=<code>, ancestor). */
export function containerFilter(filters: Filters): (rec: ContainerRecord) => boolean {
  checkFilterKeys(filters, ['status', 'name', 'id', 'label', 'exited', 'ancestor']);
  for (const s of filters.get('status') ?? []) {
    if (!STATUS_VALUES.includes(s as ContainerStatus)) throw badRequest(`invalid filter 'status=${s}'`);
  }
  return (rec) => {
    const any = (key: string, test: (v: string) => boolean) => {
      const vs = filters.get(key);
      return !vs || vs.length === 0 || vs.some(test);
    };
    return (
      any('status', (v) => rec.state.status === v) &&
      any('name', (v) => {
        const pat = v.replace(/^\//, '');
        try {
          return new RegExp(pat).test(rec.name);
        } catch {
          return rec.name.includes(pat);
        }
      }) &&
      any('id', (v) => rec.id.startsWith(v)) &&
      any('exited', (v) => rec.state.status === 'exited' && String(rec.state.exitCode) === v) &&
      any('ancestor', (v) => rec.image.ref === v || rec.image.id === v || rec.image.id.replace(/^sha256:/, '').startsWith(v.replace(/^sha256:/, ''))) &&
      labelMatches(rec.config.labels ?? {}, filters.get('label') ?? [])
    );
  };
}

/** The engine's healthcheck (ms) → Docker's Config.Healthcheck (ns). */
function healthConfig(h: ContainerRecord['config']['healthcheck']): { Healthcheck: Record<string, unknown> } | null {
  if (!h) return null;
  const ns = (ms?: number) => (ms === undefined ? undefined : ms * 1e6);
  return {
    Healthcheck: {
      Test: h.test,
      ...(h.intervalMs !== undefined ? { Interval: ns(h.intervalMs) } : {}),
      ...(h.timeoutMs !== undefined ? { Timeout: ns(h.timeoutMs) } : {}),
      ...(h.startPeriodMs !== undefined ? { StartPeriod: ns(h.startPeriodMs) } : {}),
      ...(h.retries !== undefined ? { Retries: h.retries } : {}),
    },
  };
}
