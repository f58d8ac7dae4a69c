'use client';
// The shell of the container just made from the form, in the form's place. Its xterm is ready
// while the engine is still making the container, and the server starts the shell itself the
// moment the container runs (the create request names the session), so the page's open attaches
// to a shell that has its prompt out already, without a page change. The session is saved as the
// container's first terminal: its page ("Open its page") re-attaches the same shell and replays it.
import Link from 'next/link';
import { useEffect, useRef } from 'react';
import { LocalEchoToggle } from './LocalEchoToggle';
import { saveTabs } from './lib/terminal-sessions';
import { useLocalEcho } from './lib/use-local-echo';
import { Terminal } from './Terminal';

/** The quick terminal's size as last fitted, per type size: the next container's shell starts at it. */
const sizeKey = (large: boolean) => `glassbox.quick-terminal-size.${large ? 'large' : 'normal'}`;

export function quickTerminalSize(large: boolean): { cols: number; rows: number } {
  try {
    const v = JSON.parse(localStorage.getItem(sizeKey(large)) ?? 'null') as { cols?: unknown; rows?: unknown } | null;
    const ok = (n: unknown, max: number): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= max;
    if (v && ok(v.cols, 1000) && ok(v.rows, 500)) return { cols: v.cols, rows: v.rows };
  } catch {
    /* storage disabled */
  }
  // xterm's own default: the page's open() resizes it once xterm has measured its box
  return { cols: 80, rows: 24 };
}

function saveSize(large: boolean, cols: number, rows: number): void {
  try {
    localStorage.setItem(sizeKey(large), JSON.stringify({ cols, rows }));
  } catch {
    /* storage full or disabled */
  }
}

export interface FreshContainer {
  sessionId: string;
  /** null until the engine has answered */
  id: string | null;
  name: string | null;
}

export function QuickTerminal({ fresh, large, onDone }: { fresh: FreshContainer; large: boolean; onDone: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const [localEcho, setLocalEcho] = useLocalEcho();
  // "Create" sits at the bottom of a long form: bring the shell that replaces the form into view
  // (xterm does not draw while it is off screen)
  useEffect(() => {
    const r = box.current?.getBoundingClientRect();
    // (the page header is sticky: scroll-margin keeps it and the section title clear)
    if (r && (r.top < 120 || r.bottom > window.innerHeight)) box.current?.scrollIntoView({ block: 'start' });
  }, []);
  useEffect(() => {
    if (fresh.id) saveTabs(fresh.id, [{ id: fresh.sessionId, n: 1 }]);
  }, [fresh.id, fresh.sessionId]);

  return (
    <div ref={box} className="flex scroll-mt-32 flex-col gap-3" data-testid="quick-terminal">
      <div className="flex flex-wrap items-center gap-3">
        <span className="text-sm text-slate-300">
          {fresh.id ? (
            <>
              Shell in <span className="font-semibold text-slate-100" data-testid="quick-terminal-name">{fresh.name}</span>
            </>
          ) : (
            'Creating the container…'
          )}
        </span>
        <div className="ml-auto flex items-center gap-2">
          <LocalEchoToggle on={localEcho} onChange={setLocalEcho} />
          {fresh.id && (
            <Link href={`/containers/${fresh.id}`} className="rounded-md border border-sky-700 px-3 py-1.5 text-sm text-sky-200 hover:bg-sky-950" data-testid="open-container-page">
              Open its page →
            </Link>
          )}
          <button type="button" onClick={onDone} className="rounded-md border border-slate-600 px-3 py-1.5 text-sm hover:bg-slate-800" data-testid="new-container-again">
            New container
          </button>
        </div>
      </div>
      <div className={`relative overflow-hidden rounded-lg border border-slate-800 bg-slate-950 ${large ? 'h-[36rem]' : 'h-[28rem]'}`}>
        <Terminal containerId={fresh.id} sessionId={fresh.sessionId} active fontSize={large ? 20 : 15} localEcho={localEcho} onSize={(c, r) => saveSize(large, c, r)} />
      </div>
      <p className="text-xs text-slate-500">Its page shows this same shell (kept for a minute after you leave it) with the diagrams, the live limits and the creation timeline.</p>
    </div>
  );
}
