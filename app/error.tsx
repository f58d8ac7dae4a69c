'use client';
// What a page shows when rendering it threw: the error's own message and a way to try again,
// instead of Next's blank default. The server's API errors already name the option or object.
import { useEffect } from 'react';

export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <section role="alert" className="mx-auto mt-12 max-w-2xl rounded-xl border border-red-900 bg-red-950/40 p-6">
      <h1 className="text-lg font-semibold text-red-200">This page could not be shown</h1>
      <p className="mt-2 break-words font-mono text-sm text-red-100">{error.message || 'an unexpected error'}</p>
      {error.digest && <p className="mt-1 text-xs text-slate-400">reference {error.digest} (in the server&apos;s log)</p>}
      <div className="mt-4 flex gap-3">
        <button type="button" onClick={reset} className="rounded-md bg-slate-200 px-3 py-1.5 text-sm font-medium text-slate-900 hover:bg-white">
          Try again
        </button>
        <a href="/" className="rounded-md border border-slate-600 px-3 py-1.5 text-sm text-slate-200 hover:border-slate-400">
          Back to the containers
        </a>
      </div>
    </section>
  );
}
