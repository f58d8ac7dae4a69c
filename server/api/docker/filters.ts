// Docker's `filters` query parameter: JSON of {"key": ["v1", "v2"]} (or the old {"key": {"v1": true}}).
import { badRequest } from './errors.js';

export type Filters = Map<string, string[]>;

export function parseFilters(raw: string | null): Filters {
  const out: Filters = new Map();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filter: ${raw} is not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('invalid filter: expected a JSON object');
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out.set(key, value.map(String));
    else if (value && typeof value === 'object') out.set(key, Object.entries(value).filter(([, v]) => v).map(([k]) => k));
    else throw badRequest(`invalid filter '${key}'`);
  }
  return out;
}

/** Refuses filter keys the endpoint does not know, as Docker does. */
export function checkFilterKeys(filters: Filters, allowed: string[]): void {
  for (const key of filters.keys()) if (!allowed.includes(key)) throw badRequest(`invalid filter '${key}'`);
}

/** label filters: "key" (present) or "key=value" */
export function labelMatches(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf('=');
    if (i < 0) return w in labels;
    return labels[w.slice(0, i)] === w.slice(i + 1);
  });
}
