#!/usr/bin/env node
// npm run dev: the server with Next's hot reload for the pages and tsx watch for the server code.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const child = spawn(
  join(root, 'node_modules', '.bin', 'tsx'),
  ['watch', '--clear-screen=false', '--exclude', './app/**', '--exclude', './components/**', '--exclude', './.next/**', join(root, 'server', 'main.ts'), '--dev', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'development' } },
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
