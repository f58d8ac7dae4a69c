#!/usr/bin/env node
// npm start: build the dashboard (next build) and the server (esbuild → dist/) if they have not
// been built or are older than their sources, then run the compiled server with node (no tsx).
// Arguments are passed on: npm start -- --port 8080
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDashboardBuilt } from './dashboard-build.mjs';
import { ensureServerBuilt, SERVER_ENTRY } from './server-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

const built = ensureDashboardBuilt(root, env);
if (built !== 0) process.exit(built);
const serverBuilt = await ensureServerBuilt(root);
if (serverBuilt !== 0) process.exit(serverBuilt);

if (!existsSync(join(root, 'native', 'build'))) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const child = spawn(process.execPath, ['--enable-source-maps', join(root, SERVER_ENTRY), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...env, NODE_ENV: 'production' } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
