'use client';
// The home page's welcome for a browser that never opened a lab: where to begin.
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { anyLabStarted } from './progress';

const DISMISSED = 'glassbox.labs.welcomeDismissed';

export function FirstVisitCard() {
  const [show, setShow] = useState(false);
  useEffect(() => {
    let dismissed = false;
    try {
      dismissed = localStorage.getItem(DISMISSED) === '1';
    } catch {
      /* no storage: show it */
    }
    setShow(!dismissed && !anyLabStarted());
  }, []);
  if (!show) return null;
  const dismiss = () => {
    setShow(false);
    try {
      localStorage.setItem(DISMISSED, '1');
    } catch {
      /* no storage */
    }
  };
  return (
    <section className="flex flex-wrap items-center gap-4 rounded-xl border border-sky-700 bg-sky-950/40 px-4 py-3" data-testid="first-visit">
      <div>
        <div className="text-lg font-semibold text-sky-100">New here? Start with lab 1</div>
        <div className="text-sm text-slate-300">&ldquo;It&apos;s just a process&rdquo;: a container, a terminal into it, and the host&apos;s view of the same process — each step checked against the kernel.</div>
      </div>
      <div className="ml-auto flex gap-2">
        <Link href="/labs/01-just-a-process" className="rounded-md bg-sky-600 px-4 py-2 font-semibold text-white hover:bg-sky-500">
          Start lab 1
        </Link>
        <Link href="/labs" className="rounded-md border border-slate-600 px-4 py-2 text-slate-200 hover:bg-slate-800">
          All labs
        </Link>
        <button type="button" onClick={dismiss} className="rounded-md px-2 text-slate-400 hover:text-slate-100" aria-label="dismiss">
          ×
        </button>
      </div>
    </section>
  );
}
