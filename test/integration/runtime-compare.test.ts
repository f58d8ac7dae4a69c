// compareRuntimes against the real kernel: the base image's `sh -c 'exit 3'` under the builtin
// runtime and every other runtime the engine lists (an unavailable one shows its own error), what
// each shows inside (gVisor's kernel in dmesg, UML's own kernel version, the host's kernel for
// the rest), the same exit code everywhere, the timelines kept, and nothing left on the host.
// Bad input is refused before anything runs.
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_LABEL } from '../../server/engine/compare/runtime-compare.js';
import type { RuntimeAvailability, RuntimeComparison } from '../../server/engine/compare/types.js';
import { requireHost } from '../helpers.js';
import { hostLeftovers, openTestEngine, type TestEnv } from './support.js';

requireHost('runtime comparison', { root: true });

describe('compareRuntimes', () => {
  let env: TestEnv;
  let listed: RuntimeAvailability[];
  let c: RuntimeComparison;
  /** builtin first, then every other one the engine lists (at most 5 in all) */
  let names: string[];

  beforeAll(async () => {
    env = await openTestEngine();
    listed = await env.engine.comparableRuntimes();
    names = ['builtin', ...listed.map((l) => l.name).filter((n) => n !== 'builtin')].slice(0, 5);
  }, 60_000);

  afterAll(async () => env?.cleanup(), 60_000);

  it('lists builtin as available, and every runtime with its availability', () => {
    expect(listed.find((l) => l.name === 'builtin')).toMatchObject({ available: true });
    for (const l of listed) if (!l.available) expect(l.error, l.name).toBeTruthy();
    // a comparison needs two runtimes: this engine must list another one beside its own
    expect(names.length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['an unknown runtime', { image: 'base', cmd: ['true'], runtimes: ['builtin', 'kata'] }, /unknown runtime "kata": this engine lists builtin/],
    ['one runtime', { image: 'base', cmd: ['true'], runtimes: ['builtin'] }, /at least 2/],
    ['six runtimes', { image: 'base', cmd: ['true'], runtimes: ['builtin', 'a', 'b', 'c', 'd', 'e'] }, /at most 5/],
    ['a runtime twice', { image: 'base', cmd: ['true'], runtimes: ['builtin', 'builtin'] }, /ticked twice/],
    ['no command', { image: 'base', cmd: [], runtimes: ['builtin', 'runc'] }, /a command is required/],
    ['an empty command name', { image: 'base', cmd: [''], runtimes: ['builtin', 'runc'] }, /command name is empty/],
    ['six rounds', { image: 'base', cmd: ['true'], runtimes: ['builtin', 'runc'], rounds: 6 }, /rounds/],
    ['an unknown field', { image: 'base', cmd: ['true'], runtimes: ['builtin', 'runc'], privileged: true }, /privileged/],
  ])('refuses %s, and nothing is made', async (_what, req, message) => {
    const before = env.engine.runtimeComparisons().length;
    const err = await env.engine.compareRuntimes(req as never).catch((e: Error & { kind?: string }) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { kind?: string }).kind).toBe('invalid');
    expect((err as Error).message).toMatch(message);
    expect(env.engine.list({ all: true })).toEqual([]);
    expect(env.engine.runtimeComparisons().length).toBe(before);
  });

  it('refuses an image it does not have, and nothing is made', async () => {
    const err = await env.engine.compareRuntimes({ image: 'no-such-image:1', cmd: ['true'], runtimes: names.slice(0, 2) }).catch((e: Error) => e);
    expect((err as { kind?: string }).kind).toBe('not-found');
    expect((err as Error).message).toMatch(/no-such-image/);
    expect(env.engine.list({ all: true })).toEqual([]);
  });

  it('runs the same command under each runtime, one at a time, and removes every container', async () => {
    c = await env.engine.compareRuntimes({ image: 'base', cmd: ['sh', '-c', 'echo ran-$((40+2)); exit 3'], runtimes: names, rounds: 2 });
    expect(c.results.map((r) => r.runtime)).toEqual(names);
    expect(c.hostKernel).toBe(release());
    expect(env.engine.list({ all: true }).filter((r) => r.config.labels?.[COMPARE_LABEL])).toEqual([]);
    const left = hostLeftovers(env.root);
    expect(left.mounts).toEqual([]);
    expect(left.cgroups).toEqual([]);
    expect(left.processes).toBe(0);
    // the comparison is kept, with each run's timeline
    expect(env.engine.runtimeComparison(c.id)).toEqual(c);
    expect(env.engine.runtimeComparisons()[0].id).toBe(c.id);
  }, 300_000);

  it('gives every available runtime the same exit code and output, with measured times', () => {
    for (const r of c.results) {
      const l = listed.find((x) => x.name === r.runtime)!;
      if (!l.available) {
        // never replaced by another runtime: the run fails with the runtime's own error
        expect(r.startMs, r.runtime).toBeNull();
        expect(r.error, r.runtime).toContain(l.error!.slice(0, 40));
        continue;
      }
      expect(r.error, r.runtime).toBeUndefined();
      expect(r.runs, r.runtime).toHaveLength(2);
      for (const run of r.runs) {
        expect(run.exitCode, r.runtime).toBe(3);
        expect(run.output, r.runtime).toContain('ran-42');
        expect(run.startMs!, r.runtime).toBeGreaterThan(0);
        expect(run.exitMs!, r.runtime).toBeGreaterThanOrEqual(run.startMs!);
        expect(run.timeline.length, r.runtime).toBeGreaterThan(3);
      }
      expect(r.startMs, r.runtime).toBeGreaterThan(0);
    }
  });

  it('shows what each runtime gives its processes: kernel, ps, dmesg, capabilities, memory', () => {
    for (const r of c.results.filter((x) => x.startMs !== null)) {
      expect(r.inside, r.runtime).not.toBeNull();
      const inside = r.inside!;
      // the header and at least the probe's shell as pid 1 (UML's: its init, then the kernel's threads)
      expect(inside.ps[0], r.runtime).toMatch(/PID/);
      expect(inside.ps.some((l) => /^\s*1\s/.test(l)), r.runtime).toBe(true);
      expect(inside.capEff, r.runtime).toMatch(/^[0-9a-f]{16}$/);
      expect(r.probes.every((p) => p.memory && p.memory.hostKb > 0 && p.memory.processes.length > 0), r.runtime).toBe(true);
      expect(r.overheadKb!, r.runtime).toBeGreaterThan(0);
      expect(r.probes[0].memory!.guestMeasure, r.runtime).toMatch(/Pss|VmRSS/);
      if (r.runtime === 'runsc') {
        // gVisor's Sentry answers uname and keeps a kernel log of its own
        expect(inside.kernel).toBe('4.4.0');
        expect(inside.dmesg.join('\n')).toMatch(/gVisor/);
      } else if (r.runtime === 'uml') {
        expect(inside.kernel).toMatch(/^6\.1\./);
        expect(inside.kernel).not.toBe(release());
      } else {
        // the host's own kernel, whose log a container may not read (no CAP_SYSLOG)
        expect(inside.kernel, r.runtime).toBe(release());
        expect(inside.capabilities, r.runtime).not.toContain('CAP_SYS_ADMIN');
        expect(inside.capabilities, r.runtime).toContain('CAP_CHOWN');
      }
    }
    const builtin = c.results.find((r) => r.runtime === 'builtin')!;
    // the builtin runtime's own cost is its monitor, counted on the host and not inside
    const mem = builtin.probes[0].memory!;
    expect(mem.processes.find((p) => p.via === 'monitor')?.comm).toBe('gb-helper');
    expect(mem.overheadKb).toBeLessThan(mem.hostKb);
  });

  it('runs one comparison at a time: a second one meanwhile is a conflict', async () => {
    const first = env.engine.compareRuntimes({ image: 'base', cmd: ['true'], runtimes: names.slice(0, 2) });
    const second = await env.engine.compareRuntimes({ image: 'base', cmd: ['true'], runtimes: names.slice(0, 2) }).catch((e: Error) => e);
    expect((second as { kind?: string }).kind).toBe('conflict');
    await first;
    expect(env.engine.list({ all: true })).toEqual([]);
  }, 120_000);
});
