// What every verb gets: the state store under --root, and how to report (runc's --log and
// --log-format: errors and --debug lines go to stderr and, with --log, to that file).
import { appendFileSync } from 'node:fs';
import { Store } from './container-store.js';

export interface Context {
  store: Store;
  debug: (msg: string) => void;
  warn: (msg: string) => void;
}

export function makeContext(root: string, log: string | undefined, format: 'text' | 'json', debug: boolean): Context & { error: (msg: string) => void } {
  const emit = (level: string, msg: string) => {
    const line = format === 'json' ? JSON.stringify({ level, msg, time: new Date().toISOString() }) : `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
    if (log) {
      try {
        appendFileSync(log, line + '\n');
      } catch {
        /* the log is best effort, as in runc */
      }
    }
    return line;
  };
  return {
    store: new Store(root),
    debug: (msg) => {
      if (!debug) return;
      const line = emit('debug', msg);
      if (!log) process.stderr.write(line + '\n');
    },
    warn: (msg) => {
      emit('warning', msg);
      process.stderr.write(`glassbox-runtime: warning: ${msg}\n`);
    },
    error: (msg) => {
      emit('error', msg);
      process.stderr.write(`glassbox-runtime: ${msg}\n`);
    },
  };
}
