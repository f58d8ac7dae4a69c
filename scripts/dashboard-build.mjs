// The dashboard's production build (.next), made again whenever a source is newer than it: used
// by `npm start` and by the e2e tests, so neither ever serves a page older than its code.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the build is made from: the pages, their components, the values they share with the server, static files. */
const SOURCE_DIRS = ['app', 'components', 'common', 'public'];
// (the server modules the bundle takes types and constants from count too: they are compiled in)
const SOURCE_FILES = [
  'next.config.mjs', 'postcss.config.mjs', 'tsconfig.next.json', 'package-lock.json',
  'server/engine/types.ts', 'server/engine/api.ts', 'server/engine/containers/config-schema.ts', 'server/engine/cgroups/types.ts',
  'server/engine/inspect/types.ts', 'server/api/rest/image-pull.ts', 'server/realtime/containers.ts',
];

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function dashboardBuildIsStale(root) {
  const buildId = join(root, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return true;
  const sources = Math.max(...SOURCE_DIRS.map((d) => newest(join(root, d))), ...SOURCE_FILES.map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0)));
  return statSync(buildId).mtimeMs < sources;
}

/** Builds when stale; returns next build's exit status (0 when nothing had to be done). */
export function ensureDashboardBuilt(root, env = process.env) {
  if (!dashboardBuildIsStale(root)) return 0;
  console.log('glassbox: building the dashboard (next build)…');
  // stale dev types break the production type check
  rmSync(join(root, '.next', 'dev'), { recursive: true, force: true });
  const r = spawnSync(join(root, 'node_modules', '.bin', 'next'), ['build'], { cwd: root, stdio: 'inherit', env: { ...env, NEXT_TELEMETRY_DISABLED: '1' } });
  return r.status ?? 1;
}
