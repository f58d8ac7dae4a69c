'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { useWhoami } from './lib/classroom';

export function Header() {
  const [large, setLarge] = useState(false);
  const me = useWhoami();
  useEffect(() => setLarge(document.documentElement.classList.contains('large-type')), []);
  const toggle = () => {
    const next = !large;
    setLarge(next);
    document.documentElement.classList.toggle('large-type', next);
    try {
      localStorage.setItem('glassbox.largeType', next ? '1' : '0');
    } catch {
      /* private mode */
    }
  };
  return (
    <header className="sticky top-0 z-20 border-b border-slate-800 bg-slate-950/90 backdrop-blur">
      <div className="mx-auto flex max-w-[1600px] items-center gap-4 px-4 py-3">
        <Link href="/" className="flex items-center gap-2 text-xl font-semibold tracking-tight text-sky-300">
          <span className="inline-block h-5 w-5 rounded border-2 border-sky-400 bg-sky-400/20" aria-hidden />
          Glassbox
        </Link>
        <span className="hidden text-sm text-slate-400 sm:inline">real Linux containers, seen from the inside</span>
        {/* a visitor without a credential (the join page) has nowhere else to go yet */}
        <nav aria-label="main" hidden={me === null}>
          <Link href="/labs" data-testid="nav-labs" className="rounded-md px-3 py-1 text-base font-semibold text-slate-200 hover:bg-slate-800">
            Labs
          </Link>
          {me?.role === 'teacher' && (
            <Link href="/classroom" data-testid="nav-classroom" className="rounded-md px-3 py-1 text-base font-semibold text-slate-200 hover:bg-slate-800">
              Classroom
            </Link>
          )}
        </nav>
        <div className="ml-auto flex items-center gap-2">
          <Link hidden={me?.role !== 'teacher'} href="/runtimes" data-testid="nav-runtimes" className="rounded-md border border-slate-700 px-3 py-1 text-sm text-slate-300 hover:bg-slate-800" title="one image under several runtimes, measured">
            Runtimes
          </Link>
          <Link hidden={me === null} href="/compare" data-testid="nav-compare" className="rounded-md border border-slate-700 px-3 py-1 text-sm text-slate-300 hover:bg-slate-800" title="two containers and the host, the same questions">
            Compare
          </Link>
          <button
            type="button"
            onClick={toggle}
            aria-pressed={large}
            className={`rounded-md border px-3 py-1 text-sm ${large ? 'border-sky-400 bg-sky-400/20 text-sky-200' : 'border-slate-700 text-slate-300 hover:bg-slate-800'}`}
            title="Larger type for a projector"
          >
            A<span className="text-lg">A</span> Large type
          </button>
        </div>
      </div>
    </header>
  );
}
