// The step names of native/src/*.c are a listed contract: every literal step the C code reports is
// in server/engine/runtime/helper-steps.ts and in native/PROTOCOL.md, and nothing listed is unused.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELPER_STEPS, isHelperStep } from '../../server/engine/runtime/helper-steps.js';

const repo = join(import.meta.dirname, '..', '..');
const src = join(repo, 'native', 'src');
const code = readdirSync(src)
  .filter((f) => f.endsWith('.c'))
  .map((f) => readFileSync(join(src, f), 'utf8'))
  .join('\n');

/** The step literals: FAIL/FAILF/die("step", …), format_error(buf, len, "step", …), status_step("by", "step", …). */
function stepsInC(): Set<string> {
  const out = new Set<string>();
  for (const m of code.matchAll(/\b(?:FAIL|FAILF|die)\(\s*"([^"]+)"/g)) out.add(m[1]);
  for (const m of code.matchAll(/\bformat_error\([^,]+,[^,]+,\s*"([^"]+)"/g)) out.add(m[1]);
  for (const m of code.matchAll(/\bstatus_step\(\s*"[a-z]+",\s*"([^"]+)"/g)) out.add(m[1]);
  for (const m of code.matchAll(/\bwrite_map\([^,]+,\s*"([^"]+)"/g)) out.add(m[1]);
  return out;
}

describe('helper step names', () => {
  it('every step the C helper reports is listed in helper-steps.ts', () => {
    const unlisted = [...stepsInC()].filter((s) => !isHelperStep(s));
    expect(unlisted).toEqual([]);
  });

  it('every listed step is written in native/PROTOCOL.md', () => {
    const protocol = readFileSync(join(repo, 'native', 'PROTOCOL.md'), 'utf8');
    const missing = HELPER_STEPS.filter((s) => !protocol.includes(`\`${s}\``));
    expect(missing).toEqual([]);
  });

  it('finds the steps it should (the scan itself works)', () => {
    const found = stepsInC();
    for (const s of ['clone', 'pivot_root', 'seccomp', 'uid_map', 'setns']) expect(found.has(s), s).toBe(true);
  });
});
