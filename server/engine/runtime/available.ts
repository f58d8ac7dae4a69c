// The runtimes this engine can run a container with. Only Glassbox's own helper today; a runtime
// asked for that is not here is refused by name (never silently replaced by another one).
export interface RuntimeInfo {
  /** what `docker info` shows as the runtime's path */
  path: string;
  description: string;
}

export const RUNTIMES: Readonly<Record<string, RuntimeInfo>> = {
  builtin: { path: 'gb-helper', description: "Glassbox's own helper (native/src): clone, mounts, cgroups, seccomp, exec" },
};

export const DEFAULT_RUNTIME = 'builtin';

/** The message for a runtime the engine does not have, naming it and the ones it has. */
export function unknownRuntimeMessage(name: string): string {
  return `unknown or invalid runtime name: ${JSON.stringify(name)}: this engine has only ${Object.keys(RUNTIMES).join(', ')}`;
}

export function hasRuntime(name: string): boolean {
  return Object.hasOwn(RUNTIMES, name);
}
