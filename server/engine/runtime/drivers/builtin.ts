// The builtin driver: Glassbox's own helper. The monitor clones the container's init itself
// (start.ts runs runHelper with runSpec(plan)); this file only describes it to the registry.
import { execFileSync } from 'node:child_process';
import { helperPath } from '../builtin.js';
import type { Availability, RuntimeDriver } from './types.js';

export const builtinDriver: RuntimeDriver = {
  name: 'builtin',
  description: "Glassbox's own helper (native/src): clone, mounts, cgroups, seccomp, exec",
  launch: 'helper',
  async probe(): Promise<Availability> {
    try {
      const path = helperPath();
      return { available: true, path, version: execFileSync(path, ['version'], { encoding: 'utf8' }).trim(), error: null };
    } catch (e) {
      return { available: false, path: '', version: '', error: (e as Error).message };
    }
  },
  // the init the monitor cloned is the container's init
  initPid: async (_ctx, shimPid) => shimPid,
  exec: { mode: 'setns' },
  // the monitor's exit took everything down; the engine removes the run dir
  cleanup: async () => {},
};
