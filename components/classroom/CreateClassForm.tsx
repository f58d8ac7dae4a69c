'use client';
// "New class": a name, seats, the labs it offers, each learner's quota (with its units) and when it
// ends → POST /api/classes. The server's schema (server/classroom/store.ts) is the judge; its
// message is shown as it comes.
import { useEffect, useState } from 'react';
import { api } from '../lib/client';
import type { ClassView } from '../lib/classroom';

const MiB = 1024 * 1024;
const input = 'w-full rounded-md border border-slate-700 bg-slate-950 px-3 py-2 text-sm text-slate-100 focus:border-sky-500 focus:outline-none';

interface LabSummary {
  id: string;
  title: string;
}

/** a datetime-local value (the browser's time zone) this many minutes from now */
function localIn(minutes: number): string {
  const d = new Date(Date.now() + minutes * 60_000);
  d.setSeconds(0, 0);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function NumberField({ label, unit, value, onChange, min, step = 1, testId }: { label: string; unit: string; value: number; onChange: (v: number) => void; min: number; step?: number; testId: string }) {
  return (
    <label className="block">
      <span className="mb-1 block text-sm text-slate-300">{label}</span>
      <span className="flex items-center gap-2">
        <input type="number" className={input} value={Number.isFinite(value) ? value : ''} min={min} step={step} onChange={(e) => onChange(Number(e.target.value))} required data-testid={testId} />
        <span className="shrink-0 text-sm text-slate-400">{unit}</span>
      </span>
    </label>
  );
}

export function CreateClassForm({ onCreated }: { onCreated: (c: ClassView) => void }) {
  const [labs, setLabs] = useState<LabSummary[]>([]);
  const [f, setF] = useState({ name: '', seats: 30, labs: [] as string[], memoryMiB: 512, cpus: 1, pids: 256, containers: 3, diskMiB: 1024, idleMinutes: 30, endsAt: localIn(120) });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<LabSummary[]>('/api/labs').then(setLabs, () => setLabs([]));
  }, []);
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => setF((x) => ({ ...x, [k]: v }));

  const submit = async (ev: React.FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const endsAt = new Date(f.endsAt);
      if (Number.isNaN(endsAt.getTime())) throw new Error('end time: pick a date and a time');
      const c = await api<ClassView>('/api/classes', {
        body: {
          name: f.name,
          seats: f.seats,
          labs: f.labs,
          quota: { memory: Math.round(f.memoryMiB * MiB), cpus: f.cpus, pids: f.pids, containers: f.containers, disk: Math.round(f.diskMiB * MiB), idleMinutes: f.idleMinutes },
          endsAt: endsAt.toISOString(),
        },
      });
      onCreated(c);
      set('name', '');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="space-y-4" data-testid="create-class-form">
      <div className="grid grid-cols-1 gap-3 md:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_minmax(0,1.5fr)]">
        <label className="block">
          <span className="mb-1 block text-sm text-slate-300">Class name</span>
          <input className={input} value={f.name} onChange={(e) => set('name', e.target.value)} maxLength={80} required placeholder="Containers 101, Tuesday" data-testid="class-name" />
        </label>
        <NumberField label="Seats" unit="learners" value={f.seats} min={1} onChange={(v) => set('seats', v)} testId="class-seats" />
        <label className="block">
          <span className="mb-1 block text-sm text-slate-300">Ends at (your time)</span>
          <input type="datetime-local" className={input} value={f.endsAt} onChange={(e) => set('endsAt', e.target.value)} required data-testid="class-ends" />
        </label>
      </div>
      <fieldset className="rounded-lg border border-slate-800 p-3">
        <legend className="px-1 text-sm font-semibold text-slate-200">Each learner&apos;s quota (all their containers together, held by their cgroup)</legend>
        <div className="grid grid-cols-2 gap-3 md:grid-cols-6">
          <NumberField label="Memory" unit="MiB" value={f.memoryMiB} min={32} onChange={(v) => set('memoryMiB', v)} testId="quota-memory" />
          <NumberField label="CPU" unit="CPUs" value={f.cpus} min={0.05} step={0.05} onChange={(v) => set('cpus', v)} testId="quota-cpus" />
          <NumberField label="Processes" unit="pids" value={f.pids} min={16} onChange={(v) => set('pids', v)} testId="quota-pids" />
          <NumberField label="Containers" unit="at once" value={f.containers} min={1} onChange={(v) => set('containers', v)} testId="quota-containers" />
          <NumberField label="Disk" unit="MiB" value={f.diskMiB} min={16} onChange={(v) => set('diskMiB', v)} testId="quota-disk" />
          <NumberField label="Idle timeout" unit="min" value={f.idleMinutes} min={1} onChange={(v) => set('idleMinutes', v)} testId="quota-idle" />
        </div>
      </fieldset>
      {labs.length > 0 && (
        <fieldset className="rounded-lg border border-slate-800 p-3">
          <legend className="px-1 text-sm font-semibold text-slate-200">Labs the class offers</legend>
          <div className="flex flex-wrap gap-x-5 gap-y-1">
            {labs.map((l) => (
              <label key={l.id} className="flex items-center gap-2 text-sm text-slate-200">
                <input type="checkbox" className="h-4 w-4 accent-sky-500" checked={f.labs.includes(l.id)} onChange={(e) => set('labs', e.target.checked ? [...f.labs, l.id] : f.labs.filter((x) => x !== l.id))} data-testid={`class-lab-${l.id}`} />
                {l.title}
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {error && (
        <p className="rounded-md border border-rose-600 bg-rose-950/50 p-2 text-sm text-rose-200" role="alert" data-testid="create-class-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy || !f.name.trim()} className="rounded-md bg-sky-500 px-5 py-2 font-semibold text-slate-950 hover:bg-sky-400 disabled:opacity-50" data-testid="create-class">
        {busy ? 'Creating…' : 'Create the class'}
      </button>
    </form>
  );
}
