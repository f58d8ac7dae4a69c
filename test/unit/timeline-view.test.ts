// The timeline's phases, bar boxes and capability names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilityNames } from '../../common/capabilities';
import { PHASE_OF_STEP, phaseOf } from '../../common/timeline-phases';
import { barBox, decodeCapabilities, groupByPhase, MIN_BAR_PCT } from '../../components/lib/timeline-view';
import { DOCKER_DEFAULT_CAPABILITIES, capabilityNumber } from '../../server/engine/runtime/capabilities';
import { HELPER_STEPS } from '../../server/engine/runtime/helper-steps';
import type { TimelineStep } from '../../server/engine/types';

const step = (name: string, at: number, ms: number, by: TimelineStep['by'] = 'child', o: Partial<TimelineStep> = {}): TimelineStep => ({ step: name, by, at, ms, ...o });

describe('timeline phases', () => {
  it('names a phase for every helper step, and for every step the engine reports', () => {
    for (const s of HELPER_STEPS) expect({ s, known: s in PHASE_OF_STEP }).toEqual({ s, known: true });
    const start = readFileSync(join(import.meta.dirname, '..', '..', 'server', 'engine', 'lifecycle', 'start.ts'), 'utf8');
    const engineSteps = [...start.matchAll(/step\('([a-z0-9-]+)'/g)].map((m) => m[1]);
    expect(engineSteps.length).toBeGreaterThan(5);
    for (const s of engineSteps) expect({ s, known: s in PHASE_OF_STEP }).toEqual({ s, known: true });
    expect(phaseOf('mount-proc')).toBe('rootfs');
    expect(phaseOf('veth-create')).toBe('network');
    expect(phaseOf('iptables-jump')).toBe('network');
    expect(phaseOf('capabilities')).toBe('security');
    expect(phaseOf('clone')).toBe('namespaces');
    expect(phaseOf('exec')).toBe('exec');
  });

  it('groups in the order a container is made, each group in time order', () => {
    const g = groupByPhase([step('exec', 50, 1), step('validate', 0, 2, 'engine'), step('pivot_root', 30, 3), step('mount-overlay', 5, 4, 'engine'), step('clone', 20, 6, 'monitor')]);
    expect(g.map((x) => x.phase)).toEqual(['prepare', 'rootfs', 'namespaces', 'exec']);
    expect(g[1].steps.map((s) => s.step)).toEqual(['mount-overlay', 'pivot_root']);
    expect(g[1]).toMatchObject({ start: 5, end: 33, total: 7 });
  });

  it('keeps short bars visible and every bar inside the track', () => {
    expect(barBox(0, 0.01, 100).width).toBe(MIN_BAR_PCT);
    expect(barBox(50, 25, 100)).toEqual({ left: 50, width: 25 });
    const last = barBox(100, 0, 100);
    expect(last.left + last.width).toBeLessThanOrEqual(100);
  });
});

describe('capabilities by name', () => {
  it('decodes a mask lowest bit first', () => {
    expect(capabilityNames('0')).toEqual([]);
    expect(capabilityNames('0x3')).toEqual(['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
    expect(capabilityNames('0000000000200000')).toEqual(['CAP_SYS_ADMIN']);
    expect(capabilityNames(1n << 63n)).toEqual(['CAP_63']);
  });

  it("names Docker's default set from the helper's capset line", () => {
    const mask = DOCKER_DEFAULT_CAPABILITIES.reduce((m, n) => m | (1n << BigInt(capabilityNumber(n)!)), 0n).toString(16).padStart(16, '0');
    const call = `capset(effective=${mask}), PR_CAPBSET_DROP of every capability outside ${mask}`;
    const [eff, bound] = decodeCapabilities(call);
    expect(eff.label).toBe('effective');
    expect(eff.names).toEqual(DOCKER_DEFAULT_CAPABILITIES.map((n) => n.replace('CAP_', '')).sort((a, b) => capabilityNumber(a)! - capabilityNumber(b)!));
    expect(eff.names).toContain('NET_BIND_SERVICE');
    expect(eff.names).not.toContain('SYS_ADMIN');
    expect(bound).toEqual({ label: 'bounding', names: ['(the same set)'] });
    expect(decodeCapabilities('capset(effective=0000000000000001), PR_CAPBSET_DROP of every capability outside 0000000000000003')[1].names).toEqual(['CHOWN', 'DAC_OVERRIDE']);
  });
});
