const COLORS: Record<string, string> = {
  running: 'bg-emerald-500/15 text-emerald-300 border-emerald-500/40',
  paused: 'bg-amber-500/15 text-amber-300 border-amber-500/40',
  created: 'bg-sky-500/15 text-sky-300 border-sky-500/40',
  restarting: 'bg-violet-500/15 text-violet-300 border-violet-500/40',
  exited: 'bg-slate-500/15 text-slate-300 border-slate-500/40',
  removing: 'bg-rose-500/15 text-rose-300 border-rose-500/40',
  dead: 'bg-rose-500/15 text-rose-300 border-rose-500/40',
};

export function StatusBadge({ status, exitCode }: { status: string; exitCode?: number }) {
  return (
    <span className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium ${COLORS[status] ?? COLORS.exited}`} data-status={status}>
      <span className={`h-1.5 w-1.5 rounded-full ${status === 'running' ? 'motion-safe:animate-pulse bg-emerald-400' : 'bg-current'}`} />
      {status}
      {status === 'exited' && exitCode !== undefined ? ` (${exitCode})` : ''}
    </span>
  );
}
