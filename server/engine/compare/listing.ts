// The runtimes a comparison may tick: every one the engine lists, each with its availability on
// this host (an unavailable one is still run, and shows the engine's own error for it).
import { RUNTIMES } from '../runtime/available.js';
import type { RuntimeAvailability } from './types.js';

export async function comparableRuntimes(): Promise<RuntimeAvailability[]> {
  return Object.entries(RUNTIMES).map(([name, info]) => ({ name, description: info.description, available: true }));
}
