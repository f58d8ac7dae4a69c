// The filters every prune takes: `until` (made before a time) and `label` / `label!`.
import { InvalidArgument } from '../types.js';

export interface LabelFilter {
  key: string;
  /** unset: the key is there, whatever its value */
  value?: string;
  /** label!=…: objects *without* the label (or with another value) */
  negate?: boolean;
}

export interface PruneFilters {
  /** ms since the epoch: only objects created before it */
  until?: number;
  labels?: LabelFilter[];
}

export interface PruneResult {
  deleted: string[];
  /** bytes freed on disk */
  spaceReclaimed: number;
}

/** Docker's label filter: every label= must match, and no label!= may. */
export function labelsMatch(labels: Record<string, string>, filters: LabelFilter[] = []): boolean {
  return filters.every((f) => {
    const has = f.key in labels && (f.value === undefined || labels[f.key] === f.value);
    return f.negate ? !has : has;
  });
}

export function createdBefore(created: string, until: number | undefined): boolean {
  return until === undefined || Date.parse(created) < until;
}

/**
 * Docker's `until`: a unix timestamp (seconds, maybe fractional), an RFC 3339 date, or a Go
 * duration ("10m", "1h30m", "24h") counted back from now. The result is ms since the epoch.
 */
export function parseUntil(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    let ms = 0;
    for (const [, n, , u] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * unit[u];
    return now - ms;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid filter 'until=${value}': a unix timestamp, a date (RFC 3339) or a duration like 24h`);
  return t;
}

/** "key" or "key=value" of a label filter. */
export function parseLabelFilter(text: string, negate = false): LabelFilter {
  const i = text.indexOf('=');
  const key = i < 0 ? text : text.slice(0, i);
  if (!key) throw new InvalidArgument(`invalid filter 'label${negate ? '!' : ''}=${text}': a label key is required`);
  return i < 0 ? { key, negate } : { key, value: text.slice(i + 1), negate };
}
