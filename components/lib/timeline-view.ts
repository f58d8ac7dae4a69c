// The timeline's layout, as plain functions: steps grouped by phase (common/timeline-phases.ts),
// each bar placed on the start's time axis with a minimum width so a 20 µs step is still seen,
// and the capability step's hex masks decoded into capability names (common/capabilities.ts).
import { capabilityNames } from '../../common/capabilities';
import { PHASES, phaseOf, type Phase } from '../../common/timeline-phases';
import type { TimelineStep } from '../../server/engine/types';

/** the narrowest bar, in % of the track: a visible mark for the shortest steps */
export const MIN_BAR_PCT = 1.2;

export interface PhaseGroup {
  phase: Phase;
  steps: TimelineStep[];
  /** first start and last end, ms since the timeline began */
  start: number;
  end: number;
  /** the sum of its steps' durations */
  total: number;
}

export function groupByPhase(steps: TimelineStep[]): PhaseGroup[] {
  const groups = new Map<Phase, TimelineStep[]>();
  for (const s of steps) {
    const p = phaseOf(s.step);
    groups.set(p, [...(groups.get(p) ?? []), s]);
  }
  return PHASES.filter((p) => groups.has(p)).map((phase) => {
    const list = [...groups.get(phase)!].sort((a, b) => a.at - b.at);
    return {
      phase,
      steps: list,
      start: Math.min(...list.map((s) => s.at)),
      end: Math.max(...list.map((s) => s.at + s.ms)),
      total: list.reduce((a, s) => a + s.ms, 0),
    };
  });
}

/** left and width in % of the track, the width at least MIN_BAR_PCT and the bar inside the track */
export function barBox(at: number, ms: number, end: number): { left: number; width: number } {
  const total = Math.max(end, 0.001);
  const width = Math.max(MIN_BAR_PCT, (ms / total) * 100);
  const left = Math.min((at / total) * 100, 100 - width);
  return { left: Math.max(0, left), width };
}

/** "capset(effective=00000000a80425fb), … outside 00000000a80425fb" → the names per mask. */
export function decodeCapabilities(call: string): { label: string; names: string[] }[] {
  const out: { label: string; names: string[] }[] = [];
  const eff = /effective=([0-9a-fA-F]+)/.exec(call);
  if (eff) out.push({ label: 'effective', names: capabilityNames(eff[1]).map(short) });
  const bound = /outside ([0-9a-fA-F]+)/.exec(call);
  if (bound && bound[1] !== eff?.[1]) out.push({ label: 'bounding', names: capabilityNames(bound[1]).map(short) });
  else if (bound) out.push({ label: 'bounding', names: ['(the same set)'] });
  return out;
}

const short = (n: string) => n.replace(/^CAP_/, '');
