'use client';
// The learner's header strip: their class, their name, the time left, their quota and use, their
// ports; whether the teacher is watching their terminal; a way back to a dismissed broadcast.
import { bytes } from '../lib/format';
import { timeLeft, useNow, type LearnerWhoami } from '../lib/classroom';

function Item({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <span className="flex items-baseline gap-1.5" data-testid={testId}>
      <span className="text-xs uppercase tracking-wide text-slate-400">{label}</span>
      <span className="tabular-nums text-slate-100">{children}</span>
    </span>
  );
}

export function LearnerStrip({ me, containers, followed, broadcastHidden, onShowBroadcast }: { me: LearnerWhoami; containers: number | null; followed: boolean; broadcastHidden: string | null; onShowBroadcast: () => void }) {
  const now = useNow(1000);
  const q = me.quota;
  const full = containers !== null && containers >= q.containers;
  return (
    <div className="border-b border-slate-800 bg-slate-900/80" data-testid="learner-strip">
      <div className="mx-auto flex max-w-[1600px] flex-wrap items-center gap-x-6 gap-y-1 px-4 py-2 text-sm">
        <span className="font-semibold text-sky-200" data-testid="learner-class">
          {me.class.name}
        </span>
        <Item label="you" testId="learner-name">
          {me.learner.displayName}
        </Item>
        <Item label="time left" testId="learner-time-left">
          {timeLeft(me.class.endsAt, now)}
        </Item>
        <Item label="containers" testId="learner-containers">
          <span className={full ? 'text-amber-300' : ''}>
            {containers ?? '…'} / {q.containers}
          </span>
        </Item>
        <Item label="memory">{bytes(q.memory)} for all</Item>
        <Item label="pids">{q.pids} for all</Item>
        <Item label="cpu">{q.cpus} CPU</Item>
        <Item label="ports" testId="learner-ports">
          {me.ports.from}–{me.ports.to} on 127.0.0.1
        </Item>
        <span className="ml-auto flex items-center gap-3">
          {broadcastHidden && (
            <button type="button" onClick={onShowBroadcast} className="rounded-md border border-violet-500 px-3 py-1 text-violet-200 hover:bg-violet-950" data-testid="broadcast-reopen">
              ▶ Teacher&apos;s screen: {broadcastHidden}
            </button>
          )}
          {followed && (
            <span className="flex items-center gap-2 rounded-md border border-amber-500 bg-amber-950/60 px-3 py-1 font-semibold text-amber-200" role="status" data-testid="followed-indicator">
              <span className="inline-block h-2.5 w-2.5 animate-pulse rounded-full bg-amber-400 motion-reduce:animate-none" aria-hidden />
              The teacher is watching your terminal
            </span>
          )}
        </span>
      </div>
    </div>
  );
}
