// GET /_ping, /version, /info: what the docker client asks first to negotiate and describe the host.
import { hostname } from 'node:os';
import { NO_LSM_NOTE, PRIVILEGED_RISK, riskLines, RUNTIMES, SYS_ADMIN_RISK, type EngineApi } from '../../engine/index.js';
import { sendJson, type Ctx } from './http.js';

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.41';
export const MAX_API_VERSION = '1.51';
export const SERVER_VERSION = '0.1.0-glassbox';

export function pingHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    'Ostype': 'linux',
    'Builder-Version': '1',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    Server: `Glassbox/${SERVER_VERSION} (linux)`,
  };
}

export function ping(ctx: Ctx): void {
  const res = ctx.res!;
  const head = ctx.req.method === 'HEAD';
  res.writeHead(200, { ...pingHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': head ? 0 : 2 });
  res.end(head ? undefined : 'OK');
}

function goArch(a: string): string {
  return a === 'x86_64' ? 'amd64' : a === 'aarch64' ? 'arm64' : a;
}

export function version(ctx: Ctx, engine: EngineApi): void {
  const info = engine.info();
  sendJson(ctx, 200, {
    Platform: { Name: 'Glassbox' },
    Components: [
      {
        Name: 'Engine',
        Version: SERVER_VERSION,
        Details: {
          ApiVersion: API_VERSION,
          MinAPIVersion: MIN_API_VERSION,
          Arch: goArch(info.architecture),
          Os: 'linux',
          KernelVersion: info.kernelVersion,
          GitCommit: 'glassbox',
          GoVersion: `node ${process.version}`,
          Experimental: 'false',
          BuildTime: '',
        },
      },
      { Name: 'gb-helper', Version: info.helperVersion, Details: { GitCommit: '' } },
    ],
    Version: SERVER_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'glassbox',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: goArch(info.architecture),
    KernelVersion: info.kernelVersion,
    BuildTime: '',
  });
}

/** docker info prints these after everything else, each as "WARNING: …". */
function privilegeWarnings(lsm: { apparmor: boolean; selinux: boolean } | undefined): string[] {
  const host = lsm && (lsm.apparmor || lsm.selinux) ? '' : ' This kernel has no AppArmor and no SELinux.';
  return [`${NO_LSM_NOTE}${host}`, ...[PRIVILEGED_RISK, SYS_ADMIN_RISK].map((r) => riskLines(r).join('\n'))].map((w) => `WARNING: ${w}`);
}

export async function info(ctx: Ctx, engine: EngineApi, extra: { eventListeners: number }): Promise<void> {
  const i = engine.info();
  const runtimes = await engine.runtimes();
  sendJson(ctx, 200, {
    ID: i.id,
    Containers: i.containers,
    ContainersRunning: i.containersRunning,
    ContainersPaused: i.containersPaused,
    ContainersStopped: i.containersStopped,
    Images: i.images,
    Driver: i.storageDriver,
    DriverStatus: [
      ['Supports d_type', 'true'],
      ['Using metacopy', 'false'],
      ['Native Overlay Diff', 'true'],
    ],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'local', 'none'] },
    MemoryLimit: true,
    SwapLimit: i.swapLimitSupport,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: false,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: i.loggingDriver ?? 'json-file',
    CgroupDriver: i.cgroupDriver,
    CgroupVersion: String(i.cgroupVersion),
    NEventsListener: extra.eventListeners,
    KernelVersion: i.kernelVersion,
    OperatingSystem: i.operatingSystem,
    OSVersion: '',
    OSType: 'linux',
    Architecture: i.architecture,
    IndexServerAddress: '',
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [], Mirrors: [] },
    NCPU: i.cpus,
    MemTotal: i.memTotal,
    GenericResources: null,
    DockerRootDir: i.root,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: hostname(),
    Labels: [`glassbox.cgroup-layout=${i.cgroupLayout}`, `glassbox.run-root=${i.runRoot}`],
    ExperimentalBuild: false,
    ServerVersion: SERVER_VERSION,
    // every driver, available or not: the docker CLI reads path (and status, a string map, since
    // API 1.44), so an unavailable runtime is listed with its own error rather than left out
    Runtimes: Object.fromEntries(
      runtimes.map((r) => [r.name, { path: r.path || (RUNTIMES[r.name]?.path ?? r.name), status: { available: String(r.available), ...(r.version ? { version: r.version } : {}), ...(r.error ? { error: r.error } : {}) } }]),
    ),
    DefaultRuntime: i.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'gb-helper init',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: [
      'name=seccomp,profile=builtin',
      ...(i.securityModules?.apparmor ? ['name=apparmor'] : []),
      ...(i.securityModules?.selinux ? ['name=selinux'] : []),
      ...(i.cgroupVersion === 2 ? ['name=cgroupns'] : []),
    ],
    CDISpecDirs: [],
    Warnings: privilegeWarnings(i.securityModules),
  });
}

export const NOT_SWARM_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

/**
 * /swarm, /nodes, /services, /tasks, /secrets, /configs: Glassbox is never in a swarm and answers as
 * a Docker daemon outside one does (503), which clients rely on: `leave_swarm(force=True)` in a
 * teardown expects "not part of a swarm", `docker service ls` "not a swarm manager". Joining or
 * making a swarm is refused by name.
 */
export function swarm(ctx: Ctx): void {
  const path = ctx.params[0];
  const method = ctx.req.method;
  if (method === 'POST' && path === 'swarm/leave') return sendJson(ctx, 503, { message: 'This node is not part of a swarm' });
  if (method === 'POST' && (path === 'swarm/init' || path === 'swarm/join')) {
    return sendJson(ctx, 503, { message: `glassbox: docker ${path.replace('/', ' ')} is not supported (swarm mode is not part of Glassbox)` });
  }
  sendJson(ctx, 503, { message: NOT_SWARM_MANAGER });
}
