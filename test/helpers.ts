// Small helpers the test files share.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port nothing listens on now, on `host` ('0.0.0.0': free on every address). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Retry fn until it resolves, for at most ms; its last error is thrown after that. */
export async function until<T>(fn: () => Promise<T>, ms = 5000, stepMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

/** The first child of pid (e.g. the process `unshare --fork` made), waiting for it to appear. */
export async function childOf(pid: number, attempts = 300): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    try {
      const c = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (c) return Number(c.split(' ')[0]);
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no child under ${pid}`);
}
