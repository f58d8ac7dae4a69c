'use client';
// One class in the teacher's list: its code big enough to read aloud, the join link with a copy
// button, seats taken, the end time; "End class" (asks first); opening its roster.
import { useState } from 'react';
import { api } from '../lib/client';
import { timeLeft, useNow, type ClassView } from '../lib/classroom';

export function ClassCard({ c, open, onOpen, onChanged }: { c: ClassView; open: boolean; onOpen: () => void; onChanged: () => void }) {
  const now = useNow(5000);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const link = typeof window === 'undefined' ? c.joinPath : `${window.location.origin}${c.joinPath}`;
  const ended = !!c.endedAt || Date.parse(c.endsAt) <= now;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setError('the browser did not allow copying: select the link and copy it');
    }
  };
  const end = async () => {
    if (!window.confirm(`End "${c.name}"? Every learner's session ends and everything they made is removed.`)) return;
    try {
      await api(`/api/classes/${c.id}/end`, { body: {} });
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div className={`rounded-xl border p-4 ${open ? 'border-sky-500 bg-sky-950/20' : 'border-slate-800 bg-slate-900/50'}`} data-testid="class-card" data-class={c.id}>
      <div className="flex flex-wrap items-start gap-4">
        <div className="min-w-0">
          <h3 className="text-lg font-semibold text-slate-100">{c.name}</h3>
          <p className="text-sm text-slate-400">
            {c.learners ?? 0} / {c.seats} seats · {ended ? <span className="text-rose-300">ended</span> : <>ends in {timeLeft(c.endsAt, now)}</>}
          </p>
        </div>
        <div className="text-center">
          <div className="text-xs uppercase tracking-wide text-slate-400">code</div>
          <div className="font-mono text-4xl font-bold tracking-[0.3em] text-sky-200" data-testid="class-code" aria-label={`join code ${c.code.split('').join(' ')}`}>
            {c.code}
          </div>
        </div>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          {!ended && (
            <>
              <code className="rounded bg-slate-950 px-2 py-1 text-sm text-slate-200" data-testid="class-link">
                {link}
              </code>
              <button type="button" onClick={copy} className="rounded-md border border-slate-600 px-3 py-1 text-sm hover:bg-slate-800" data-testid="class-copy">
                {copied ? 'Copied ✓' : 'Copy link'}
              </button>
            </>
          )}
          <button type="button" onClick={onOpen} aria-pressed={open} className="rounded-md border border-sky-600 px-3 py-1 text-sm text-sky-200 hover:bg-sky-950" data-testid="class-open">
            {open ? 'Roster ▾' : 'Roster ▸'}
          </button>
          {!c.endedAt && (
            <button type="button" onClick={end} className="rounded-md border border-rose-600 px-3 py-1 text-sm text-rose-300 hover:bg-rose-950" data-testid="class-end">
              End class
            </button>
          )}
        </div>
      </div>
      {error && (
        <p className="mt-2 text-sm text-rose-300" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
