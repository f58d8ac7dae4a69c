// Docker's --ulimit NAME=SOFT[:HARD]: resource limits the monitor sets on init with prlimit(2)
// before it runs (the helper spec's `rlimit` lines), inherited by everything init forks.
import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../types.js';

export interface Ulimit {
  name: string;
  /** -1 = unlimited (RLIM_INFINITY) */
  soft: number;
  hard: number;
}

/** The names docker accepts (lower case), each a RLIMIT_<NAME> of getrlimit(2). */
export const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

function nrOpen(): number {
  try {
    return Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim()) || 1048576;
  } catch {
    return 1048576;
  }
}

/** Throws InvalidArgument naming the ulimit (`where`: "--ulimit" or "default-ulimits"). */
export function validateUlimits(list: Ulimit[], where = '--ulimit'): void {
  const seen = new Set<string>();
  for (const u of list) {
    if (!ULIMIT_NAMES.includes(u.name)) throw new InvalidArgument(`${where}: invalid ulimit type: ${u.name} (known: ${ULIMIT_NAMES.join(', ')})`);
    if (seen.has(u.name)) throw new InvalidArgument(`${where}: ${u.name} is given twice`);
    seen.add(u.name);
    for (const v of [u.soft, u.hard]) {
      if (!Number.isSafeInteger(v) || v < -1) throw new InvalidArgument(`${where}: ${u.name}: ${v} is not a limit (a whole number, or -1 for unlimited)`);
    }
    const soft = u.soft === -1 ? Infinity : u.soft;
    const hard = u.hard === -1 ? Infinity : u.hard;
    if (soft > hard) throw new InvalidArgument(`${where}: ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    // the kernel refuses a nofile above fs.nr_open (EPERM at start): say so now
    if (u.name === 'nofile' && hard > nrOpen()) throw new InvalidArgument(`${where}: nofile: ${u.hard} is above the kernel's fs.nr_open (${nrOpen()})`);
  }
}

/** Docker's text form, "nofile=1024:2048" → { name, soft, hard } (SOFT alone sets both). */
export function parseUlimit(text: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text.trim());
  if (!m) throw new InvalidArgument(`--ulimit: invalid ulimit argument: ${text} (NAME=SOFT[:HARD])`);
  return { name: m[1], soft: Number(m[2]), hard: Number(m[3] ?? m[2]) };
}
