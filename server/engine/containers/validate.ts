// Validation of what a user asks for, before anything is made. Every message is meant to be read
// by the user as is (the Docker API and the dashboard show it verbatim).
import { validateVolumeName } from '../volumes/store.js';
import { cpus, totalmem } from 'node:os';
import type { z } from 'zod';
import { InvalidArgument, type ContainerConfig } from '../types.js';
import { containerConfigSchema } from './config-schema.js';
import { hasRuntime, unknownRuntimeMessage } from '../runtime/available.js';
import { validateRuntimeOptions } from './validate-options.js';
import { MAX_NAME_LENGTH, NAME_RE } from '../../../common/container-name.js';

const MiB = 1024 * 1024;
/** Docker refuses memory limits under 6 MiB: the runtime itself needs that much to start. */
export const MIN_MEMORY = 6 * MiB;

// Docker's rule for container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ ; a leading '/' is tolerated.
// RFC 1123 host name label(s).
const HOSTNAME_RE = /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;

function formatZodError(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const path = i.path.join('.');
      if (i.code === 'unrecognized_keys') return `unknown option${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}${path ? ` (in ${path})` : ''}`;
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

// the longest name and the characters allowed: shared with the dashboard's form
export { MAX_NAME_LENGTH } from '../../../common/container-name.js';

export function validateName(name: string): string {
  const bare = name.replace(/^\//, '');
  if (bare.length > MAX_NAME_LENGTH) {
    throw new InvalidArgument(`Invalid container name (${bare.slice(0, 32)}…): at most ${MAX_NAME_LENGTH} characters, this one has ${bare.length}`);
  }
  if (!NAME_RE.test(name)) {
    throw new InvalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.replace(/^\//, '');
}

/** Throws InvalidArgument naming every problem; returns the config with names normalised. */
export function validateConfig(input: unknown): ContainerConfig {
  const parsed = containerConfigSchema.safeParse(input);
  if (!parsed.success) throw new InvalidArgument(formatZodError(parsed.error));
  const config = parsed.data;

  if (config.name !== undefined) config.name = validateName(config.name);
  if (config.runtime !== undefined && !hasRuntime(config.runtime)) throw new InvalidArgument(unknownRuntimeMessage(config.runtime));
  if (config.hostname !== undefined && !HOSTNAME_RE.test(config.hostname)) {
    throw new InvalidArgument(`invalid hostname format: ${config.hostname}`);
  }
  for (const [key, value] of Object.entries(config.shareNamespaces ?? {})) {
    if (value !== 'host' && !/^container:[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value)) {
      throw new InvalidArgument(`namespace ${key}: "${value}" is neither "host" nor "container:<name or id>"`);
    }
  }
  // offsets mean a time namespace: asked for without saying, it is turned on (an explicit
  // `time: false` with offsets is refused below)
  if (config.timeOffsets && config.namespaces?.time === undefined) config.namespaces = { ...config.namespaces, time: true };
  for (const e of config.env ?? []) {
    if (e.startsWith('=') || e.length === 0) throw new InvalidArgument(`invalid environment variable: "${e}"`);
  }
  if (config.workingDir !== undefined && config.workingDir !== '' && !config.workingDir.startsWith('/')) {
    throw new InvalidArgument(`the working directory '${config.workingDir}' is invalid, it needs to be an absolute path`);
  }
  validateMounts(config.mounts ?? []);
  validateLimits(config.limits ?? {});
  validateRuntimeOptions(config);
  validateCombinations(config);
  return config;
}

/**
 * A mount destination is a path inside the container: absolute, with no ".." (the helper resolves
 * it inside the root anyway; a destination that means to climb out is refused here, before
 * anything is made). A bind source is a host path the caller chose: absolute too.
 */
export function validateMounts(mounts: NonNullable<ContainerConfig['mounts']>): void {
  mounts.forEach((m, i) => {
    const what = `mounts[${i}].target "${m.target}"`;
    if (!m.target.startsWith('/')) throw new InvalidArgument(`${what} is invalid: a mount destination must be an absolute path`);
    if (m.target.split('/').includes('..')) throw new InvalidArgument(`${what} is invalid: a mount destination must not contain ".."`);
    if (m.target.split('/').every((c) => c === '' || c === '.')) throw new InvalidArgument(`${what} is invalid: a mount destination cannot be "/"`);
    if (m.type === 'bind' && !m.source?.startsWith('/')) {
      throw new InvalidArgument(`mounts[${i}].source "${m.source ?? ''}" is invalid: a bind source must be an absolute host path`);
    }
    if (m.type === 'volume' && m.source) validateVolumeName(m.source, `mounts[${i}].source`);
    if (m.type !== 'volume' && m.noCopy !== undefined) throw new InvalidArgument(`mounts[${i}]: volume-nocopy is an option of volume mounts`);
  });
  const seen = new Set<string>();
  for (const m of mounts) {
    const target = normalizeTarget(m.target);
    if (seen.has(target)) throw new InvalidArgument(`Duplicate mount point: ${target}`);
    seen.add(target);
  }
}

/** "/data/" and "/data//x/." name the same mount point as "/data" and "/data/x". */
export function normalizeTarget(target: string): string {
  return '/' + target.split('/').filter((c) => c !== '' && c !== '.').join('/');
}

export function validateLimits(l: NonNullable<ContainerConfig['limits']>): void {
  const hostCpus = cpus().length;
  if (l.memory != null) {
    if (l.memory < MIN_MEMORY) throw new InvalidArgument(`Minimum memory limit allowed is 6MB (asked for ${l.memory} bytes)`);
    if (l.memory > Number.MAX_SAFE_INTEGER) throw new InvalidArgument('memory limit is too large');
  }
  if (l.memorySwap != null && l.memorySwap !== -1) {
    if (l.memory == null) throw new InvalidArgument('You should always set the Memory limit when using Memoryswap limit');
    if (l.memorySwap < l.memory) throw new InvalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (l.cpus != null) {
    if (!(l.cpus >= 0.01) || l.cpus > hostCpus) {
      throw new InvalidArgument(`Range of CPUs is from 0.01 to ${hostCpus.toFixed(2)}, as there are only ${hostCpus} CPUs available`);
    }
  }
  if (l.cpuShares != null && l.cpuShares !== 0 && (l.cpuShares < 2 || l.cpuShares > 262144)) {
    throw new InvalidArgument(`cpu shares must be between 2 and 262144 (asked for ${l.cpuShares})`);
  }
  if (l.pids != null && l.pids !== -1 && l.pids < 1) {
    throw new InvalidArgument(`pids limit must be at least 1, or -1 for unlimited (asked for ${l.pids})`);
  }
  if (l.memory != null && l.memory > totalmem() * 64) throw new InvalidArgument('memory limit is larger than anything this host could give');
}

function validateCombinations(c: ContainerConfig): void {
  const userns = c.namespaces?.user === true;
  if (userns && c.privileged) {
    throw new InvalidArgument('privileged mode is incompatible with user namespaces: use --userns=host with --privileged');
  }
  if (userns && (c.namespaces?.pid === false || c.shareNamespaces?.pid === 'host')) {
    throw new InvalidArgument('cannot share the host PID namespace when user namespaces are enabled (proc could not be mounted)');
  }
  if (userns && (c.namespaces?.net === false || c.network === 'host')) {
    throw new InvalidArgument('cannot share the host network namespace when user namespaces are enabled (sysfs could not be mounted)');
  }
  if (c.namespaces?.mnt === false) {
    throw new InvalidArgument('the mount namespace cannot be turned off: the container needs its own root filesystem');
  }
  if ((c.uidMap || c.gidMap) && !userns) throw new InvalidArgument('uid/gid maps need the user namespace to be enabled');
  if (c.timeOffsets && c.namespaces?.time !== true) throw new InvalidArgument('time offsets need the time namespace to be enabled');
  if (c.namespaces?.uts === false && c.hostname) {
    throw new InvalidArgument('conflicting options: hostname and the host UTS namespace');
  }
  if (c.network === 'none' && (c.ports?.length ?? 0) > 0) throw new InvalidArgument('conflicting options: port publishing and the container type network mode "none"');
}
