'use client';
// The switch for local echo, with what it does in its tooltip.
export function LocalEchoToggle({ on, onChange }: { on: boolean; onChange: (on: boolean) => void }) {
  return (
    <label
      className="flex shrink-0 cursor-pointer items-center gap-1 text-xs text-slate-400"
      title="Local echo draws what you type at once, before the container's shell echoes it back (as mosh does), and takes it back if the echo differs. It waits until the shell has echoed a key since the last Enter, so nothing is drawn at a password prompt, and it stays off in full-screen programs (vi, top)."
    >
      <input type="checkbox" className="accent-sky-500" checked={on} onChange={(e) => onChange(e.target.checked)} data-testid="local-echo" />
      local echo
    </label>
  );
}
