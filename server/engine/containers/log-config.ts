// Log drivers and their options, as Docker's --log-driver and --log-opt take them. All three are
// written by the container's monitor (native/src/monitor.c), never by the engine:
//   json-file  Docker's default format, JSON lines; rotated at max-size, max-file files kept
//   local      the same JSON lines (Docker's local driver uses protobuf and compresses; Glassbox
//              keeps one readable format and compresses nothing) with Docker's local defaults, 20m x 5
//   none       no log file at all: `docker logs` has nothing to read
import { InvalidArgument } from '../types.js';
import { parseSize } from '../util/size.js';

export const LOG_DRIVERS = ['json-file', 'local', 'none'] as const;
export type LogDriver = (typeof LOG_DRIVERS)[number];

/** What the monitor is told: rotate when the current file would pass maxSize, keep maxFiles files. */
export interface LogSettings {
  driver: LogDriver;
  /** bytes; null = never rotate */
  maxSize: number | null;
  /** files kept, the current one included (1 = truncate instead of rotating) */
  maxFiles: number;
}

/** Docker's local driver: 20 MB per file, 5 files. */
const LOCAL_DEFAULTS = { 'max-size': '20m', 'max-file': '5' };
const KNOWN_OPTS = ['max-size', 'max-file', 'compress'];

/** Docker's message when `docker logs` meets a driver that keeps nothing. */
export const NO_READING_MESSAGE = 'configured logging driver does not support reading';

/**
 * Options → settings, or InvalidArgument naming the option (`where` says whose options they are:
 * "--log-opt" for a container, "log-opts" for the daemon configuration).
 */
export function resolveLogSettings(driver: string, opts: Record<string, string>, where = '--log-opt'): LogSettings {
  if (!(LOG_DRIVERS as readonly string[]).includes(driver)) {
    throw new InvalidArgument(`log driver "${driver}" is not supported: the drivers are ${LOG_DRIVERS.join(', ')}`);
  }
  const d = driver as LogDriver;
  for (const k of Object.keys(opts)) {
    if (d === 'none' || !KNOWN_OPTS.includes(k)) throw new InvalidArgument(`${where}: unknown log opt '${k}' for ${d} log driver`);
  }
  if (d === 'none') return { driver: d, maxSize: null, maxFiles: 1 };
  const o = d === 'local' ? { ...LOCAL_DEFAULTS, ...opts } : opts;
  if (o.compress !== undefined && o.compress !== 'false') {
    throw new InvalidArgument(`${where}: compress=${o.compress} is not supported: Glassbox keeps rotated logs as plain JSON lines (use compress=false)`);
  }
  let maxSize: number | null = null;
  if (o['max-size'] !== undefined && o['max-size'] !== '-1') {
    maxSize = parseSize(o['max-size']);
    if (maxSize === null || maxSize < 1) throw new InvalidArgument(`${where}: max-size: "${o['max-size']}" is not a size (like 10m, 512k, 1g)`);
  }
  let maxFiles = 1;
  if (o['max-file'] !== undefined) {
    maxFiles = /^\d+$/.test(o['max-file']) ? Number(o['max-file']) : NaN;
    if (!(maxFiles >= 1 && maxFiles <= 100)) throw new InvalidArgument(`${where}: max-file: "${o['max-file']}" must be a whole number from 1 to 100`);
  }
  if (maxFiles > 1 && maxSize === null) throw new InvalidArgument(`${where}: max-file cannot be set when max-size is not set`);
  return { driver: d, maxSize, maxFiles };
}

/** Docker's merge: a container of the daemon's driver inherits each daemon option it did not set. */
export function mergeLogOptions(
  container: { driver?: string; options?: Record<string, string> } | undefined,
  daemon: { driver: string; options: Record<string, string> },
): { driver: string; options: Record<string, string> } {
  const driver = container?.driver || daemon.driver;
  const options = { ...(container?.options ?? {}) };
  if (driver === daemon.driver) for (const [k, v] of Object.entries(daemon.options)) if (!(k in options)) options[k] = v;
  return { driver, options };
}
