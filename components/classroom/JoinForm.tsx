'use client';
// The join page's form: the class code (six letters, read aloud or prefilled from the link) and a
// display name → POST /api/join → the learner's token goes where the dashboard keeps its token
// (localStorage), and the dashboard opens. A browser that already holds a token (the teacher's,
// or another learner session) is told so, and asked before it is replaced.
import { useEffect, useState } from 'react';
import { TOKEN_KEY, token as storedToken } from '../lib/client';
import { forgetWhoami, whoami, type Whoami } from '../lib/classroom';

const input = 'w-full rounded-md border border-slate-700 bg-slate-950 px-3 py-2 text-slate-100 placeholder:text-slate-500 focus:border-sky-500 focus:outline-none';

/** What the server's refusal means for the person at the keyboard (its own line comes first). */
function hint(status: number): string {
  if (status === 404) return 'Check the code with your teacher: it is six letters and digits, and the class must still be open.';
  if (status === 409) return 'Ask your teacher for a seat (they can add seats or free one).';
  if (status === 400) return 'A display name is 1 to 40 characters: letters, digits, spaces.';
  if (status === 429) return 'Too many wrong codes were tried: wait a minute.';
  return '';
}

export function JoinForm({ initialCode = '' }: { initialCode?: string }) {
  const [code, setCode] = useState(initialCode.toUpperCase());
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; hint: string } | null>(null);
  /** a session this browser already has: undefined while asking */
  const [existing, setExisting] = useState<Whoami | 'stale' | null | undefined>(undefined);
  const [replace, setReplace] = useState(false);

  useEffect(() => {
    if (!storedToken()) return setExisting(null);
    // a token that no longer works (revoked, class over) is nothing to keep
    whoami().then(
      (w) => setExisting(w ?? 'stale'),
      () => setExisting('stale'),
    );
  }, []);

  const mustConfirm = existing !== null && existing !== undefined && existing !== 'stale';
  const submit = async (ev: React.FormEvent) => {
    ev.preventDefault();
    if (mustConfirm && !replace) return;
    setBusy(true);
    setError(null);
    try {
      const res = await fetch('/api/join', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: code.trim(), name: name.trim() }), credentials: 'same-origin', cache: 'no-store' });
      const body = (await res.json().catch(() => ({}))) as { token?: string; error?: string };
      if (!res.ok || !body.token) {
        setError({ text: body.error ?? `HTTP ${res.status}`, hint: hint(res.status) });
        return;
      }
      localStorage.setItem(TOKEN_KEY, body.token);
      forgetWhoami();
      // a fresh page: every socket connects again with the new token
      window.location.assign('/');
    } catch (e) {
      setError({ text: (e as Error).message, hint: '' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="mx-auto mt-10 max-w-md space-y-5 rounded-xl border border-slate-800 bg-slate-900/50 p-6" data-testid="join-form">
      <div>
        <h1 className="text-2xl font-semibold text-slate-100">Join a class</h1>
        <p className="mt-1 text-sm text-slate-400">Your teacher gives you a six-letter code or a link. You get a sandbox of your own: real containers nobody else can reach.</p>
      </div>
      <label className="block">
        <span className="mb-1 block text-sm text-slate-300">Class code</span>
        <input
          className={`${input} text-center font-mono text-3xl tracking-[0.4em] uppercase`}
          value={code}
          onChange={(e) => setCode(e.target.value.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 6))}
          placeholder="ABC234"
          autoComplete="off"
          spellCheck={false}
          inputMode="text"
          required
          minLength={6}
          maxLength={6}
          aria-describedby="join-code-help"
          data-testid="join-code"
        />
        <span id="join-code-help" className="mt-1 block text-xs text-slate-400">
          No 0/O or 1/I/L: the code never mixes them up.
        </span>
      </label>
      <label className="block">
        <span className="mb-1 block text-sm text-slate-300">Your name (the teacher sees it)</span>
        <input className={input} value={name} onChange={(e) => setName(e.target.value)} maxLength={40} required autoComplete="nickname" autoFocus={!!initialCode} data-testid="join-name" />
      </label>

      {mustConfirm && (
        <div className="rounded-md border border-amber-600 bg-amber-950/40 p-3 text-sm text-amber-100" data-testid="join-existing">
          <p>
            This browser already has a Glassbox session:{' '}
            <b>{existing.role === 'teacher' ? "the teacher's (this server's token)" : `${existing.learner.displayName} in ${existing.class.name}`}</b>. Joining replaces it in this browser
            {existing.role === 'teacher' ? ': you would need the server’s link again to come back as the teacher.' : '.'}
          </p>
          <label className="mt-2 flex items-center gap-2">
            <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} className="h-4 w-4 accent-amber-500" data-testid="join-replace" />
            Replace it and join
          </label>
        </div>
      )}

      {error && (
        <div className="rounded-md border border-rose-600 bg-rose-950/50 p-3 text-sm text-rose-100" role="alert" data-testid="join-error">
          <p className="font-semibold">{error.text}</p>
          {error.hint && <p className="mt-1 text-rose-200">{error.hint}</p>}
        </div>
      )}

      <button type="submit" disabled={busy || code.length !== 6 || !name.trim() || existing === undefined || (mustConfirm && !replace)} className="w-full rounded-md bg-sky-500 px-5 py-2.5 text-lg font-semibold text-slate-950 hover:bg-sky-400 disabled:opacity-50" data-testid="join-submit">
        {busy ? 'Joining…' : 'Join'}
      </button>
    </form>
  );
}
