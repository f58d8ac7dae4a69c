// The runtimes this engine can run a container with: the driver registry (drivers/index.ts),
// re-exported for the callers that only need names. A runtime asked for that is not there is
// refused by name, and one that is there but cannot run here is refused with its own error:
// never silently replaced by another one.
import { DRIVERS } from './drivers/index.js';

export { DEFAULT_RUNTIME, hasRuntime, unknownRuntimeMessage } from './drivers/index.js';

export interface RuntimeInfo {
  /** what `docker info` shows as the runtime's path when it was not probed */
  path: string;
  description: string;
}

export const RUNTIMES: Readonly<Record<string, RuntimeInfo>> = Object.fromEntries(
  Object.values(DRIVERS).map((d) => [d.name, { path: d.name === 'builtin' ? 'gb-helper' : d.name, description: d.description }]),
);
