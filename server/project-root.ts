// The repository's root folder, found from this module's own file: run from the sources (tsx,
// server/*.ts) or from the production bundle (node dist/server/main.js), the folders next to
// package.json (native/build, labs/, the dashboard's .next) are the same ones.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'server'))) return dir;
    if (dirname(dir) === dir) throw new Error(`glassbox: no project root (package.json + server/) above ${from}`);
  }
}

export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** true in the compiled server (dist/), where TypeScript cannot be imported without a loader */
export const COMPILED: boolean = typeof __GLASSBOX_COMPILED__ !== 'undefined' && __GLASSBOX_COMPILED__;

declare const __GLASSBOX_COMPILED__: boolean | undefined;
