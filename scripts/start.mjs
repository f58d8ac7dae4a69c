#!/usr/bin/env node
// npm start: build the dashboard if it has not been built (or the build is older than its sources),
// then run the server. Arguments are passed on: npm start -- --port 8080
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const buildId = join(root, '.next', 'BUILD_ID');
// the server modules the browser bundle imports values from count as sources too
const BUNDLED_SERVER_FILES = ['server/engine/types.ts', 'server/engine/inspect/types.ts', 'server/engine/runtime/privilege-risks.ts'];
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const sources = Math.max(newest(join(root, 'app')), newest(join(root, 'components')), newest(join(root, 'public')), mtime(join(root, 'next.config.mjs')), ...BUNDLED_SERVER_FILES.map((f) => mtime(join(root, f))));
if (!existsSync(buildId) || statSync(buildId).mtimeMs < sources) {
  console.log('glassbox: building the dashboard (next build)…');
  // stale dev types break the production type check
  rmSync(join(root, '.next', 'dev'), { recursive: true, force: true });
  const r = spawnSync(bin('next'), ['build'], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(join(root, 'native', 'build'))) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const child = spawn(bin('tsx'), [join(root, 'server', 'main.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...env, NODE_ENV: 'production' } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
