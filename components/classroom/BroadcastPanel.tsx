'use client';
// The teacher's broadcast on a learner's screen: which container, which diagram tab and what is
// picked in it, and the teacher's terminal, live. The learner can dismiss it (and reopen it from
// their strip); it does not take the keyboard.
import type { BroadcastState } from '../lib/classroom';
import type { TextFeed } from '../lib/text-feed';
import { WatchTerminal } from './WatchTerminal';

const TAB_NAMES: Record<string, string> = { namespaces: 'Namespaces', layers: 'Layers', network: 'Network', cgroups: 'Cgroups', mounts: 'Mounts', image: 'Image' };

export function BroadcastPanel({ state, feed, onDismiss }: { state: BroadcastState; feed: TextFeed; onDismiss: () => void }) {
  return (
    <aside className="fixed right-4 bottom-4 z-30 flex h-[26rem] w-[min(46rem,calc(100vw-2rem))] flex-col overflow-hidden rounded-xl border-2 border-violet-500 bg-slate-950 shadow-2xl" aria-label="the teacher's broadcast" data-testid="broadcast-panel">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-violet-800 bg-violet-950/70 px-3 py-2 text-sm">
        <span className="font-semibold text-violet-100">The teacher is showing {state.containerName}</span>
        <span className="text-violet-200" data-testid="broadcast-tab">
          diagram: <b>{TAB_NAMES[state.tab] ?? state.tab}</b>
          {state.selection ? (
            <>
              {' '}
              · picked: <b data-testid="broadcast-selection">{state.selection}</b>
            </>
          ) : null}
        </span>
        <button type="button" onClick={onDismiss} className="ml-auto rounded-md border border-violet-400 px-2 py-0.5 text-violet-100 hover:bg-violet-900" aria-label="hide the teacher's screen" data-testid="broadcast-dismiss">
          Hide ✕
        </button>
      </div>
      <div className="min-h-0 flex-1">
        <WatchTerminal feed={feed} label="the teacher's terminal (read only)" testId="broadcast-terminal" />
      </div>
    </aside>
  );
}
