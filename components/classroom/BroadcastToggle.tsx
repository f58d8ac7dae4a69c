'use client';
// "Broadcast" on the teacher's container page: mirrors this page to every learner of a class —
// the terminal tab shown (its output), the diagram tab and what is picked in it. The page tells
// it what it shows; it sends broadcast:state whenever that changes. Leaving the page stops it.
import { useEffect, useRef, useState } from 'react';
import { api, channel } from '../lib/client';
import { useWhoami, type Ack, type BroadcastState, type ClassView } from '../lib/classroom';

export interface PageView {
  tab: string;
  selection: string | null;
  sessionId: string | null;
}

function Toggle({ containerId, view }: { containerId: string; view: PageView }) {
  const [classes, setClasses] = useState<ClassView[]>([]);
  const [classId, setClassId] = useState('');
  const [on, setOn] = useState<BroadcastState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const viewRef = useRef(view);
  viewRef.current = view;

  useEffect(() => {
    api<ClassView[]>('/api/classes').then(
      (l) => {
        const open = l.filter((c) => !c.endedAt && Date.parse(c.endsAt) > Date.now());
        setClasses(open);
        setClassId((id) => id || open[0]?.id || '');
      },
      () => setClasses([]),
    );
  }, []);

  // the server's word on what is broadcast (this tab's, or another teacher tab's)
  useEffect(() => {
    const s = channel('classroom');
    const onState = (m: BroadcastState) => {
      if (m.active && m.containerId === containerId) setOn(m);
      else setOn((cur) => (cur && cur.classId === m.classId ? null : cur));
    };
    s.on('broadcast', onState);
    if (!s.connected && !s.active) s.connect();
    return () => {
      s.off('broadcast', onState);
    };
  }, [containerId]);

  const sendView = (id: string) => channel('classroom').emit('broadcast:state', { classId: id, ...viewRef.current }, () => {});
  useEffect(() => {
    if (on) sendView(on.classId);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [on?.classId, view.tab, view.selection, view.sessionId]);
  // leaving the page ends the mirror of the page
  const onRef = useRef(on);
  onRef.current = on;
  useEffect(
    () => () => {
      if (onRef.current) channel('classroom').emit('broadcast:stop', { classId: onRef.current.classId });
    },
    [],
  );

  const toggle = () => {
    setError(null);
    const s = channel('classroom');
    if (on) {
      s.emit('broadcast:stop', { classId: on.classId }, () => setOn(null));
      return;
    }
    if (!classId) return setError('make a class first (Classroom)');
    s.emit('broadcast:start', { classId, containerId }, (r: Ack<{ broadcast: BroadcastState }>) => {
      if (!r.ok) return setError(r.error);
      setOn(r.broadcast);
    });
  };
  const className = classes.find((c) => c.id === on?.classId)?.name ?? on?.classId;
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="broadcast-toggle">
      {!on && classes.length > 1 && (
        <select value={classId} onChange={(e) => setClassId(e.target.value)} className="rounded-md border border-slate-700 bg-slate-950 px-2 py-1.5 text-sm" aria-label="class to broadcast to" data-testid="broadcast-class">
          {classes.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      )}
      <button
        type="button"
        onClick={toggle}
        aria-pressed={!!on}
        disabled={!on && !classes.length}
        title={classes.length ? 'mirror this page (terminal, diagram tab and selection) to every learner of the class' : 'no open class: make one on the Classroom page'}
        className={`rounded-md border px-3 py-1.5 text-sm font-medium disabled:opacity-40 ${on ? 'border-violet-400 bg-violet-600 text-white' : 'border-violet-500 text-violet-200 hover:bg-violet-950'}`}
        data-testid="broadcast-button"
      >
        {on ? '■ Stop broadcast' : '● Broadcast'}
      </button>
      {on && (
        <span className="text-sm font-semibold text-violet-200" role="status" data-testid="broadcast-status">
          broadcasting to {className}
        </span>
      )}
      {error && (
        <span className="text-sm text-rose-300" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Only the teacher broadcasts. */
export function BroadcastToggle(props: { containerId: string; view: PageView }) {
  const me = useWhoami();
  return me?.role === 'teacher' ? <Toggle {...props} /> : null;
}
