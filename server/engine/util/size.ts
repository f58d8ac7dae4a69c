// Sizes as Docker's flags write them: "64m", "10MB", "1.5g", "512k", "1048576" (bytes). The
// units are binary (k = 1024), as in Docker's units.RAMInBytes.
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const SIZE_RE = /^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$/i;

/** Bytes, or null when the text is not a size. */
export function parseSize(text: string): number | null {
  const m = SIZE_RE.exec(text.trim());
  if (!m) return null;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** The short form a learner reads back: 10485760 → "10m". */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  return `${bytes}b`;
}
