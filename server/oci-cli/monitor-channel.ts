// Talking to a container's monitor (gb-helper run) after the create command has gone: its status
// channel is a file (status.jsonl: one JSON object a line, native/PROTOCOL.md), and it reads the
// start line from a FIFO it holds open.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { processStart } from './container-store.js';

export function mkfifo(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path]);
}

/** Write one line to the monitor's start FIFO; false when no monitor holds it open any more. */
export function tellMonitor(dir: string, line: string): boolean {
  let fd: number;
  try {
    // O_NONBLOCK: ENXIO at once when nobody reads, instead of waiting for ever
    fd = openSync(join(dir, 'start.fifo'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    writeSync(fd, line + '\n');
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

export type StatusLine = Record<string, unknown>;

function statusLines(dir: string): StatusLine[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'status.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const out: StatusLine[] = [];
  for (const l of text.split('\n')) {
    try {
      if (l) out.push(JSON.parse(l) as StatusLine);
    } catch {
      /* a line being written */
    }
  }
  return out;
}

/**
 * Wait until the status channel has a line `want` accepts (returned), an error line (thrown, with
 * the helper's words), or the monitor is gone without either.
 */
export async function readStatus(dir: string, want: (m: StatusLine) => boolean, monitorPid: number, from = 0): Promise<StatusLine> {
  for (;;) {
    const lines = statusLines(dir).slice(from);
    const hit = lines.find(want);
    if (hit) return hit;
    const err = lines.find((m) => typeof m.error === 'string');
    if (err) throw new Error(`${err.step ? `${String(err.step)}: ` : ''}${String(err.error)}`);
    if (monitorPid > 0 && processStart(monitorPid) === null) {
      // one more look: the monitor may have written its last line and gone
      const last = statusLines(dir).slice(from);
      const h2 = last.find(want);
      if (h2) return h2;
      const e2 = last.find((m) => typeof m.error === 'string');
      if (e2) throw new Error(`${e2.step ? `${String(e2.step)}: ` : ''}${String(e2.error)}`);
      let stderr = '';
      try {
        stderr = readFileSync(join(dir, 'helper.stderr'), 'utf8').trim();
      } catch {
        /* none */
      }
      throw new Error(`the container's monitor ended without a word${stderr ? `: ${stderr}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** How many status lines there are now (start reads from here on). */
export function statusCount(dir: string): number {
  return statusLines(dir).length;
}
