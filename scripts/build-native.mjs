// Builds the C low-level helper with the machine's cc. No extra package is needed:
// only libc headers, which every machine with a C compiler has.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'native', 'src');
const outDir = join(root, 'native', 'build');
const out = join(outDir, 'gb-helper');
mkdirSync(outDir, { recursive: true });
if (!existsSync(srcDir)) { console.log('native: no sources yet'); process.exit(0); }
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.c')).map((f) => join(srcDir, f));
const headers = readdirSync(srcDir).filter((f) => f.endsWith('.h')).map((f) => join(srcDir, f));
const newest = Math.max(...[...sources, ...headers].map((f) => statSync(f).mtimeMs));
if (existsSync(out) && statSync(out).mtimeMs >= newest && !process.argv.includes('--force')) {
  console.log('native: gb-helper is up to date');
  process.exit(0);
}
const cc = process.env.CC || 'cc';
execFileSync(cc, ['-O2', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-std=gnu11', '-D_GNU_SOURCE', '-o', out, ...sources], { stdio: 'inherit' });
console.log(`native: built ${out}`);
