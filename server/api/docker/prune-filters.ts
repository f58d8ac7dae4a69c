// The filters of every prune endpoint (until, label, label!) in the engine's terms.
import { parseLabelFilter, parseUntil, type PruneFilters } from '../../engine/index.js';
import type { Filters } from './filters.js';

export function pruneFilters(filters: Filters): PruneFilters {
  const until = filters.get('until');
  const times = until?.map((u) => parseUntil(u));
  return {
    ...(times?.length ? { until: Math.min(...times) } : {}),
    labels: [...(filters.get('label') ?? []).map((l) => parseLabelFilter(l)), ...(filters.get('label!') ?? []).map((l) => parseLabelFilter(l, true))],
  };
}
