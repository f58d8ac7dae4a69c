// `npm test`: the helper's build check first (every kernel test needs the binary), then three
// things at once on what are mostly idle cores while the kernel tests wait on the kernel:
//   - the static checks (tsc, eslint), their output held back and printed at the end;
//   - the dashboard's production build when it is stale (the Chromium tests need it);
//   - vitest, unit and kernel tests first and the browser tests last (vitest.config.ts's
//     sequencer), the browser tests waiting for the build (test/e2e/dashboard-support.ts).
// The exit status is non-zero when any of them failed. Extra arguments go to vitest.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardBuildIsStale } from './dashboard-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

const native = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--check'], { cwd: root, stdio: 'inherit' });
if (native.status !== 0) process.exit(native.status ?? 1);

/** Runs a command with its output kept; resolves to { code, out }. */
function quiet(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

const started = Date.now();
const secs = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

const statics = (async () => {
  const tsc = await quiet(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  if (tsc.code !== 0) return { name: 'tsc', ...tsc, at: secs() };
  const lint = await quiet(bin('eslint'), ['.']);
  return { name: 'tsc + eslint', ...lint, at: secs() };
})();

// The build's outcome goes to a file the browser tests wait for (GLASSBOX_TEST_DASHBOARD_BUILD).
const buildDir = mkdtempSync(join(tmpdir(), 'gb-test-build-'));
const buildStatus = join(buildDir, 'status');
const build = (async () => {
  if (!dashboardBuildIsStale(root)) {
    writeFileSync(buildStatus, '0');
    return { name: 'next build', code: 0, out: '', at: secs(), skipped: true };
  }
  const r = await quiet(process.execPath, ['-e', `import('./scripts/dashboard-build.mjs').then((m) => process.exit(m.ensureDashboardBuilt(process.cwd())))`]);
  writeFileSync(buildStatus, String(r.code));
  return { name: 'next build', ...r, at: secs() };
})();

const vitest = new Promise((resolve) => {
  // test/kernels runs in User-mode Linux (npm run test:kernels), not on this host
  const p = spawn(bin('vitest'), ['run', '--exclude', 'test/kernels/**', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...process.env, GLASSBOX_TEST_DASHBOARD_BUILD: buildStatus } });
  p.on('close', (code) => resolve(code ?? 1));
});

const [s, b, v] = await Promise.all([statics, build, vitest]);
rmSync(buildDir, { recursive: true, force: true });
let failed = v !== 0;
for (const r of [s, b]) {
  if (r.code !== 0) {
    failed = true;
    console.error(`\n${r.name} failed (done at ${r.at}):\n${r.out}`);
  } else {
    console.log(`${r.name}: ${r.skipped ? 'up to date' : `clean, done at ${r.at}`}`);
  }
}
console.log(`npm test: ${failed ? 'FAILED' : 'passed'} in ${secs()}`);
process.exit(failed ? 1 : 0);
