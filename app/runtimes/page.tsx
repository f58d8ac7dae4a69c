'use client';
// "One image, several runtimes": pick an image and a command, tick 2–5 runtimes, run. The engine
// runs the same container under each, one at a time, and measures it; the columns show each
// runtime's figures and what its processes see, and under them the seed's two tables get the
// figures beside their claims. Past comparisons stay (their containers do not) and can be reopened.
import { useEffect, useMemo, useState } from 'react';
import type { RuntimeAvailability, RuntimeComparison } from '@/server/engine/compare/types';
import { RuntimeColumns } from '@/components/RuntimeColumns';
import { RuntimeTables } from '@/components/RuntimeTables';
import { api } from '@/components/lib/client';
import { splitArgv } from '@/components/lib/argv';

interface Listing {
  runtimes: RuntimeAvailability[];
  comparisons: { id: string; created: string; image: string; cmd: string[]; rounds: number; runtimes: string[] }[];
}

const MIN = 2;
const MAX = 5;

export default function RuntimesPage() {
  const [listing, setListing] = useState<Listing | null>(null);
  const [images, setImages] = useState<string[]>([]);
  const [memTotal, setMemTotal] = useState<number | null>(null);
  const [image, setImage] = useState('');
  const [command, setCommand] = useState('uname -r');
  const [ticked, setTicked] = useState<string[]>([]);
  const [rounds, setRounds] = useState(1);
  const [running, setRunning] = useState<number | null>(null);
  const [now, setNow] = useState(0);
  const [result, setResult] = useState<RuntimeComparison | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<Listing>('/api/runtimes/compare')
      .then((l) => {
        setListing(l);
        // tick the available ones (up to five) until the learner chooses
        setTicked((t) => (t.length ? t : l.runtimes.filter((r) => r.available).slice(0, MAX).map((r) => r.name)));
        if (l.comparisons[0]) void api<RuntimeComparison>(`/api/runtimes/compare/${l.comparisons[0].id}`).then(setResult, () => {});
      })
      .catch((e) => setError((e as Error).message));
    api<{ repoTags: string[]; id: string }[]>('/api/images')
      .then((list) => {
        const refs = list.flatMap((i) => (i.repoTags.length ? i.repoTags : [i.id.slice(7, 19)]));
        setImages(refs);
        setImage((cur) => cur || refs.find((r) => r.startsWith('base')) || refs[0] || '');
      })
      .catch(() => {});
    api<{ memTotal: number }>('/api/info').then((i) => setMemTotal(i.memTotal), () => {});
  }, []);

  useEffect(() => {
    if (running === null) return;
    const t = setInterval(() => setNow(performance.now()), 250);
    return () => clearInterval(t);
  }, [running]);

  const argv = useMemo(() => {
    try {
      return { argv: splitArgv(command), error: null };
    } catch (e) {
      return { argv: [], error: (e as Error).message };
    }
  }, [command]);

  const toggle = (name: string) => setTicked((t) => (t.includes(name) ? t.filter((x) => x !== name) : [...t, name]));
  const canRun = running === null && !!image && argv.argv.length > 0 && ticked.length >= MIN && ticked.length <= MAX;

  const run = async () => {
    setError(null);
    setRunning(performance.now());
    setNow(performance.now());
    try {
      const c = await api<RuntimeComparison>('/api/runtimes/compare', { body: { image, cmd: argv.argv, runtimes: ticked, rounds } });
      setResult(c);
      setListing((l) => (l ? { ...l, comparisons: [{ id: c.id, created: c.created, image: c.image, cmd: c.cmd, rounds: c.rounds, runtimes: c.results.map((r) => r.runtime) }, ...l.comparisons] } : l));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setRunning(null);
    }
  };

  const open = (id: string) =>
    api<RuntimeComparison>(`/api/runtimes/compare/${id}`).then(setResult, (e) => setError((e as Error).message));

  return (
    <div className="space-y-5" data-testid="runtimes-page">
      <div className="flex flex-wrap items-baseline gap-4">
        <h1 className="text-2xl font-semibold">One image, several runtimes</h1>
        <p className="text-sm text-slate-300">
          The same container under each runtime, one after the other, measured by the engine: how long until the command runs, what the runtime itself costs in memory, and what the process sees of its kernel.
        </p>
      </div>

      <form
        className="space-y-3 rounded-xl border border-slate-800 bg-slate-900/50 p-4"
        onSubmit={(e) => {
          e.preventDefault();
          if (canRun) void run();
        }}
      >
        <div className="flex flex-wrap items-end gap-4">
          <label className="flex flex-col gap-1 text-sm">
            <span className="text-slate-300">image</span>
            <select data-testid="rt-image" value={image} onChange={(e) => setImage(e.target.value)} className="rounded border border-slate-600 bg-slate-900 px-2 py-1 text-slate-100">
              {images.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <label className="flex min-w-[20rem] flex-1 flex-col gap-1 text-sm">
            <span className="text-slate-300">command (run as it is: no shell is added)</span>
            <input data-testid="rt-command" value={command} onChange={(e) => setCommand(e.target.value)} spellCheck={false} className="rounded border border-slate-600 bg-slate-900 px-2 py-1 font-mono text-slate-100" />
          </label>
          <label className="flex flex-col gap-1 text-sm">
            <span className="text-slate-300">rounds</span>
            <select data-testid="rt-rounds" value={rounds} onChange={(e) => setRounds(Number(e.target.value))} className="rounded border border-slate-600 bg-slate-900 px-2 py-1 text-slate-100">
              {[1, 2, 3, 4, 5].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" data-testid="rt-run" disabled={!canRun} className="rounded-md bg-sky-600 px-4 py-1.5 font-semibold text-white hover:bg-sky-500 disabled:cursor-not-allowed disabled:bg-slate-700 disabled:text-slate-400">
            {running !== null ? `running… ${((now - running) / 1000).toFixed(1)} s` : 'Run'}
          </button>
        </div>
        {argv.error ? <p className="text-sm text-rose-300">command: {argv.error}</p> : null}
        <fieldset>
          <legend className="mb-1 text-sm text-slate-300">
            runtimes: tick {MIN} to {MAX} <span className="text-slate-400">({ticked.length} ticked)</span>
          </legend>
          <div className="flex flex-wrap gap-2">
            {(listing?.runtimes ?? []).map((r) => (
              <label key={r.name} data-testid={`rt-pick-${r.name}`} title={r.error ?? r.description} className={`flex max-w-md cursor-pointer items-start gap-2 rounded-lg border px-3 py-2 text-sm ${ticked.includes(r.name) ? 'border-sky-500 bg-sky-950/50' : 'border-slate-700'}`}>
                <input type="checkbox" checked={ticked.includes(r.name)} onChange={() => toggle(r.name)} className="mt-1" />
                <span>
                  <span className="font-mono font-semibold text-slate-100">{r.name}</span>{' '}
                  {r.available ? <span className="rounded bg-emerald-900 px-1.5 text-xs text-emerald-100">available</span> : <span className="rounded bg-rose-900 px-1.5 text-xs text-rose-100">unavailable</span>}
                  <span className="block text-xs text-slate-400">{r.available ? r.description : r.error}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        {listing && listing.comparisons.length > 0 ? (
          <label className="flex items-center gap-2 text-sm">
            <span className="text-slate-300">earlier comparisons</span>
            <select data-testid="rt-history" value={result?.id ?? ''} onChange={(e) => e.target.value && void open(e.target.value)} className="rounded border border-slate-600 bg-slate-900 px-2 py-1 text-slate-100">
              {listing.comparisons.map((c) => (
                <option key={c.id} value={c.id}>
                  {new Date(c.created).toLocaleTimeString()} · {c.image} · {c.cmd.join(' ').slice(0, 40)} · {c.runtimes.join(', ')}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </form>

      {error ? (
        <p role="alert" data-testid="rt-error" className="text-rose-300">
          {error}
        </p>
      ) : null}

      {result ? (
        <section className="space-y-2" data-testid="rt-result">
          <h2 className="text-xl font-semibold">
            <span className="font-mono">{result.cmd.join(' ')}</span> in {result.image}
            <span className="ml-2 text-sm font-normal text-slate-400">
              {result.rounds} round{result.rounds === 1 ? '' : 's'} · {(result.totalMs / 1000).toFixed(1)} s in all · host kernel {result.hostKernel}
            </span>
          </h2>
          <RuntimeColumns c={result} />
        </section>
      ) : null}

      <RuntimeTables c={result} listed={listing?.runtimes ?? []} memTotal={memTotal} />
    </div>
  );
}
