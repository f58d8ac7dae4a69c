'use client';
// The teacher's classroom: make a class, read its code out, watch its roster (follow, reset,
// revoke). Learners never see this page's data: every call here is teacher-only on the server.
import { useCallback, useEffect, useState } from 'react';
import { ClassCard } from '@/components/classroom/ClassCard';
import { CreateClassForm } from '@/components/classroom/CreateClassForm';
import { Roster } from '@/components/classroom/Roster';
import { api } from '@/components/lib/client';
import { useWhoami, type ClassView } from '@/components/lib/classroom';

export default function ClassroomPage() {
  const me = useWhoami();
  const [classes, setClasses] = useState<ClassView[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api<ClassView[]>('/api/classes').then(
      (l) => {
        setClasses(l);
        setError(null);
      },
      (e) => setError((e as Error).message),
    );
  }, []);
  useEffect(() => {
    if (me?.role === 'teacher') load();
  }, [me, load]);
  // the seat counts follow the roster
  useEffect(() => {
    if (me?.role !== 'teacher') return;
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [me, load]);

  if (me === undefined) return <p className="text-slate-400">Loading…</p>;
  if (me?.role !== 'teacher') return <p className="text-slate-300">The classroom is the teacher&apos;s page.</p>;
  const list = [...(classes ?? [])].sort((a, b) => Number(!!a.endedAt) - Number(!!b.endedAt) || b.createdAt.localeCompare(a.createdAt));
  const current = list.find((c) => c.id === open);
  return (
    <div className="space-y-6">
      <section className="space-y-3">
        <h1 className="text-lg font-semibold">Classes</h1>
        {error && (
          <p className="text-sm text-rose-300" role="alert">
            {error}
          </p>
        )}
        {classes && !list.length && <p className="text-sm text-slate-400">No class yet: make one below.</p>}
        {list.map((c) => (
          <ClassCard key={c.id} c={c} open={open === c.id} onOpen={() => setOpen(open === c.id ? null : c.id)} onChanged={load} />
        ))}
      </section>
      {current && (
        <section className="space-y-2">
          <h2 className="text-lg font-semibold">Roster: {current.name}</h2>
          <Roster c={current} />
        </section>
      )}
      {/* open while there is no class; afterwards one click away, below the roster */}
      <details className="rounded-xl border border-slate-800 bg-slate-900/50 p-4" open={!!classes && !list.length} data-testid="new-class">
        <summary className="cursor-pointer text-lg font-semibold">New class</summary>
        <div className="mt-3">
          <CreateClassForm
            onCreated={(c) => {
              setOpen(c.id);
              load();
            }}
          />
        </div>
      </details>
    </div>
  );
}
