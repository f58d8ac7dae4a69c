// Shown while a page's code loads (a first visit to a container page): the frame of the page with
// a quiet placeholder, so the layout does not jump when it arrives.
export default function Loading() {
  return (
    <div role="status" aria-live="polite" className="mt-6 space-y-4">
      <div className="h-8 w-64 rounded-md bg-slate-800/70 motion-safe:animate-pulse" />
      <div className="h-64 rounded-xl border border-slate-800 bg-slate-900/50 motion-safe:animate-pulse" />
      <span className="sr-only">Loading…</span>
    </div>
  );
}
