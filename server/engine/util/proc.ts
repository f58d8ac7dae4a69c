// Reading /proc: process identity (pid + start time survives pid reuse checks) and liveness.
import { readText } from './fsx.js';

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or null if gone. */
export function readStartTime(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return null;
  // comm (field 2) may hold spaces and parentheses: fields after the last ')' are safe to split.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19] ?? null; // rest[0] is field 3
}

/** The process state letter (R, S, D, Z, T ...) or null if gone. */
export function readProcState(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
}

/** True when pid still names the same process that had startTime. */
export function isSameProcess(pid: number, startTime: string | null): boolean {
  if (!startTime) return false;
  const now = readStartTime(pid);
  return now !== null && now === startTime && readProcState(pid) !== 'Z';
}

export function clockTicksPerSecond(): number {
  return 100; // USER_HZ is 100 on every Linux architecture Node runs on
}
