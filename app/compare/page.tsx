'use client';
// "Same command, three views": two containers' terminals side by side, and under them the
// server's read-only view of the host answering the same questions — which processes (ps), which
// network links (ip link), which hostname, which mounts — read from /proc through a process of
// each namespace. Each question is one namespace type (pid, net, uts, mnt): a container whose
// inode equals the host's shares the host's answer. No host shell is offered: the host column is
// read by the server, never typed into.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ProcView, ViewNs } from '@/server/engine/inspect/host-view';
import { Terminal } from '@/components/Terminal';
import { api } from '@/components/lib/client';
import { newSessionId } from '@/components/lib/terminal-sessions';
import { useContainers } from '@/components/lib/use-containers';
import { useLargeType } from '@/components/lib/use-large-type';

const QUESTIONS: { ns: ViewNs; title: string; command: string; what: string }[] = [
  { ns: 'pid', title: 'Processes', command: 'ps -o pid,comm', what: 'the pid namespace decides which processes exist and their numbers' },
  { ns: 'net', title: 'Network links', command: 'ip link', what: 'the network namespace has its own interfaces' },
  { ns: 'uts', title: 'Hostname', command: 'hostname', what: 'the UTS namespace holds the hostname' },
  { ns: 'mnt', title: 'Mounts', command: 'cat /proc/self/mountinfo', what: 'the mount namespace has its own mount table' },
];

const MAX_LINES = 14;

function Answer({ v, q }: { v: ProcView; q: ViewNs }) {
  const lines: string[] =
    q === 'pid'
      ? v.processes.map((p) => `${String(p.pid).padStart(6)}  ${p.comm}`)
      : q === 'net'
        ? v.links.map((l) => l.name)
        : q === 'uts'
          ? [v.hostname]
          : v.mounts.map((m) => `${m.mountPoint}  ${m.fsType}`);
  const total = q === 'pid' ? v.processCount : q === 'mnt' ? v.mountCount : lines.length;
  const shares = v.who !== 'host' && v.sharesHost[q];
  return (
    <div data-testid={`answer-${q}-${v.who === 'host' ? 'host' : v.name}`} className="min-w-0">
      <div className="mb-1 flex flex-wrap items-center gap-2 text-xs">
        <span className="font-mono text-slate-300">
          {q}:[{v.ns[q] ?? '?'}]
        </span>
        {v.who === 'host' ? (
          <span className="rounded bg-slate-700 px-1.5 text-slate-100">the host&apos;s</span>
        ) : shares ? (
          <span data-testid={`shares-${q}-${v.name}`} className="rounded bg-amber-900 px-1.5 text-amber-100">
            shares with host
          </span>
        ) : (
          <span className="rounded bg-sky-900 px-1.5 text-sky-100">its own</span>
        )}
        <span className="text-slate-400">{total} {q === 'pid' ? 'processes' : q === 'net' ? 'links' : q === 'mnt' ? 'mounts' : ''}</span>
      </div>
      <pre className="max-h-64 overflow-auto rounded bg-slate-950 p-2 font-mono text-xs leading-5 text-slate-200">
        {lines.slice(0, MAX_LINES).join('\n')}
        {lines.length > MAX_LINES || total > lines.length ? `\n… ${total - Math.min(lines.length, MAX_LINES)} more` : ''}
      </pre>
    </div>
  );
}

export default function ComparePage() {
  const large = useLargeType();
  const { list } = useContainers();
  const running = useMemo(() => (list ?? []).filter((c) => c.status === 'running'), [list]);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [view, setView] = useState<{ host: ProcView; containers: ProcView[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // one session per side and container: the server ties a session to the container it opened on
  const sessions = useRef(new Map<string, string>());
  const sessionFor = (side: string, id: string) => {
    const k = `${side}:${id}`;
    if (!sessions.current.has(k)) sessions.current.set(k, newSessionId());
    return sessions.current.get(k)!;
  };

  // pick the first two running containers until the learner chooses
  useEffect(() => {
    if (!a && running[0]) setA(running[0].id);
    if (!b && running[1]) setB(running[1].id);
  }, [running, a, b]);

  useEffect(() => {
    let stop = false;
    const ids = [a, b].filter(Boolean);
    const read = () =>
      api<{ host: ProcView; containers: ProcView[] }>(`/api/host/view${ids.length ? '?' + ids.map((id) => `container=${encodeURIComponent(id)}`).join('&') : ''}`)
        .then((v) => {
          if (!stop) {
            setView(v);
            setError(null);
          }
        })
        .catch((e) => !stop && setError((e as Error).message));
    void read();
    const t = setInterval(read, 2000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [a, b]);

  const va = view?.containers.find((c) => c.who === a);
  const vb = view?.containers.find((c) => c.who === b);
  const picker = (value: string, set: (v: string) => void, label: string) => (
    <label className="flex items-center gap-2 text-sm">
      <span className="text-slate-300">{label}</span>
      <select data-testid={`compare-pick-${label}`} value={value} onChange={(e) => set(e.target.value)} className="rounded border border-slate-600 bg-slate-900 px-2 py-1 text-slate-100">
        <option value="">— none —</option>
        {running.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div className="space-y-4" data-testid="compare-page">
      <div className="flex flex-wrap items-baseline gap-4">
        <h1 className="text-2xl font-semibold">Same command, three views</h1>
        <p className="text-sm text-slate-300">
          Type the same command in both terminals; below, the server reads the host&apos;s answer from /proc. Where a container&apos;s namespace is the host&apos;s (same inode), its answer is the host&apos;s.
        </p>
      </div>
      <div className="flex flex-wrap gap-6">
        {picker(a, setA, 'left')}
        {picker(b, setB, 'right')}
        <span className="text-sm text-slate-400">try: {QUESTIONS.map((q) => <code key={q.ns} className="mr-2 rounded bg-slate-800 px-1 text-slate-200">{q.command}</code>)}</span>
      </div>
      {running.length === 0 ? <p className="text-slate-300">No container is running: start two from the dashboard (one with --network host, say) to compare them.</p> : null}
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        {[
          { id: a, key: 'a' as const },
          { id: b, key: 'b' as const },
        ].map(({ id, key }) => (
          <div key={key} className={`relative ${large ? 'h-[50vh]' : 'h-[40vh]'} rounded-lg border border-slate-700 bg-slate-950`} data-testid={`compare-terminal-${key}`}>
            {id ? <Terminal key={id} containerId={id} sessionId={sessionFor(key, id)} active fontSize={large ? 20 : 14} /> : <p className="p-4 text-slate-400">Pick a container.</p>}
          </div>
        ))}
      </div>
      {error ? <p role="alert" className="text-rose-300">{error}</p> : null}
      <section className="rounded-xl border border-slate-800 bg-slate-900/50 p-4" data-testid="compare-views">
        <h2 className="mb-2 text-xl font-semibold">The same questions, answered by namespace</h2>
        <div className="overflow-x-auto">
          <table className="w-full table-fixed border-collapse text-left text-sm">
            <thead>
              <tr className="text-slate-300">
                <th className="w-40 py-1 pr-3">question</th>
                <th className="py-1 pr-3">{va?.name ?? 'left'}</th>
                <th className="py-1 pr-3">{vb?.name ?? 'right'}</th>
                <th className="py-1">host (read by the server)</th>
              </tr>
            </thead>
            <tbody>
              {QUESTIONS.map((q) => (
                <tr key={q.ns} className="border-t border-slate-800 align-top">
                  <td className="py-2 pr-3">
                    <div className="font-semibold text-slate-100">{q.title}</div>
                    <code className="text-xs text-slate-300">{q.command}</code>
                    <div className="text-xs text-slate-400">{q.what}</div>
                  </td>
                  <td className="py-2 pr-3">{va ? <Answer v={va} q={q.ns} /> : null}</td>
                  <td className="py-2 pr-3">{vb ? <Answer v={vb} q={q.ns} /> : null}</td>
                  <td className="py-2">{view ? <Answer v={view.host} q={q.ns} /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
