// REST for the runtime comparison (the /runtimes page): thin calls onto the engine's
// compareRuntimes. A run makes containers, so it is a write: the server's token and
// Origin/JSON checks (write-guard.ts) stand before it as before every POST.
//   GET  /api/runtimes/compare        { runtimes, comparisons }: what may be ticked, what was kept
//   POST /api/runtimes/compare        { image, cmd, runtimes, rounds? } → 201 the comparison
//   GET  /api/runtimes/compare/:id    one kept comparison
// A learner's view of the engine has no comparison (it would run containers outside their
// sandbox's policy): their POST is refused, their GET of an id is not found.
import { NotFound, PermissionDenied, type EngineApi, type RuntimeAvailability, type RuntimeComparison } from '../../engine/index.js';

/** A kept comparison in the list: enough to name it and open it. */
export interface ComparisonSummary {
  id: string;
  created: string;
  image: string;
  cmd: string[];
  rounds: number;
  runtimes: string[];
}

export function summarizeComparison(c: RuntimeComparison): ComparisonSummary {
  return { id: c.id, created: c.created, image: c.image, cmd: c.cmd, rounds: c.rounds, runtimes: c.results.map((r) => r.runtime) };
}

export async function compareListing(engine: EngineApi): Promise<{ runtimes: RuntimeAvailability[]; comparisons: ComparisonSummary[] }> {
  return { runtimes: (await engine.comparableRuntimes?.()) ?? [], comparisons: (engine.runtimeComparisons?.() ?? []).map(summarizeComparison) };
}

export async function runComparison(engine: EngineApi, body: unknown): Promise<RuntimeComparison> {
  if (!engine.compareRuntimes) throw new PermissionDenied('comparing runtimes is the teacher\'s: it runs containers outside a learner\'s sandbox');
  return engine.compareRuntimes(body as Parameters<NonNullable<EngineApi['compareRuntimes']>>[0]);
}

export function getComparison(engine: EngineApi, id: string): RuntimeComparison {
  if (!engine.runtimeComparison) throw new NotFound(`no such runtime comparison: ${id.slice(0, 64)}`);
  return engine.runtimeComparison(id);
}
