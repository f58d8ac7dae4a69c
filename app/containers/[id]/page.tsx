'use client';
import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import type { ContainerRecord, TimelineStep } from '@/server/engine/types';
import { ContainerDiagrams } from '@/components/DiagramTabs';
import { LimitsEditor } from '@/components/LimitsEditor';
import { PrivilegeWarning } from '@/components/PrivilegeWarning';
import { privilegeRisks } from '@/common/privilege-risks';
import { Logs } from '@/components/Logs';
import { StatusBadge } from '@/components/StatusBadge';
import { Sparkline } from '@/components/Sparkline';
import { color } from '@/components/theme';
import { TerminalTabs } from '@/components/TerminalTabs';
import { BroadcastToggle } from '@/components/classroom/BroadcastToggle';
import { Timeline } from '@/components/Timeline';
import { api, channel } from '@/components/lib/client';
import { bytes, shortId } from '@/components/lib/format';
import { useContainers } from '@/components/lib/use-containers';
import { useLargeType } from '@/components/lib/use-large-type';

function Panel({ title, children, className = '', right }: { title: string; children: React.ReactNode; className?: string; right?: React.ReactNode }) {
  return (
    <section className={`min-w-0 rounded-xl border border-slate-800 bg-slate-900/50 p-4 ${className}`}>
      <div className="mb-3 flex items-center gap-2">
        <h2 className="text-base font-semibold text-slate-100">{title}</h2>
        {right && <div className="ml-auto">{right}</div>}
      </div>
      {children}
    </section>
  );
}

const btn = 'rounded-md border px-3 py-1.5 text-sm font-medium disabled:opacity-40';

export default function ContainerPage() {
  const { id } = useParams<{ id: string }>();
  const router = useRouter();
  const large = useLargeType();
  const { list, stats } = useContainers();
  const [rec, setRec] = useState<ContainerRecord | null>(null);
  const [timeline, setTimeline] = useState<TimelineStep[]>([]);
  const [config, setConfig] = useState<Record<string, unknown> | null>(null);
  const [showConfig, setShowConfig] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [cpus, setCpus] = useState(4);
  // what the page shows, for the classroom's broadcast
  const [diagramView, setDiagramView] = useState<{ tab: string; selection: string | null }>({ tab: 'namespaces', selection: null });
  const [activeSession, setActiveSession] = useState<string | null>(null);
  const onView = useCallback((tab: string, selection: string | null) => setDiagramView({ tab, selection }), []);

  const load = useCallback(async () => {
    try {
      const r = await api<ContainerRecord>(`/api/containers/${id}`);
      setRec(r);
      setError(null);
      api<TimelineStep[]>(`/api/containers/${r.id}/timeline`)
        .then(setTimeline)
        .catch(() => {});
    } catch (e) {
      setError((e as Error).message);
    }
  }, [id]);

  useEffect(() => {
    void load();
    api<{ cpus: number }>('/api/info')
      .then((i) => setCpus(i.cpus))
      .catch(() => {});
  }, [load]);

  // reload the record whenever the engine reports something about this container
  useEffect(() => {
    const s = channel('containers');
    const onEvent = (e: { type: string; id: string; action: string }) => {
      if (e.type !== 'container' || !rec || e.id !== rec.id) return;
      if (e.action === 'destroy') {
        setRec(null);
        setError('This container was removed.');
      } else void load();
    };
    s.on('event', onEvent);
    return () => {
      s.off('event', onEvent);
    };
  }, [rec, load]);

  useEffect(() => {
    if (!showConfig || !rec) return;
    api<Record<string, unknown>>(`/api/containers/${rec.id}/config.json`)
      .then(setConfig)
      .catch((e) => setConfig({ error: (e as Error).message }));
  }, [showConfig, rec]);

  const act = async (action: string) => {
    if (!rec) return;
    setBusy(action);
    setError(null);
    try {
      if (action === 'remove') {
        await api(`/api/containers/${rec.id}?force=1`, { method: 'DELETE' });
        router.push('/');
        return;
      }
      await api(`/api/containers/${rec.id}/${action}`, { body: action === 'stop' ? { timeoutSeconds: 3 } : {} });
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  const summary = list?.find((c) => c.id === rec?.id);
  const status = summary?.status ?? rec?.state.status ?? 'unknown';
  const running = status === 'running';
  const h = rec ? stats[rec.id] : undefined;
  const limits = summary?.limits ?? rec?.limits;

  if (!rec && error) {
    return (
      <div className="p-6">
        <p className="text-slate-300">{error}</p>
        <Link href="/" className="text-sky-300 underline">
          back to the dashboard
        </Link>
      </div>
    );
  }
  // the terminal starts at once (optimistically: the server refuses a container that is not running)
  const termId = rec?.id ?? id;
  const termRunning = rec ? running : true;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <Link href="/" className="text-sm text-slate-400 hover:text-slate-200">
          ← containers
        </Link>
        <h1 className="min-w-0 text-2xl font-semibold [overflow-wrap:anywhere]" data-testid="container-name">
          {rec?.name ?? shortId(id)}
        </h1>
        {rec && <StatusBadge status={status} exitCode={rec.state.exitCode} />}
        <span className="font-mono text-xs text-slate-400">{shortId(termId)}</span>
        {rec && <span className="min-w-0 font-mono text-xs text-slate-400 [overflow-wrap:anywhere]">{rec.image.ref}</span>}
        {rec?.network?.ipAddress && <span className="font-mono text-xs text-slate-400">{rec.network.ipAddress}</span>}
        <div className="ml-auto flex flex-wrap gap-2">
          {rec && <BroadcastToggle containerId={rec.id} view={{ ...diagramView, sessionId: activeSession }} />}
          {!running && status !== 'paused' && (
            <button className={`${btn} border-emerald-600 text-emerald-300 hover:bg-emerald-950`} disabled={!!busy} onClick={() => act('start')} data-testid="action-start">
              Start
            </button>
          )}
          <button className={`${btn} border-slate-600 hover:bg-slate-800`} disabled={!!busy || !running} onClick={() => act('stop')} data-testid="action-stop">
            Stop
          </button>
          <button className={`${btn} border-slate-600 hover:bg-slate-800`} disabled={!!busy || !running} onClick={() => act('kill')} data-testid="action-kill">
            Kill
          </button>
          {status === 'paused' ? (
            <button className={`${btn} border-amber-600 text-amber-300 hover:bg-amber-950`} disabled={!!busy} onClick={() => act('unpause')} data-testid="action-unpause">
              Unpause
            </button>
          ) : (
            <button className={`${btn} border-amber-600 text-amber-300 hover:bg-amber-950`} disabled={!!busy || !running} onClick={() => act('pause')} data-testid="action-pause">
              Pause
            </button>
          )}
          <button className={`${btn} border-rose-600 text-rose-300 hover:bg-rose-950`} disabled={!!busy} onClick={() => act('remove')} data-testid="action-remove">
            Remove
          </button>
        </div>
      </div>
      {rec && privilegeRisks(rec.config).length > 0 && (
        <div className="rounded-lg border border-rose-500 bg-rose-950/40 p-3">
          <PrivilegeWarning config={rec.config} testId="container-privilege-warning" />
        </div>
      )}
      {rec?.state.oomKilled && !running ? (
        <div className="rounded-lg border-2 border-rose-500 bg-rose-950/60 p-4" role="alert" data-testid="oom-killed">
          <p className="text-lg font-semibold text-rose-100">Killed by the OOM killer</p>
          <p className="mt-1 text-sm text-rose-200">
            Its memory use reached the cgroup&apos;s limit{limits?.memory ? ` (${bytes(limits.memory)})` : ''} and the kernel killed its process
            {rec.state.exitCode ? ` (exit code ${rec.state.exitCode}${rec.state.exitCode === 137 ? ' = 128 + SIGKILL' : ''})` : ''}. The cgroup charts below keep its last minutes, with the OOM kill marked on the memory chart.
          </p>
        </div>
      ) : null}
      {rec && !running && status !== 'paused' && rec.state.error ? (
        <p className="rounded-md border border-amber-600 bg-amber-950/40 p-2 text-sm break-words text-amber-100" data-testid="start-error">
          It did not start: {rec.state.error}
        </p>
      ) : null}
      {error && (
        <p className="rounded-md border border-rose-600 bg-rose-950/50 p-2 text-sm break-words text-rose-200" role="alert">
          {error}
        </p>
      )}

      <div className="grid grid-cols-1 gap-4 xl:grid-cols-[minmax(0,1fr)_24rem]">
        <div className={large ? 'h-[70vh]' : 'h-[60vh]'}>
          <TerminalTabs containerId={termId} running={termRunning} large={large} onActive={setActiveSession} />
        </div>
        <div className="space-y-4">
          <Panel title="Live">
            <div className="space-y-2 text-sm">
              <div className="flex items-center justify-between gap-2">
                <span>Memory</span>
                <Sparkline values={h?.memory ?? []} max={limits?.memory} width={150} label="memory" />
                <span className="w-36 text-right tabular-nums">
                  {bytes(h?.last?.memory ?? 0)} / {bytes(limits?.memory ?? null)}
                </span>
              </div>
              <div className="flex items-center justify-between gap-2">
                <span>CPU</span>
                <Sparkline values={h?.cpu ?? []} max={limits?.cpus ?? 1} color={color.sparkCpu} width={150} label="cpu" />
                <span className="w-36 text-right tabular-nums">{((h?.last?.cpu ?? 0) * 100).toFixed(0)}%</span>
              </div>
              <div className="flex justify-between">
                <span>Processes</span>
                <span className="tabular-nums">
                  {h?.last?.pids ?? '—'} / {limits?.pids ?? '∞'}
                </span>
              </div>
            </div>
          </Panel>
          <Panel title="Limits">{rec && limits && <LimitsEditor id={rec.id} limits={limits} cpus={cpus} disabled={!running && status !== 'paused'} />}</Panel>
        </div>
      </div>

      {rec && (running || status === 'paused') ? (
        <ContainerDiagrams id={rec.id} image={rec.image.id} onView={onView} />
      ) : rec && rec.state.startedAt ? (
        // it ran: its story stays (the last pictures, the cgroup series with the OOM kill in it)
        <ContainerDiagrams id={rec.id} image={rec.image.id} stopped show={rec.state.oomKilled ? 'cgroups' : undefined} />
      ) : rec ? (
        <Panel title="Inside the kernel">
          <p className="text-sm text-slate-400" data-testid="diagrams-not-running">
            The diagrams read a running container's processes, cgroups and network: start it to see them.
          </p>
        </Panel>
      ) : null}

      <Panel title="How it started" right={<span className="text-xs text-slate-400">the creation timeline</span>}>
        {rec ? <Timeline steps={timeline} /> : <p className="text-sm text-slate-400">Loading…</p>}
      </Panel>

      <div className="grid grid-cols-1 gap-4 xl:grid-cols-2">
        <Panel title="Logs">
          {rec && <Logs id={rec.id} />}
        </Panel>
        <Panel
          title="OCI config.json"
          right={
            <button className="text-sm text-sky-300 underline decoration-dotted" onClick={() => setShowConfig((s) => !s)} data-testid="show-config">
              {showConfig ? 'hide' : 'show'}
            </button>
          }
        >
          {showConfig ? (
            <pre className="h-64 overflow-auto rounded-md bg-slate-950 p-3 font-mono text-xs text-slate-200" data-testid="config-json">
              {config ? JSON.stringify(config, null, 2) : 'Loading…'}
            </pre>
          ) : (
            <p className="text-sm text-slate-400 [overflow-wrap:anywhere]">
              The runtime spec the engine wrote into the bundle ({rec?.paths.bundle ?? '…'}/config.json): namespaces, mounts, capabilities, seccomp, cgroup limits.
            </p>
          )}
        </Panel>
      </div>
    </div>
  );
}
