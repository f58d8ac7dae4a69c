// The daemon configuration file, dockerd's daemon.json idea: the defaults a container gets when
// its request sets none. /etc/glassbox/config.json, or the file GLASSBOX_CONFIG names. A missing
// default file means the shipped defaults; a bad file (unknown key, bad value) stops the server
// with the key named, before anything is made.
//
//   {
//     "default-pids-limit": 2048,          // pids.max of every container (-1: none)
//     "log-driver": "json-file",           // json-file | local | none
//     "log-opts": { "max-size": "10m", "max-file": "3" },
//     "default-shm-size": "64m",           // /dev/shm
//     "default-tmpfs-size": "64m",         // --tmpfs without size= (the kernel's default is half of RAM)
//     "default-ulimits": { "nofile": { "soft": 1024, "hard": 4096 } },
//     "default-memory": "1g",              // memory.max when --memory is not given (default: none)
//     "storage-opts": { "size": "10g" }    // container layer quota (default: none)
//   }
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidArgument } from '../types.js';
import { LOG_DRIVERS, resolveLogSettings, type LogDriver } from '../containers/log-config.js';
import { validateUlimits, type Ulimit } from '../containers/ulimits.js';
import { parseSize } from '../util/size.js';

export const DEFAULT_CONFIG_PATH = '/etc/glassbox/config.json';

/** The parsed configuration, in the engine's units (bytes, null = no default). */
export interface DaemonConfig {
  defaultPidsLimit: number | null;
  logDriver: LogDriver;
  logOpts: Record<string, string>;
  defaultShmSize: number;
  defaultTmpfsSize: number;
  defaultUlimits: Ulimit[];
  defaultMemory: number | null;
  storageSize: number | null;
}

const MiB = 1024 * 1024;

/** What applies without a file: a fork bomb stops at 2048 pids, a log flood at 3 x 10 MB. */
export const SHIPPED_DEFAULTS: DaemonConfig = {
  defaultPidsLimit: 2048,
  logDriver: 'json-file',
  logOpts: { 'max-size': '10m', 'max-file': '3' },
  defaultShmSize: 64 * MiB, // Docker's
  defaultTmpfsSize: 64 * MiB,
  defaultUlimits: [],
  defaultMemory: null,
  storageSize: null,
};

const size = z.string({ error: 'expected a size like "64m"' }).refine((s) => parseSize(s) !== null && parseSize(s)! > 0, 'expected a size like "64m"');
const num = z.number({ error: 'expected a number' }).int('expected a whole number');

const schema = z.strictObject({
  'default-pids-limit': num.min(-1, 'expected -1 (none) or a limit of at least 1').refine((n) => n !== 0, 'expected -1 (none) or a limit of at least 1').optional(),
  'log-driver': z.enum(LOG_DRIVERS, { error: `expected one of ${LOG_DRIVERS.join(', ')}` }).optional(),
  'log-opts': z.record(z.string(), z.string({ error: 'expected a string (daemon.json writes "3", not 3)' }), { error: 'expected an object' }).optional(),
  'default-shm-size': size.optional(),
  'default-tmpfs-size': size.optional(),
  'default-ulimits': z
    .record(z.string(), z.strictObject({ soft: num.min(-1), hard: num.min(-1) }, { error: 'expected {"soft": N, "hard": N}' }), { error: 'expected an object' })
    .optional(),
  'default-memory': size.optional(),
  'storage-opts': z.strictObject({ size: size.optional() }, { error: 'expected an object' }).optional(),
});

/** "config FILE: key.sub: message", the way the server prints it before it exits. */
export class DaemonConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DaemonConfigError';
  }
}

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${path ? `${path}.` : ''}${k}: unknown key`).join('; ');
  return `${path || '(top level)'}: ${issue.message}`;
}

/** Parse the JSON value of a configuration; `source` names it in every message. */
export function parseDaemonConfig(value: unknown, source: string): DaemonConfig {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DaemonConfigError(`config ${source}: ${describe(parsed.error.issues[0])}`);
  const c = parsed.data;
  const out: DaemonConfig = { ...SHIPPED_DEFAULTS, logOpts: { ...SHIPPED_DEFAULTS.logOpts } };
  if (c['default-pids-limit'] !== undefined) out.defaultPidsLimit = c['default-pids-limit'] === -1 ? null : c['default-pids-limit'];
  if (c['log-driver'] !== undefined) {
    out.logDriver = c['log-driver'];
    // another driver does not inherit json-file's options
    if (c['log-opts'] === undefined) out.logOpts = {};
  }
  if (c['log-opts'] !== undefined) out.logOpts = c['log-opts'];
  try {
    resolveLogSettings(out.logDriver, out.logOpts, 'log-opts');
  } catch (e) {
    throw new DaemonConfigError(`config ${source}: ${(e as Error).message}`);
  }
  if (c['default-shm-size']) out.defaultShmSize = parseSize(c['default-shm-size'])!;
  if (c['default-tmpfs-size']) out.defaultTmpfsSize = parseSize(c['default-tmpfs-size'])!;
  if (c['default-memory']) out.defaultMemory = parseSize(c['default-memory'])!;
  if (c['storage-opts']?.size) out.storageSize = parseSize(c['storage-opts'].size)!;
  if (c['default-ulimits']) {
    out.defaultUlimits = Object.entries(c['default-ulimits']).map(([name, u]) => ({ name, soft: u.soft, hard: u.hard }));
    try {
      validateUlimits(out.defaultUlimits, 'default-ulimits');
    } catch (e) {
      throw new DaemonConfigError(`config ${source}: ${(e as Error).message}`);
    }
  }
  if (out.defaultMemory !== null && out.defaultMemory < 6 * MiB) throw new DaemonConfigError(`config ${source}: default-memory: at least 6m (the runtime itself needs that much)`);
  if (out.storageSize !== null && out.storageSize < MIN_STORAGE_SIZE) {
    throw new DaemonConfigError(`config ${source}: storage-opts.size: at least ${MIN_STORAGE_SIZE / MiB}m`);
  }
  return out;
}

/** The smallest container layer a --storage-opt size may ask for (an ext4 needs room for itself). */
export const MIN_STORAGE_SIZE = 16 * MiB;

/**
 * Read the configuration file: GLASSBOX_CONFIG when set (it must exist), else
 * /etc/glassbox/config.json when it exists, else the shipped defaults.
 */
export function loadDaemonConfig(path = process.env.GLASSBOX_CONFIG): DaemonConfig {
  const file = path ?? DEFAULT_CONFIG_PATH;
  if (!existsSync(file)) {
    if (path) throw new DaemonConfigError(`config ${file}: no such file (GLASSBOX_CONFIG names it)`);
    return SHIPPED_DEFAULTS;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DaemonConfigError(`config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DaemonConfigError(`config ${file}: not valid JSON: ${(e as Error).message}`);
  }
  return parseDaemonConfig(value, file);
}

/** For the server's mains: the configuration, or a message on stderr and exit status 1. */
export function loadDaemonConfigOrExit(prefix = 'glassbox'): DaemonConfig {
  try {
    return loadDaemonConfig();
  } catch (e) {
    if (!(e instanceof DaemonConfigError || e instanceof InvalidArgument)) throw e;
    console.error(`${prefix}: ${e.message}`);
    process.exit(1);
  }
}
