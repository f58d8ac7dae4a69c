// The daemon configuration's defaults, filled into a container's request at create (as dockerd
// does): what the container gets is then on its record, and a later change of the file does not
// change containers already made.
import type { ContainerConfig, ContainerRecord, ResourceLimits } from '../types.js';
import { mergeLogOptions, resolveLogSettings } from '../containers/log-config.js';
import type { DaemonConfig } from './daemon-config.js';

export interface AppliedDefaults {
  config: ContainerConfig;
  limits: ResourceLimits;
  logging: NonNullable<ContainerRecord['logging']>;
}

export function applyDaemonDefaults(input: ContainerConfig, base: ResourceLimits, d: DaemonConfig): AppliedDefaults {
  const config: ContainerConfig = { ...input };
  const limits: ResourceLimits = { ...base };
  // undefined = not asked for: the default; null or -1 = asked for no limit
  if (input.limits?.pids === undefined) limits.pids = d.defaultPidsLimit;
  if (input.limits?.memory === undefined && d.defaultMemory !== null) limits.memory = d.defaultMemory;

  const log = mergeLogOptions(input.logConfig, { driver: d.logDriver, options: d.logOpts });
  const logging = resolveLogSettings(log.driver, log.options);
  config.logConfig = { driver: logging.driver, options: log.options };

  config.shmSize ??= d.defaultShmSize;
  if (config.mounts) config.mounts = config.mounts.map((m) => (m.type === 'tmpfs' && m.size === undefined ? { ...m, size: d.defaultTmpfsSize } : m));
  if (d.defaultUlimits.length) {
    const own = new Set((input.ulimits ?? []).map((u) => u.name));
    config.ulimits = [...d.defaultUlimits.filter((u) => !own.has(u.name)), ...(input.ulimits ?? [])];
  }
  if (config.storageSize === undefined && d.storageSize !== null) config.storageSize = d.storageSize;
  return { config, limits, logging };
}
