'use client';
// "Follow": a learner's terminals on the teacher's screen, read only. The server sends each
// session's screen (its replay) and then its output; nothing typed here goes anywhere (the
// terminal takes no input, and follow has no way to write). The learner sees an indicator.
import { useEffect, useRef, useState } from 'react';
import { channel } from '../lib/client';
import type { Ack } from '../lib/classroom';
import { TextFeed } from '../lib/text-feed';
import { WatchTerminal } from './WatchTerminal';

interface FollowData {
  learnerId: string;
  sessionId: string;
  containerId: string;
  data: string;
  replay: boolean;
}

interface Tab {
  sessionId: string;
  containerId: string;
  ended: string | null;
}

export function FollowPanel({ learner, containerName, onClose }: { learner: { id: string; displayName: string }; containerName: (id: string) => string; onClose: () => void }) {
  const feeds = useRef(new Map<string, TextFeed>());
  const [tabs, setTabs] = useState<Tab[]>([]);
  const [active, setActive] = useState<string | null>(null);
  const [state, setState] = useState<string>('starting…');

  useEffect(() => {
    const s = channel('classroom');
    const feedOf = (id: string) => {
      let f = feeds.current.get(id);
      if (!f) feeds.current.set(id, (f = new TextFeed()));
      return f;
    };
    const onData = (m: FollowData) => {
      if (m.learnerId !== learner.id) return;
      feedOf(m.sessionId).push(m.data, m.replay);
      setTabs((t) => (t.some((x) => x.sessionId === m.sessionId) ? t : [...t, { sessionId: m.sessionId, containerId: m.containerId, ended: null }]));
      // the terminal the learner is typing in comes to the front
      if (!m.replay) setActive(m.sessionId);
      else setActive((a) => a ?? m.sessionId);
    };
    const onExit = (m: { learnerId: string; sessionId: string; reason: string }) => {
      if (m.learnerId === learner.id) setTabs((t) => t.map((x) => (x.sessionId === m.sessionId ? { ...x, ended: m.reason } : x)));
    };
    const onEnd = (m: { learnerId: string; reason: string }) => {
      if (m.learnerId === learner.id) setState(`ended: ${m.reason}`);
    };
    const start = () =>
      s.emit('follow:start', { learnerId: learner.id }, (r: Ack<{ sessions: unknown[] }>) => {
        setState(r.ok ? (r.sessions.length ? 'following' : 'following: no terminal open yet') : `refused: ${r.error}`);
      });
    s.on('follow:data', onData);
    s.on('follow:exit', onExit);
    s.on('follow:end', onEnd);
    s.on('connect', start);
    if (s.connected) start();
    return () => {
      s.off('follow:data', onData);
      s.off('follow:exit', onExit);
      s.off('follow:end', onEnd);
      s.off('connect', start);
      s.emit('follow:stop', { learnerId: learner.id });
    };
  }, [learner.id]);

  const feed = active ? feeds.current.get(active) : undefined;
  return (
    <section className="rounded-xl border-2 border-amber-500 bg-slate-950" aria-label={`${learner.displayName}'s terminal, read only`} data-testid="follow-panel" data-learner={learner.id}>
      <div className="flex flex-wrap items-center gap-3 border-b border-amber-800 bg-amber-950/50 px-3 py-2">
        <span className="font-semibold text-amber-100">
          Following {learner.displayName} <span className="font-normal text-amber-200">(read only: they see that you watch)</span>
        </span>
        <span className="text-sm text-amber-200" data-testid="follow-state">
          {state}
        </span>
        <div className="flex gap-1" role="tablist" aria-label="their terminals">
          {tabs.map((t, i) => (
            <button key={t.sessionId} type="button" role="tab" aria-selected={t.sessionId === active} onClick={() => setActive(t.sessionId)} className={`rounded px-2 py-0.5 text-sm ${t.sessionId === active ? 'bg-amber-500 text-slate-950' : 'border border-amber-700 text-amber-200'}`}>
              {containerName(t.containerId)} #{i + 1}
              {t.ended ? ' (ended)' : ''}
            </button>
          ))}
        </div>
        <button type="button" onClick={onClose} className="ml-auto rounded-md border border-amber-400 px-3 py-0.5 text-amber-100 hover:bg-amber-900" data-testid="follow-stop">
          Stop following
        </button>
      </div>
      <div className="h-80">{feed ? <WatchTerminal key={active} feed={feed} label={`${learner.displayName}'s terminal`} testId="follow-terminal" /> : <p className="p-4 text-sm text-slate-400">When {learner.displayName} opens a terminal, it shows here.</p>}</div>
    </section>
  );
}
