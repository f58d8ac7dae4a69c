// Signal names and numbers as the docker CLI gives them: "SIGTERM", "term", "15".
import { constants as osConstants } from 'node:os';
import { InvalidArgument } from '../types.js';

export const SIGKILL = osConstants.signals.SIGKILL;
export const SIGTERM = osConstants.signals.SIGTERM;

export function parseSignal(signal: string | number): number {
  if (typeof signal === 'number' || /^\d+$/.test(signal)) {
    const n = Number(signal);
    if (n < 1 || n > 64) throw new InvalidArgument(`Invalid signal: ${signal}`);
    return n;
  }
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (!n) throw new InvalidArgument(`Invalid signal: ${signal}`);
  return n;
}

/** The name of a signal number ("SIGTERM"), for messages and events. */
export function signalName(num: number): string {
  for (const [name, n] of Object.entries(osConstants.signals)) if (n === num) return name;
  return String(num);
}
