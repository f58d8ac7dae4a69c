'use client';
// Several terminals per container, as tabs. The session ids live in sessionStorage, so a reload
// re-attaches the same shells (the server keeps them for a minute and replays their output).
import { useCallback, useEffect, useState } from 'react';
import { channel } from './lib/client';
import { loadTabs, newSessionId as newId, saveTabs, type TerminalTab as Tab } from './lib/terminal-sessions';
import { LocalEchoToggle } from './LocalEchoToggle';
import { useLocalEcho } from './lib/use-local-echo';
import { Terminal } from './Terminal';

/** onActive: the session shown (the classroom's broadcast sends its output) */
export function TerminalTabs({ containerId, running, large, onActive }: { containerId: string; running: boolean; large: boolean; onActive?: (sessionId: string | null) => void }) {
  const [tabs, setTabs] = useState<Tab[] | null>(null);
  const [active, setActive] = useState<string | null>(null);
  useEffect(() => onActive?.(active), [active, onActive]);
  const [localEcho, setLocalEcho] = useLocalEcho();

  // restore (or start) the terminals of this container once it runs
  useEffect(() => {
    if (!running) return;
    let stored = loadTabs(containerId);
    if (!stored.length) stored = [{ id: newId(), n: 1 }];
    setTabs(stored);
    // after Stop then Start the tabs shown were the ended shells: the new one is the one to look at
    setActive((a) => (a && stored.some((t) => t.id === a) ? a : stored[0].id));
  }, [containerId, running]);

  useEffect(() => {
    if (!tabs) return;
    saveTabs(containerId, tabs);
  }, [tabs, containerId]);

  const add = useCallback(() => {
    const id = newId();
    setTabs((t) => [...(t ?? []), { id, n: Math.max(0, ...(t ?? []).map((x) => x.n)) + 1 }]);
    setActive(id);
  }, []);

  const close = useCallback(
    (id: string) => {
      channel('terminal').emit('close', { sessionId: id });
      setTabs((t) => {
        const rest = (t ?? []).filter((x) => x.id !== id);
        setActive((a) => (a === id ? (rest[rest.length - 1]?.id ?? null) : a));
        return rest;
      });
    },
    [],
  );

  const ended = useCallback((id: string, reason: string) => setTabs((t) => (t ?? []).map((x) => (x.id === id ? { ...x, ended: reason } : x))), []);
  const activeTab = tabs?.find((t) => t.id === active);

  if (!running && !tabs?.length) {
    return <div className="grid h-full place-items-center rounded-lg border border-slate-800 bg-slate-950 text-slate-400">The container is not running: no terminal.</div>;
  }

  return (
    <div className="flex h-full flex-col overflow-hidden rounded-lg border border-slate-800 bg-slate-950">
      <div className="flex items-center gap-1 border-b border-slate-800 bg-slate-900 px-2 pt-2" role="tablist">
        {(tabs ?? []).map((t) => (
          <div
            key={t.id}
            role="tab"
            aria-selected={active === t.id}
            data-testid="terminal-tab"
            className={`group flex items-center gap-2 rounded-t-md px-3 py-1.5 text-sm ${active === t.id ? 'bg-slate-950 text-sky-200' : 'text-slate-400 hover:bg-slate-800'}`}
          >
            <button type="button" onClick={() => setActive(t.id)} className={t.ended ? 'line-through opacity-60' : ''}>
              sh #{t.n}
            </button>
            <button type="button" onClick={() => close(t.id)} aria-label={`close terminal ${t.n}`} className="rounded px-1 text-slate-500 hover:bg-slate-700 hover:text-slate-100">
              ×
            </button>
          </div>
        ))}
        {running && (
          <button type="button" onClick={add} className="ml-1 rounded-md px-2 py-1 text-sm text-slate-300 hover:bg-slate-800" data-testid="new-terminal">
            + terminal
          </button>
        )}
        <span className="ml-auto pb-1 text-xs text-slate-500">
          Copy: select, then Ctrl+Shift+C · Paste: Ctrl+Shift+V · Ctrl+C interrupts
        </span>
        <span className="pb-1 pl-3">
          <LocalEchoToggle on={localEcho} onChange={setLocalEcho} />
        </span>
      </div>
      <div className="relative min-h-0 flex-1 p-2" data-testid="terminals">
        {(tabs ?? []).map((t) => (
          <Terminal key={t.id} containerId={containerId} sessionId={t.id} active={active === t.id} fontSize={large ? 20 : 15} localEcho={localEcho} onEnded={(r) => ended(t.id, r)} />
        ))}
        {activeTab?.ended ? (
          // an ended shell says so, and what to do next, instead of leaving a silent tab
          <div className="absolute inset-x-4 bottom-4 z-20 flex flex-wrap items-center gap-3 rounded-md border border-slate-600 bg-slate-900/95 px-4 py-3 text-sm text-slate-200 shadow-lg" role="status" data-testid="terminal-ended">
            <span>
              This shell ended ({activeTab.ended}).{running ? '' : ' The container is not running: start it to open a new shell.'}
            </span>
            {running ? (
              <button type="button" onClick={add} className="rounded-md border border-sky-500 px-3 py-1 font-medium text-sky-200 hover:bg-sky-950" data-testid="terminal-reopen">
                Open a new terminal
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
    </div>
  );
}
