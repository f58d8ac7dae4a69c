// A state root (GLASSBOX_ROOT) and a run directory (GLASSBOX_RUN) belong to one prefix. Two
// engines with different prefixes on the same directories would share records, leases and run
// dirs, and each one's sweep would remove the other's: the owner lock (per prefix) cannot see that.
// So the first engine writes its prefix in <dir>/.glassbox-prefix, and an engine of another prefix
// is refused, with both names in the message.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument } from '../types.js';

export const PREFIX_FILE = '.glassbox-prefix';

/** Throws when dir already belongs to another prefix (reads only: a refused engine changes nothing). */
export function checkStateDir(dir: string, prefix: string, what: 'GLASSBOX_ROOT' | 'GLASSBOX_RUN'): void {
  const file = join(dir, PREFIX_FILE);
  const owner = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (owner && owner !== prefix) {
    throw new InvalidArgument(`${what} ${dir} belongs to the Glassbox prefix ${owner}, not ${prefix}: give this engine a ${what} of its own, or open it with GLASSBOX_PREFIX=${owner}`);
  }
}

/** Marks dir (which exists) as this prefix's. */
export function markStateDir(dir: string, prefix: string): void {
  const file = join(dir, PREFIX_FILE);
  if (!existsSync(file)) writeFileSync(file, `${prefix}\n`, { mode: 0o644 });
}
