// The uml driver's pure parts: the interpreter patch of linux.uml's copy, the guest spec, the
// kernel command line, the memory, and availability when a file is missing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUEST_INTERP, missingFiles, patchInterpreter } from '../../server/engine/runtime/uml/kernel-dir.js';
import { DEFAULT_MEM_MIB, guestMemMiB, guestSpec, kernelArgs } from '../../server/engine/runtime/uml/launch.js';
import type { RuntimePlan } from '../../server/engine/runtime/plan.js';

const plan = (extra: Partial<RuntimePlan> = {}) =>
  ({
    args: ['/bin/sh', '-c', 'echo a b\nc'],
    env: ['PATH=/bin', 'X=1 2'],
    cwd: '/work dir',
    user: { uid: 1000, gid: 1000, additionalGids: [10, 20] },
    hostname: 'box',
    terminal: false,
    stdin: false,
    readOnlyRoot: false,
    resources: {},
    ...extra,
  }) as RuntimePlan;

describe('uml launch', () => {
  it('patches PT_INTERP of an ELF (here: node itself) and refuses a path that does not fit', () => {
    const elf = readFileSync(process.execPath);
    const out = patchInterpreter(elf, GUEST_INTERP);
    expect(out.length).toBe(elf.length);
    expect(out.includes(Buffer.from(GUEST_INTERP + '\0'))).toBe(true);
    expect(() => patchInterpreter(elf, '/' + 'x'.repeat(200))).toThrow(/does not fit/);
    expect(() => patchInterpreter(Buffer.from('not an elf file at all, no'), GUEST_INTERP)).toThrow(/not a 64-bit ELF/);
  });

  it('writes the guest spec with every field percent-encoded', () => {
    const s = guestSpec(plan());
    expect(s).toContain('arg echo%20a%20b%0Ac\n');
    expect(s).toContain('env X=1%202\n');
    expect(s).toContain('cwd /work%20dir\n');
    expect(s).toContain('user 1000 1000 10 20\n');
    expect(s).toContain('terminal 0\n');
  });

  it('gives -m as mem= (default and floor), the console to the terminal or stdout/stderr', () => {
    expect(guestMemMiB(plan())).toBe(DEFAULT_MEM_MIB);
    expect(guestMemMiB(plan({ resources: { memory: { limit: 64 * 1024 * 1024 } } }))).toBe(64);
    expect(guestMemMiB(plan({ resources: { memory: { limit: 4 * 1024 * 1024 } } }))).toBe(32);
    const plain = kernelArgs(plan());
    expect(plain).toEqual(expect.arrayContaining(['mem=256M', 'rootfstype=hostfs', 'con0=null,fd:1', 'ssl0=null,fd:2', 'rw', 'devtmpfs.mount=0']));
    const tty = kernelArgs(plan({ terminal: true, readOnlyRoot: true }));
    expect(tty).toEqual(expect.arrayContaining(['con0=fd:0,fd:1', 'ro']));
    expect(tty.some((a) => a.startsWith('ssl0='))).toBe(false);
  });

  it('names the missing file and its fix when the runtime cannot be used', () => {
    expect(missingFiles('/nonexistent/gb-uml-init', '/nonexistent/gb-uml-launch')).toMatch(/(linux\.uml is missing: apt-get install user-mode-linux|gb-uml-init is missing: npm run build:native)/);
  });
});
