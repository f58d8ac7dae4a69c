// Numbers and ids as the diagrams print them; plain functions, shared by the components and the
// layout modules.
export function fmtBytes(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined) return '∞';
  const abs = Math.abs(n);
  if (abs >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(digits)} GiB`;
  if (abs >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(digits)} MiB`;
  if (abs >= 1024) return `${(n / 1024).toFixed(digits)} KiB`;
  return `${Math.round(n)} B`;
}

export function fmtRate(bps: number): string {
  return `${fmtBytes(bps)}/s`;
}

export function shortId(id: string | null | undefined, n = 12): string {
  if (!id) return '';
  return id.replace(/^sha256:/, '').slice(0, n);
}
