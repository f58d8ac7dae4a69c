'use client';
// "Your sandbox will be removed in … unless you do something": any request resets the idle clock,
// so "I'm here" asks who we are (GET /api/whoami).
import { useState } from 'react';
import { api } from '../lib/client';
import { useNow } from '../lib/classroom';

export function IdleBanner({ until, onBack }: { until: number; onBack: () => void }) {
  const now = useNow(1000);
  const [busy, setBusy] = useState(false);
  const left = Math.max(0, Math.ceil((until - now) / 1000));
  const back = async () => {
    setBusy(true);
    try {
      await api('/api/whoami');
      onBack();
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="border-b border-amber-600 bg-amber-950/70" role="alert" data-testid="idle-warning">
      <div className="mx-auto flex max-w-[1600px] flex-wrap items-center gap-4 px-4 py-2 text-amber-100">
        <span>
          You have been idle: your sandbox (all your containers) will be removed in <b className="tabular-nums">{left} s</b>.
        </span>
        <button type="button" onClick={back} disabled={busy} className="rounded-md bg-amber-400 px-4 py-1 font-semibold text-slate-950 hover:bg-amber-300 disabled:opacity-60" data-testid="idle-here">
          I&apos;m here
        </button>
      </div>
    </div>
  );
}
