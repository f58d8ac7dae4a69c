// npm run bench: every benchmark, one after the other (they would disturb each other in parallel).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { useTestPrefix } from '../prefix.js';

// its own bridge, chains and cgroups: a serving Glassbox on this host is not touched
useTestPrefix();

const here = dirname(fileURLToPath(import.meta.url));
const summary: string[] = [];
for (const file of readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as Record<string, unknown>;
  const run = Object.entries(mod).find(([k, v]) => k.startsWith('bench') && typeof v === 'function')?.[1] as (() => Promise<string>) | undefined;
  if (!run) continue;
  console.log(`\n== ${file}`);
  try {
    summary.push(`${file}: ${await run()}`);
  } catch (e) {
    summary.push(`${file}: FAILED ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
console.log('\n== summary');
for (const s of summary) console.log(s);
