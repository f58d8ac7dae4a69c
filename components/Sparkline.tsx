// A tiny SVG line of the last samples. max: the top of the scale (a limit), or the largest sample.
import { color as theme } from './theme';

export function Sparkline({ values, max, color = theme.sparkMemory, width = 120, height = 28, label }: { values: number[]; max?: number | null; color?: string; width?: number; height?: number; label?: string }) {
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const n = Math.max(values.length, 2);
  const pts = values.map((v, i) => `${((i + (n - values.length)) / (n - 1)) * width},${height - 1 - (Math.min(v, top) / top) * (height - 2)}`);
  return (
    <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} className="overflow-visible">
      <rect x={0} y={0} width={width} height={height} rx={3} fill={theme.surface} />
      {pts.length > 1 && <polyline points={pts.join(' ')} fill="none" stroke={color} strokeWidth={1.5} strokeLinejoin="round" />}
      {pts.length > 0 && <polygon points={`0,${height} ${pts.join(' ')} ${width},${height}`} fill={color} opacity={0.12} />}
    </svg>
  );
}
