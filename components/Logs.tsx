'use client';
import { useEffect, useRef, useState } from 'react';
import { channel } from './lib/client';

interface Entry {
  stream: string;
  time: string;
  log: string;
}

// strip terminal control sequences so a tty container's log reads as text
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)|\r/g;

export function Logs({ id }: { id: string }) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const s = channel('containers');
    setEntries([]);
    const onData = (m: { id: string; entries: Entry[] }) => {
      if (m.id === id) setEntries((e) => [...e, ...m.entries].slice(-2000));
    };
    const onError = (m: { id: string; error: string }) => m.id === id && setError(m.error);
    const follow = () => s.emit('logs:follow', { id, tail: 300 });
    s.on('logs:data', onData);
    s.on('logs:error', onError);
    s.on('connect', follow);
    if (s.connected) follow();
    return () => {
      s.emit('logs:stop', { id });
      s.off('logs:data', onData);
      s.off('logs:error', onError);
      s.off('connect', follow);
    };
  }, [id]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [entries]);
  return (
    <div>
      {error && <p className="text-sm text-rose-300">{error}</p>}
      <pre ref={box} className="h-64 overflow-auto rounded-md bg-slate-950 p-3 font-mono text-xs leading-relaxed text-slate-200" data-testid="logs">
        {entries.length ? entries.map((e, i) => <span key={i} className={e.stream === 'stderr' ? 'text-rose-300' : ''}>{e.log.replace(ANSI, '')}</span>) : <span className="text-slate-500">(no output yet)</span>}
      </pre>
    </div>
  );
}
