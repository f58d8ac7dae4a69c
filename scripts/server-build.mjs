// The server's production build (dist/): server/main.ts and every lab bundled by esbuild into plain
// JavaScript, so `npm start` runs `node dist/server/main.js` with no TypeScript compiler in the
// process (tsx compiled every module again at each start and kept its loader hooked into every
// import). npm packages stay outside the bundle (node_modules is there at run time); type checking
// is tsc's job (npm test), not the build's. Made again whenever a source is newer than the bundle.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the bundle is made from (the dashboard's sources are next build's). */
const SOURCE_DIRS = ['server', 'common', 'native', 'labs'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];
export const SERVER_ENTRY = join('dist', 'server', 'main.js');

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'build' || e.name === 'node_modules') continue; // native/build is the C helper's
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : /\.(ts|mts|js|mjs|json)$/.test(e.name) ? statSync(p).mtimeMs : 0);
  }
  return t;
}

export function serverBuildIsStale(root) {
  const out = join(root, SERVER_ENTRY);
  if (!existsSync(out)) return true;
  const sources = Math.max(...SOURCE_DIRS.map((d) => newest(join(root, d))), ...SOURCE_FILES.map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0)));
  return statSync(out).mtimeMs < sources;
}

/** Builds dist/ when stale; returns 0 on success (or when nothing had to be done), 1 on a failed build. */
export async function ensureServerBuilt(root) {
  if (!serverBuildIsStale(root)) return 0;
  console.log('glassbox: building the server (esbuild → dist/)…');
  const { build } = await import('esbuild');
  const labs = join(root, 'labs');
  const labEntries = existsSync(labs)
    ? readdirSync(labs, { withFileTypes: true })
        .filter((e) => e.isDirectory() && existsSync(join(labs, e.name, 'lab.ts')))
        .map((e) => ({ in: join(labs, e.name, 'lab.ts'), out: join('labs', e.name, 'lab') }))
    : [];
  const tmp = join(root, 'dist.tmp');
  rmSync(tmp, { recursive: true, force: true });
  try {
    await build({
      absWorkingDir: root,
      entryPoints: [{ in: join(root, 'server', 'main.ts'), out: join('server', 'main') }, ...labEntries],
      outdir: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
      // read by server/project-root.ts: the labs loader takes the labs' bundles, not their .ts
      define: { __GLASSBOX_COMPILED__: 'true' },
    });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    console.error(`glassbox: the server build failed: ${e.message}`);
    return 1;
  }
  // the whole tree at once: a server starting meanwhile sees the old build or the new one
  const out = join(root, 'dist');
  rmSync(out, { recursive: true, force: true });
  const { renameSync } = await import('node:fs');
  renameSync(tmp, out);
  return 0;
}
