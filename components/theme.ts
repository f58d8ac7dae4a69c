// Every colour the dashboard draws with, by what it means. SVG fills and strokes, inline styles and
// the terminal's palette read these; Tailwind classes read the same values as CSS variables
// (`--color-gb-*` in app/globals.css, kept equal by test/unit/theme.test.ts). A colour is changed
// here, once, and test/unit/theme.test.ts checks that text stays readable (WCAG 4.5:1) on the
// backgrounds it is drawn on.

export const color = {
  // ---- backgrounds, darkest first
  /** the terminal and the diagram frames (Tailwind slate-950) */
  canvas: '#020617',
  /** the page behind everything */
  page: '#0b1020',
  /** a chart's plot area, every other table row */
  plot: '#0b1220',
  /** a node's box: a container, a pid namespace level, a sparkline */
  surface: '#0f172a',
  /** the host network stack's box */
  hostSurface: '#111827',
  /** a highlighted row */
  raised: '#1e293b',
  /** a selected item, the terminal's selection */
  selected: '#334155',

  // ---- lines
  /** chart grid lines */
  grid: '#1e293b',
  /** connectors: veth pairs, pid namespace tree links */
  link: '#475569',
  /** a neutral outline */
  border: '#64748b',

  // ---- text, brightest first (each ≥ 4.5:1 on the backgrounds above it is drawn on)
  textStrong: '#f8fafc',
  text: '#e2e8f0',
  textSoft: '#cbd5e1',
  textMuted: '#94a3b8',
  /** the quietest text: axis ends, idle counters, details (was #64748b: 3.97:1 on the page) */
  textFaint: '#8190a5',
  /** dark text on a bright marker */
  textOnMarker: '#0f172a',

  // ---- meaning
  accent: '#38bdf8',
  /** the thing picked or shown: a selected container, the layer a path is taken from */
  highlight: '#facc15',
  ok: '#22c55e',
  okText: '#86efac',
  warn: '#f97316',
  warnText: '#fbbf24',
  danger: '#ef4444',
  dangerText: '#f87171',
  /** a limit's label beside its red line */
  limitText: '#fca5a5',

  // ---- namespaces
  /** the host's namespaces */
  nsHost: '#64748b',
  /** a bar joining the cells of one shared namespace; the pid a process has inside */
  nsShared: '#fbbf24',
  /** a process group outside containers with namespaces of its own */
  nsOther: '#a5b4fc',

  // ---- network
  container: '#38bdf8',
  bridge: '#a78bfa',
  bridgeFill: '#2e1065',
  bridgeText: '#ede9fe',
  bridgeTextMuted: '#c4b5fd',
  traffic: '#22d3ee',
  trafficText: '#67e8f9',
  natText: '#fde68a',
  /** containers run with --network host */
  hostStackText: '#86efac',
  /** containers sharing another's stack */
  sharedStackText: '#93c5fd',

  // ---- cgroup series
  memory: '#e2e8f0',
  memAnon: '#3b82f6',
  memFile: '#22c55e',
  memKernel: '#a855f7',
  memSlab: '#c084fc',
  memShmem: '#f59e0b',
  memSock: '#06b6d4',
  cpu: '#38bdf8',
  pids: '#a3e635',
  ioRead: '#22d3ee',
  ioWrite: '#f472b6',
  /** the list's sparklines: memory sky blue, CPU violet, told apart side by side */
  sparkMemory: '#38bdf8',
  sparkCpu: '#a78bfa',

  // ---- cgroup events
  eventOomKill: '#ef4444',
  eventOom: '#f87171',
  eventMemoryMax: '#fb923c',
  eventLimitChanged: '#facc15',
  eventThrottling: '#f97316',
  eventForkRefused: '#e879f9',
  eventStart: '#4ade80',
  eventExit: '#94a3b8',

  // ---- layers (what a change in the upper dir is)
  layerMerged: '#38bdf8',
  layerUpper: '#f97316',
  layerImage: '#64748b',
  layerVolume: '#a78bfa',
  changeAdded: '#22c55e',
  changeCopyUp: '#f97316',
  changeModified: '#eab308',
  changeDeleted: '#ef4444',
  changeOpaque: '#a855f7',

  // ---- mounts (the mount view's propagation and marks)
  mountShared: '#fbbf24',
  mountSlave: '#60a5fa',
  mountPrivate: '#94a3b8',
  mountMasked: '#f87171',
  /** a masked mount's box */
  mountMaskedFill: '#2a0f14',
  mountReadOnly: '#c4b5fd',
  mountBind: '#34d399',
  mountOverlay: '#fdba74',

  // ---- the creation timeline: who made the step, and a step's detail text (was slate-500,
  // 3.97:1 on the page; this reads at ≥ 4.5:1 on every background the timeline sits on)
  timelineDetail: '#a3b1c4',
  byEngine: '#38bdf8',
  byMonitor: '#a78bfa',
  byChild: '#34d399',
} as const;

export type ColorToken = keyof typeof color;

/** One hue per namespace (by inode) or container: twelve, told apart on the dark canvas. */
export const NAMESPACE_PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#65a30d', '#c026d3', '#0d9488', '#ea580c', '#4f46e5'] as const;

/** The terminal's palette (xterm.js takes colours as strings, not CSS variables). */
export const terminalTheme = { background: color.canvas, foreground: color.text, cursor: color.accent, selectionBackground: color.selected };

/** The tokens app/globals.css defines as `--color-gb-<name>` for Tailwind (`text-gb-muted`, …). */
export const cssTokens: Record<string, string> = {
  page: color.page,
  canvas: color.canvas,
  text: color.text,
  muted: color.textMuted,
  faint: color.textFaint,
  selected: color.selected,
  focus: color.highlight,
};

/** WCAG 2 contrast ratio of two #rrggbb colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const luminance = (hex: string) => {
    const n = parseInt(hex.slice(1), 16);
    const [r, g, bl] = [n >> 16, (n >> 8) & 255, n & 255].map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
