// Builds the C low-level helper with the machine's cc. No extra package is needed:
// only libc headers, which every machine with a C compiler has. A warning is an error (as crun's
// CI has it). `--check` (npm test) also compiles it once with gcc's static analyzer, where the
// compiler has one, into a scratch file: the analyzer's findings fail the tests, not the install.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const cc = process.env.CC || 'cc';
const FLAGS = ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-std=gnu11', '-D_GNU_SOURCE'];

if (process.argv.includes('--check')) {
  const probe = spawnSync(cc, ['-fanalyzer', '-fsyntax-only', '-x', 'c', '/dev/null'], { stdio: 'ignore' });
  if (probe.status === 0) {
    const scratch = join(mkdtempSync(join(tmpdir(), 'gb-analyze-')), 'gb-helper');
    try {
      execFileSync(cc, [...FLAGS, '-fanalyzer', '-o', scratch, ...sources], { stdio: 'inherit' });
      console.log('native: gcc -fanalyzer -Werror found nothing');
    } finally {
      rmSync(dirname(scratch), { recursive: true, force: true });
    }
  } else console.log(`native: ${cc} has no -fanalyzer; the analyzer check is left out`);
}

// The uml runtime's two programs (native/uml): the host-side launcher, and the guest's init,
// static because it runs inside the container's image, which may have no libc.
for (const [name, extra] of [['gb-uml-launch', []], ['gb-uml-init', ['-static']]]) {
  const src = join(root, 'native', 'uml', `${name}.c`);
  const bin = join(outDir, name);
  if (!existsSync(src) || (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs && !process.argv.includes('--force'))) continue;
  execFileSync(cc, [...FLAGS, ...extra, '-o', bin, src], { stdio: 'inherit' });
  console.log(`native: built ${bin}`);
}

if (existsSync(out) && statSync(out).mtimeMs >= newest && !process.argv.includes('--force')) {
  console.log('native: gb-helper is up to date');
  process.exit(0);
}
execFileSync(cc, [...FLAGS, '-o', out, ...sources], { stdio: 'inherit' });
console.log(`native: built ${out}`);
