'use client';
// The roster of one class, live from the "classroom" channel (roster:subscribe): each learner with
// whether they are online, their containers, lab progress, use against the quota, last activity;
// per learner Follow, Reset and Revoke (both ask first).
import { useEffect, useState } from 'react';
import { api, channel } from '../lib/client';
import { ago, useNow, type Ack, type ClassView, type RosterEntry } from '../lib/classroom';
import { bytes } from '../lib/format';
import { FollowPanel } from './FollowPanel';

type Row = RosterEntry;

/** how often each node sends its part of the roster (server/realtime/classroom.ts ROSTER_EVERY_MS) */
const ROSTER_EVERY_MS = 2000;

const btn = 'rounded-md border px-2.5 py-1 text-sm disabled:opacity-40';

function Use({ row, c }: { row: Row; c: ClassView }) {
  const n = row.containers.length;
  return (
    <span className="text-sm tabular-nums text-slate-200">
      <span className={n >= c.quota.containers ? 'text-amber-300' : ''}>
        {n}/{c.quota.containers} containers
      </span>
      {row.usage?.exists && (
        <>
          {' · '}
          <span className={row.usage.memory.oomKills ? 'text-amber-300' : ''} title={row.usage.memory.oomKills ? `${row.usage.memory.oomKills} OOM kills in the learner's group` : 'memory of all their containers, from their cgroup'}>
            {bytes(row.usage.memory.current)}/{bytes(row.usage.memory.limit ?? c.quota.memory)}
          </span>
          {' · '}
          {row.usage.pids.current}/{row.usage.pids.limit ?? c.quota.pids} pids
        </>
      )}
      <span className="block text-xs text-slate-400">
        ports {row.ports.from}–{row.ports.to}
      </span>
    </span>
  );
}

export function Roster({ c }: { c: ClassView }) {
  const now = useNow(5000);
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [following, setFollowing] = useState<Row | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    const s = channel('classroom');
    // each node of a cluster sends its own learners: the roster is the nodes' parts together, a
    // part not refreshed for three rounds (a node gone) dropped
    const parts = new Map<string, { learners: Row[]; at: number }>();
    const show = () => {
      const now = Date.now();
      for (const [k, p] of parts) if (now - p.at > 3 * ROSTER_EVERY_MS) parts.delete(k);
      setRows([...parts.values()].flatMap((p) => p.learners).sort((a, b) => a.seat - b.seat || a.displayName.localeCompare(b.displayName)));
    };
    const onRoster = (m: { classId: string; node?: string; learners: Row[] }) => {
      if (m.classId !== c.id) return;
      parts.set(m.node ?? '', { learners: m.learners, at: Date.now() });
      show();
    };
    const subscribe = () =>
      s.emit('roster:subscribe', { classId: c.id }, (r: Ack<{ node?: string; learners: Row[] }>) => {
        if (r.ok) onRoster({ classId: c.id, node: r.node, learners: r.learners });
        else setError(r.error);
      });
    s.on('roster', onRoster);
    s.on('connect', subscribe);
    if (s.connected) subscribe();
    else if (!s.active) s.connect();
    return () => {
      s.off('roster', onRoster);
      s.off('connect', subscribe);
      s.emit('roster:unsubscribe', { classId: c.id });
    };
  }, [c.id]);

  const act = async (row: Row, what: 'reset' | 'revoke') => {
    const q = what === 'reset' ? `Reset ${row.displayName}'s sandbox? Every container they made is removed; their session stays.` : `Revoke ${row.displayName}? Their session ends at once and everything they made is removed.`;
    if (!window.confirm(q)) return;
    setBusy(row.id);
    setError(null);
    try {
      if (what === 'reset') await api(`/api/classes/${c.id}/learners/${row.id}/reset`, { body: {} });
      else await api(`/api/classes/${c.id}/learners/${row.id}`, { method: 'DELETE' });
      if (what === 'revoke' && following?.id === row.id) setFollowing(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  const shown = (rows ?? []).filter((r) => !r.revoked);
  const nameOf = (id: string) => following?.containers.find((x) => x.id === id)?.name.replace(`${following.id}-`, '') ?? id.slice(0, 12);
  return (
    <section className="space-y-3" data-testid="roster" data-class={c.id}>
      {error && (
        <p className="rounded-md border border-rose-600 bg-rose-950/50 p-2 text-sm text-rose-200" role="alert">
          {error}
        </p>
      )}
      {following && <FollowPanel key={following.id} learner={following} containerName={nameOf} onClose={() => setFollowing(null)} />}
      <div className="overflow-x-auto rounded-xl border border-slate-800">
        <table className="w-full text-left text-sm">
          <thead className="bg-slate-900 text-xs uppercase tracking-wide text-slate-400">
            <tr>
              <th className="px-3 py-2">Learner</th>
              <th className="px-3 py-2">Online</th>
              <th className="px-3 py-2">Containers</th>
              <th className="px-3 py-2">Lab progress</th>
              <th className="px-3 py-2">Use / quota</th>
              <th className="px-3 py-2">Last activity</th>
              <th className="px-3 py-2">
                <span className="sr-only">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows === null && (
              <tr>
                <td colSpan={7} className="px-3 py-4 text-slate-400">
                  Loading…
                </td>
              </tr>
            )}
            {rows !== null && !shown.length && (
              <tr>
                <td colSpan={7} className="px-3 py-4 text-slate-400">
                  Nobody has joined yet: read the code out, or share the link.
                </td>
              </tr>
            )}
            {shown.map((r) => (
              <tr key={r.id} className="border-t border-slate-800 odd:bg-slate-900/40" data-testid="roster-row" data-learner={r.id} data-name={r.displayName}>
                <td className="px-3 py-2 font-semibold text-slate-100">{r.displayName}</td>
                <td className="px-3 py-2" data-testid="roster-online">
                  {r.online > 0 ? <span className="text-emerald-300">● online</span> : <span className="text-slate-400">○ away</span>}
                </td>
                <td className="px-3 py-2" data-testid="roster-containers">
                  {r.containers.length ? (
                    <ul>
                      {r.containers.map((x) => (
                        <li key={x.id} className="font-mono text-xs text-slate-200">
                          {x.name.replace(`${r.id}-`, '')} <span className={x.status === 'running' ? 'text-emerald-300' : 'text-slate-400'}>{x.status}</span>
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <span className="text-slate-400">none</span>
                  )}
                </td>
                <td className="px-3 py-2 text-slate-300" data-testid="roster-labs">
                  {r.labs?.length ? r.labs.map((l) => `${l.id} ${l.passed}/${l.total}`).join(', ') : <span className="text-slate-400">—</span>}
                </td>
                <td className="px-3 py-2">
                  <Use row={r} c={c} />
                </td>
                <td className="px-3 py-2 text-slate-300">{ago(r.lastActive, now)}</td>
                <td className="px-3 py-2">
                  <div className="flex justify-end gap-2">
                    <button type="button" className={`${btn} border-amber-500 text-amber-200 hover:bg-amber-950`} aria-pressed={following?.id === r.id} onClick={() => setFollowing(following?.id === r.id ? null : r)} data-testid="roster-follow">
                      {following?.id === r.id ? 'Following' : 'Follow'}
                    </button>
                    <button type="button" className={`${btn} border-slate-600 hover:bg-slate-800`} disabled={busy === r.id} onClick={() => act(r, 'reset')} data-testid="roster-reset">
                      Reset
                    </button>
                    <button type="button" className={`${btn} border-rose-600 text-rose-300 hover:bg-rose-950`} disabled={busy === r.id} onClick={() => act(r, 'revoke')} data-testid="roster-revoke">
                      Revoke
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
