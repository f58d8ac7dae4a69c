// The pure parts of the runtime comparison: the page's command splitting, the probe's output
// parsing, the request check (bad input refused before anything runs) and the claims' kernel kinds.
import { describe, expect, it } from 'vitest';
import { splitArgv } from '../../components/lib/argv.js';
import { kernelKind } from '../../components/lib/runtime-claims.js';
import { parseProbe, PROBE_READY } from '../../server/engine/compare/probe.js';
import { checkCompareRequest } from '../../server/engine/compare/request.js';
import type { RuntimeResult } from '../../server/engine/compare/types.js';
import type { EngineApi } from '../../server/engine/api.js';
import { compareListing, getComparison, runComparison } from '../../server/api/rest/runtime-compare.js';

describe('splitArgv', () => {
  it.each([
    ['uname -r', ['uname', '-r']],
    ["sh -c 'echo a b; exit 3'", ['sh', '-c', 'echo a b; exit 3']],
    ['echo "x \\"y\\"" z\\ w', ['echo', 'x "y"', 'z w']],
    ["echo '' end", ['echo', '', 'end']],
    ['  spaced   out  ', ['spaced', 'out']],
  ])('%s', (line, argv) => expect(splitArgv(line)).toEqual(argv));

  it('refuses an unclosed quote', () => expect(() => splitArgv("sh -c 'echo")).toThrow(/unclosed ' quote/));
});

describe('parseProbe', () => {
  const out = ['@@kernel', '4.4.0', '@@ps', 'PID   USER     COMMAND', '    1 root     sh', '@@dmesg', '[   0.000000] Starting gVisor...', '@@cap', '00000000a80425fb', '@@rss', '3744 Pss', PROBE_READY, 'after'].join('\n');

  it('cuts the sections and decodes CapEff', () => {
    const p = parseProbe(out)!;
    expect(p.inside.kernel).toBe('4.4.0');
    expect(p.inside.ps).toEqual(['PID   USER     COMMAND', '    1 root     sh']);
    expect(p.inside.dmesg[0]).toMatch(/gVisor/);
    expect(p.inside.capabilities).toContain('CAP_CHOWN');
    expect(p.inside.capabilities).not.toContain('CAP_SYS_ADMIN');
    expect(p.inside.capabilities).toHaveLength(14);
    expect(p.guestKb).toBe(3744);
  });

  it('is null before the probe is ready', () => expect(parseProbe(out.split(PROBE_READY)[0])).toBeNull());

  it('keeps a mask it cannot read as it is, with no names', () => {
    const p = parseProbe(out.replace('00000000a80425fb', 'sh: can\'t open /proc/self/status'))!;
    expect(p.inside.capabilities).toEqual([]);
  });
});

describe('checkCompareRequest', () => {
  const listed = ['builtin', 'runc', 'crun'].map((name) => ({ name, description: '', available: name !== 'crun' }));
  const ok = { image: 'base', cmd: ['true'], runtimes: ['builtin', 'runc'] };

  it('accepts 2–5 listed runtimes, an unavailable one included, and defaults to one round', () => {
    expect(checkCompareRequest({ ...ok, runtimes: ['builtin', 'crun'] }, listed)).toEqual({ ...ok, runtimes: ['builtin', 'crun'], rounds: 1 });
  });

  it.each([
    [{ ...ok, runtimes: ['builtin'] }, /at least 2/],
    [{ ...ok, runtimes: ['builtin', 'runc', 'crun', 'runsc', 'uml', 'x'] }, /at most 5/],
    [{ ...ok, runtimes: ['builtin', 'youki'] }, /unknown runtime "youki": this engine lists builtin, runc, crun/],
    [{ ...ok, runtimes: ['runc', 'runc'] }, /ticked twice/],
    [{ ...ok, cmd: [] }, /a command is required/],
    [{ ...ok, cmd: ['a\0b'] }, /NUL/],
    [{ ...ok, image: '' }, /image/],
    [{ ...ok, rounds: 0 }, /rounds/],
    [{ ...ok, extra: 1 }, /extra/],
  ])('refuses %j', (req, message) => expect(() => checkCompareRequest(req, listed)).toThrow(message));
});

describe('kernelKind', () => {
  const r = (runtime: string, kernel: string) => ({ runtime, inside: { kernel } }) as unknown as RuntimeResult;
  it('knows the drivers, and reads any other runtime by its uname -r', () => {
    expect(kernelKind(r('runc', '6.18.44'), '6.18.44')).toBe('shared');
    expect(kernelKind(r('runsc', '4.4.0'), '6.18.44')).toBe('user-space kernel');
    expect(kernelKind(r('uml', '6.1.0'), '6.18.44')).toBe('own kernel');
    expect(kernelKind(r('other', '5.0'), '6.18.44')).toBe('own kernel');
  });
});

describe("the REST adapter with a learner's view (no comparison methods)", () => {
  const learner = {} as EngineApi;
  it('refuses the run, finds no comparison, lists none', async () => {
    await expect(runComparison(learner, { image: 'base', cmd: ['true'], runtimes: ['builtin', 'runc'] })).rejects.toMatchObject({ kind: 'permission-denied' });
    expect(() => getComparison(learner, 'abcdefabcdef')).toThrow(/no such runtime comparison/);
    expect(await compareListing(learner)).toEqual({ runtimes: [], comparisons: [] });
  });
});
