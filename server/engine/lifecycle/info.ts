// docker info: what the engine and its host are.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import type { EngineInfo } from '../api.js';
import { DEFAULT_RUNTIME, RUNTIMES } from '../runtime/available.js';
import { helperPath } from '../runtime/builtin.js';
import { hostSecurityModules } from '../runtime/host-lsm.js';
import type { EngineContext } from './context.js';

/** What does not change while the engine runs: read once, on the first info(). */
interface HostFacts {
  osName: string;
  helperVersion: string;
}

let hostFacts: HostFacts | undefined;

function readHostFacts(): HostFacts {
  let osName = 'Linux';
  try {
    osName = /PRETTY_NAME="?([^"\n]*)"?/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    /* keep "Linux" */
  }
  let helperVersion = 'unknown';
  try {
    helperVersion = execFileSync(helperPath(), ['version'], { encoding: 'utf8' }).trim();
  } catch {
    /* reported as unknown */
  }
  return { osName, helperVersion };
}

export function engineInfo(ctx: EngineContext, engineId: string): EngineInfo {
  const all = ctx.records.all();
  hostFacts ??= readHostFacts();
  const count = (st: string[]) => all.filter((r) => st.includes(r.state.status)).length;
  return {
    id: engineId,
    kernelVersion: release(),
    operatingSystem: hostFacts.osName,
    architecture: arch() === 'x64' ? 'x86_64' : arch(),
    cpus: cpus().length,
    memTotal: totalmem(),
    cgroupLayout: ctx.cgroups.layout,
    cgroupVersion: ctx.cgroups.version,
    cgroupDriver: ctx.cgroups.name,
    storageDriver: 'overlay2',
    root: ctx.root,
    runRoot: ctx.runRoot,
    containers: all.length,
    containersRunning: count(['running']),
    containersPaused: count(['paused']),
    containersStopped: all.length - count(['running', 'paused']),
    images: ctx.images.list().length,
    runtimes: Object.keys(RUNTIMES),
    defaultRuntime: DEFAULT_RUNTIME,
    helperVersion: hostFacts.helperVersion,
    swapLimitSupport: ctx.cgroups.swapSupported(),
    securityModules: hostSecurityModules(),
    loggingDriver: ctx.daemonConfig.logDriver,
  };
}
