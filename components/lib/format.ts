export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '∞';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function duration(ms: number): string {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function ms(v: number): string {
  return v < 1 ? `${(v * 1000).toFixed(0)} µs` : v < 100 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
