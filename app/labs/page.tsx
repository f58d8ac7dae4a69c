'use client';
// The labs, in the seed's order, with this browser's progress on each.
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { api } from '@/components/lib/client';
import { loadProgress, type LabProgress, type LabSummary } from './progress';

export default function LabsPage() {
  const [labs, setLabs] = useState<LabSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<Record<string, LabProgress>>({});
  useEffect(() => {
    api<LabSummary[]>('/api/labs')
      .then((l) => {
        setLabs(l);
        setProgress(Object.fromEntries(l.map((x) => [x.id, loadProgress(x.id)])));
      })
      .catch((e: Error) => setError(e.message));
  }, []);

  return (
    <div className="mx-auto max-w-4xl space-y-4">
      <h1 className="text-2xl font-semibold">Labs</h1>
      <p className="text-gb-muted">
        Each lab makes the containers it needs, gives you a terminal into them and checks every step against the kernel itself — the namespaces, the pid
        tree, cgroups, mounts — never against what the terminal printed. Do a step from the terminal, the form or the docker CLI: the check turns green all the same.
      </p>
      {error && <p className="text-rose-300">Could not load the labs: {error}</p>}
      {!labs && !error && <p className="text-gb-muted">loading…</p>}
      <ol className="space-y-3" data-testid="lab-list">
        {(labs ?? []).map((l) => {
          const p = progress[l.id];
          const done = p ? p.green.length : 0;
          return (
            <li key={l.id}>
              <Link href={`/labs/${l.id}`} data-testid={`lab-${l.id}`} className="block rounded-xl border border-slate-800 bg-slate-900/50 p-4 hover:border-sky-600">
                <div className="flex flex-wrap items-baseline gap-3">
                  <span className="text-sm font-semibold text-gb-muted">Lab {l.order}</span>
                  <span className="text-lg font-semibold text-slate-100">{l.title}</span>
                  <span className="ml-auto text-sm text-gb-muted" data-testid="lab-progress">
                    {p?.finished ? <span className="text-emerald-300">✓ done</span> : done ? `${done} of ${l.steps} steps` : `${l.steps} steps`}
                    {p?.sessionId ? <span className="ml-2 text-sky-300">· in progress</span> : null}
                  </span>
                </div>
                <p className="mt-1 text-slate-300">{l.summary}</p>
              </Link>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
