// The name prefix of a test or benchmark run (host/naming.ts): "gbt" and two base-36 digits of the
// runner's pid, so `npm test` and `npm run bench` never touch the gb0, GLASSBOX-* chains and
// glassbox/ cgroups of a serving Glassbox on the same host. Two runs that land on the same prefix
// are refused by the owner lock (with the other's pid), never mixed.
export function runPrefix(pid = process.pid): string {
  return `gbt${(pid % 1296).toString(36).padStart(2, '0')}`;
}

/** GLASSBOX_TEST_PREFIX when given, else runPrefix(); never the serving default "gb". */
export function testPrefix(): string {
  const p = process.env.GLASSBOX_TEST_PREFIX?.trim();
  return p && p !== 'gb' ? p : runPrefix();
}

/**
 * For benchmarks and helpers run outside vitest: makes GLASSBOX_PREFIX a test prefix (keeps one
 * already set, unless it is the serving default) so engines and servers they start use it.
 */
export function useTestPrefix(): string {
  const cur = process.env.GLASSBOX_PREFIX?.trim();
  if (!cur || cur === 'gb') process.env.GLASSBOX_PREFIX = testPrefix();
  return process.env.GLASSBOX_PREFIX!;
}
