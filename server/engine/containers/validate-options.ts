// The options that size what a container may fill (tmpfs, /dev/shm, its layer, its log) and its
// ulimits: checked before anything is made, each message naming the docker flag.
import { InvalidArgument, type ContainerConfig } from '../types.js';
import { MIN_STORAGE_SIZE } from '../config/daemon-config.js';
import { resolveLogSettings } from './log-config.js';
import { validateUlimits } from './ulimits.js';

const MiB = 1024 * 1024;

export function validateRuntimeOptions(c: ContainerConfig): void {
  for (const m of c.mounts ?? []) {
    if (m.type !== 'tmpfs' && (m.size !== undefined || m.mode !== undefined)) throw new InvalidArgument(`--mount ${m.target}: size and mode are tmpfs options`);
    if (m.size !== undefined && m.size < 4096) throw new InvalidArgument(`--tmpfs ${m.target}: size must be at least 4k (asked for ${m.size} bytes)`);
    if (m.mode !== undefined && (m.mode < 0 || m.mode > 0o7777)) throw new InvalidArgument(`--tmpfs ${m.target}: mode must be an octal mode up to 7777`);
  }
  if (c.shmSize !== undefined && c.shmSize < 4096) throw new InvalidArgument(`--shm-size: at least 4k (asked for ${c.shmSize} bytes)`);
  if (c.ulimits) validateUlimits(c.ulimits);
  if (c.storageSize !== undefined && c.storageSize < MIN_STORAGE_SIZE) {
    throw new InvalidArgument(`--storage-opt size: at least ${MIN_STORAGE_SIZE / MiB}m (asked for ${c.storageSize} bytes)`);
  }
  // options without a driver are checked at create, merged with the daemon's driver
  if (c.logConfig?.driver) resolveLogSettings(c.logConfig.driver, c.logConfig.options ?? {});
}
