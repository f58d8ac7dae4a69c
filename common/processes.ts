// Process states and the signals the pid diagram offers. Plain data (no Node or browser API):
// the engine, the REST route and the dashboard take the same words from here.

/** The state letter of /proc/PID/status (proc(5)), in words. */
export const PROCESS_STATES: Record<string, string> = {
  R: 'running',
  S: 'sleeping (waiting for an event)',
  D: 'disk sleep (uninterruptible: even SIGKILL waits)',
  T: 'stopped (SIGSTOP: SIGCONT resumes it)',
  t: 'stopped by a tracer',
  Z: "zombie — waiting for its parent's wait()",
  X: 'dead',
  I: 'idle kernel thread',
  P: 'parked',
};

export function stateWords(state: string): string {
  return PROCESS_STATES[state] ?? (state ? `state ${state}` : 'state unknown');
}

/** The signal menu of the pid diagram, with what each does by default. */
export const SIGNAL_MENU = [
  { name: 'TERM', what: 'ask it to end (the default of kill and docker stop); a PID 1 without a handler ignores it' },
  { name: 'INT', what: 'what Ctrl-C sends' },
  { name: 'HUP', what: 'the terminal hung up; daemons often reload their config' },
  { name: 'KILL', what: 'end now: cannot be caught or ignored, and reaches PID 1 from the parent namespace' },
  { name: 'STOP', what: 'freeze it (state T): cannot be caught' },
  { name: 'CONT', what: 'resume a stopped process' },
  { name: 'USR1', what: 'a signal for the program to define; the default ends it' },
] as const;

export type MenuSignal = (typeof SIGNAL_MENU)[number]['name'];
