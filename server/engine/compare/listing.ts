// The runtimes a comparison may tick: every driver the engine lists (runtime/drivers/), each with
// its availability on this host as its probe found it (an unavailable one is still run, and
// shows the engine's own error for it: it is never replaced by another runtime).
import { listRuntimes, type RuntimeProbeOptions } from '../runtime/drivers/index.js';
import type { RuntimeAvailability } from './types.js';

export async function comparableRuntimes(opts: RuntimeProbeOptions): Promise<RuntimeAvailability[]> {
  return (await listRuntimes(opts)).map((l) => ({ name: l.name, description: l.description, available: l.available, ...(l.error ? { error: l.error } : {}) }));
}
