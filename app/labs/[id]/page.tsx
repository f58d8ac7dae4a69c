'use client';
// The lab runner: the steps on the left (text, Run buttons, the check turning green live, hints,
// "what just happened"), the lab's terminals and the step's diagram on the right. Starting makes
// the lab's containers; Leave removes them. The session id, the green steps and the terminal
// sessions are kept in localStorage, so a reload comes back to the same session and shells.
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { fillContainerNames, type RunBlock } from '@/common/lab-markdown';
import CgroupDiagram from '@/components/diagrams/CgroupDiagram';
import LayerDiagram from '@/components/diagrams/LayerDiagram';
import NamespaceDiagram from '@/components/diagrams/NamespaceDiagram';
import NetworkDiagram from '@/components/diagrams/NetworkDiagram';
import { useDiagramFeed } from '@/components/diagrams/useDiagramFeed';
import { api, ApiError, channel } from '@/components/lib/client';
import { newSessionId } from '@/components/lib/terminal-sessions';
import { useLargeType } from '@/components/lib/use-large-type';
import { Terminal } from '@/components/Terminal';
import { LabMarkdown } from '../markdown';
import { loadProgress, saveProgress, type LabDetail, type LabProgress, type LabSessionState, type LabStepDetail } from '../progress';

type Kind = 'namespaces' | 'layers' | 'network' | 'cgroups';
const KINDS: Kind[] = ['namespaces', 'layers', 'network', 'cgroups'];
const btn = 'rounded-md border px-3 py-1.5 text-sm font-medium disabled:opacity-40';

interface Started {
  sessionId: string;
  containers: { role: string; id: string; name: string; status?: string }[];
}

function StepDiagram({ kind, containerId, highlight }: { kind: Kind; containerId: string | null; highlight: string | null }) {
  // one feed per kind: the component below is keyed by kind, so only the shown one subscribes
  const f = useDiagramFeed(kind, kind === 'namespaces' || kind === 'network' ? null : containerId);
  if (f.error) return <p className="text-rose-300">{f.error}</p>;
  if (kind === 'namespaces') return <NamespaceDiagram snapshot={f.snapshot as never} containerId={containerId} focus={!!containerId} highlight={highlight} />;
  if (kind === 'layers') return <LayerDiagram snapshot={f.snapshot as never} onWhichLayer={f.whichLayer} />;
  if (kind === 'network') return <NetworkDiagram snapshot={f.snapshot as never} containerId={containerId} />;
  return <CgroupDiagram snapshot={f.snapshot as never} containerId={containerId} onLimitChange={f.setLimit} />;
}

function Check({ step, passed, detail }: { step: LabStepDetail; passed: boolean | null; detail?: string }) {
  return (
    <div
      data-testid="check"
      data-step={step.id}
      data-passed={passed ? 'true' : 'false'}
      role="status"
      aria-live="polite"
      className={`mt-4 rounded-lg border px-3 py-2 ${passed ? 'border-emerald-600 bg-emerald-950/40' : 'border-slate-700 bg-slate-900'}`}
    >
      <div className="flex items-start gap-2">
        <span aria-hidden className={`mt-1 inline-block h-3 w-3 shrink-0 rounded-full ${passed ? 'bg-emerald-400' : passed === null ? 'bg-slate-600' : 'bg-rose-400'}`} />
        <div>
          <div className={passed ? 'text-emerald-200' : 'text-slate-200'}>
            <span className="sr-only">{passed ? 'passed: ' : 'not yet: '}</span>
            <LabMarkdown source={step.checkLabel} />
          </div>
          {detail && (
            <div className="text-sm text-gb-muted" data-testid="check-detail">
              {detail}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

export default function LabRunner() {
  const { id } = useParams<{ id: string }>();
  const large = useLargeType();
  const [lab, setLab] = useState<LabDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgressState] = useState<LabProgress | null>(null);
  const progressRef = useRef<LabProgress | null>(null);
  const [state, setState] = useState<LabSessionState | null>(null);
  const [busy, setBusy] = useState<'starting' | 'leaving' | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [hints, setHints] = useState(0);
  const [activeRole, setActiveRole] = useState<string | null>(null);
  const [kind, setKind] = useState<Kind>('namespaces');

  const setProgress = useCallback(
    (fn: (p: LabProgress) => LabProgress) => {
      const next = fn(progressRef.current ?? loadProgress(id));
      progressRef.current = next;
      setProgressState(next);
      saveProgress(id, next);
    },
    [id],
  );

  useEffect(() => {
    progressRef.current = loadProgress(id);
    setProgressState(progressRef.current);
    api<LabDetail>(`/api/labs/${encodeURIComponent(id)}`)
      .then(setLab)
      .catch((e: Error) => setError(e.message));
  }, [id]);

  const sid = progress?.sessionId ?? null;

  // a stored session: is it still there? (the server may have been reset, or another tab left)
  useEffect(() => {
    if (!sid) return;
    api<LabSessionState>(`/api/labs/${encodeURIComponent(id)}/sessions/${sid}`)
      .then(setState)
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
          setProgress((p) => ({ ...p, sessionId: null, terminals: {} }));
          setState(null);
          setNote('Your earlier session of this lab is gone (the server was reset or it was left elsewhere): start again.');
        }
      });
  }, [id, sid, setProgress]);

  // live state: the server evaluates the checks twice a second while we watch
  useEffect(() => {
    if (!sid) return;
    const sock = channel('');
    const onState = (s: LabSessionState) => {
      if (s.sessionId === sid) setState(s);
    };
    const sub = () => sock.emit('lab:subscribe', { sessionId: sid });
    sock.on('lab:state', onState);
    sock.on('connect', sub);
    if (sock.connected) sub();
    else if (!sock.active) sock.connect();
    return () => {
      sock.off('lab:state', onState);
      sock.off('connect', sub);
      sock.emit('lab:unsubscribe', { sessionId: sid });
    };
  }, [sid]);

  // remember what went green
  useEffect(() => {
    if (!state || !lab) return;
    const green = state.steps.filter((s) => s.passed).map((s) => s.id);
    const p = progressRef.current;
    if (!p || green.every((g) => p.green.includes(g))) return;
    setProgress((q) => {
      const all = [...new Set([...q.green, ...green])];
      return { ...q, green: all, finished: q.finished || lab.steps.every((s) => all.includes(s.id)) };
    });
  }, [state, lab, setProgress]);

  const stepIndex = Math.min(progress?.step ?? 0, (lab?.steps.length ?? 1) - 1);
  const step = lab?.steps[stepIndex] ?? null;
  const stepState = state?.steps.find((s) => s.id === step?.id) ?? null;

  useEffect(() => {
    setHints(0);
    if (!step) return;
    setActiveRole(step.terminal);
    setKind(step.diagram && (KINDS as string[]).includes(step.diagram) ? (step.diagram as Kind) : 'namespaces');
  }, [step]);

  const names = useMemo(() => Object.fromEntries((state?.containers ?? []).map((c) => [c.role, c.name])), [state?.containers]);
  const idOf = useMemo(() => Object.fromEntries((state?.containers ?? []).map((c) => [c.role, c.id])), [state?.containers]);

  const start = async () => {
    setBusy('starting');
    setNote(null);
    try {
      const r = await api<Started>(`/api/labs/${encodeURIComponent(id)}/start`, { method: 'POST', body: {} });
      const terminals = Object.fromEntries((lab?.terminals ?? []).map((role) => [role, newSessionId()]));
      setProgress((p) => ({ ...p, sessionId: r.sessionId, terminals, step: 0 }));
      setState({ sessionId: r.sessionId, labId: id, steps: (lab?.steps ?? []).map((s) => ({ id: s.id, passed: false })), containers: r.containers.map((c) => ({ status: 'running', ...c })) });
    } catch (e) {
      setNote(`Could not start the lab: ${(e as Error).message}`);
    } finally {
      setBusy(null);
    }
  };

  const leave = async () => {
    if (!sid) return;
    setBusy('leaving');
    try {
      for (const t of Object.values(progressRef.current?.terminals ?? {})) channel('terminal').emit('close', { sessionId: t });
      await api(`/api/labs/${encodeURIComponent(id)}/sessions/${sid}`, { method: 'DELETE' });
      setNote('You left the lab: its containers are removed.');
    } catch (e) {
      setNote(`Leaving failed: ${(e as Error).message}`);
    } finally {
      setProgress((p) => ({ ...p, sessionId: null, terminals: {} }));
      setState(null);
      setBusy(null);
    }
  };

  const run = useCallback(
    (block: RunBlock) => {
      const role = block.target ?? step?.terminal;
      const term = role ? progressRef.current?.terminals[role] : undefined;
      if (!role || !term) return;
      setActiveRole(role);
      // typed as a learner would: the lines, Enter after each (a background command gets its &)
      const lines = block.command.split('\n');
      if (block.background) lines[lines.length - 1] += ' &';
      channel('terminal').emit('input', { sessionId: term, data: lines.join('\r') + '\r' });
    },
    [step],
  );

  if (error) return <p className="text-rose-300">{error}</p>;
  if (!lab || !progress || !step) return <p className="text-gb-muted">loading…</p>;

  const go = (i: number) => setProgress((p) => ({ ...p, step: Math.max(0, Math.min(lab.steps.length - 1, i)) }));
  const passed = stepState ? stepState.passed : null;
  const highlightRole = step.highlight && idOf[step.highlight] ? step.highlight : step.terminal;
  const highlightOther = step.highlight && !idOf[step.highlight] && !lab.containers.some((c) => c.role === step.highlight) ? step.highlight : null;

  return (
    <div className="space-y-4" data-testid="lab-runner" data-session={sid ?? ''}>
      <div className="flex flex-wrap items-center gap-3">
        <Link href="/labs" className="text-sm text-sky-300 hover:underline">
          ← Labs
        </Link>
        <h1 className="text-2xl font-semibold">
          Lab {lab.order}: {lab.title}
        </h1>
        <div className="ml-auto flex items-center gap-2">
          {sid ? (
            <button type="button" data-testid="lab-leave" disabled={!!busy} onClick={() => void leave()} className={`${btn} border-rose-700 text-rose-200 hover:bg-rose-950`}>
              {busy === 'leaving' ? 'Leaving…' : 'Leave the lab'}
            </button>
          ) : (
            <button type="button" data-testid="lab-start" disabled={!!busy} onClick={() => void start()} className={`${btn} border-sky-500 bg-sky-600 text-white hover:bg-sky-500`}>
              {busy === 'starting' ? 'Making the containers…' : 'Start the lab'}
            </button>
          )}
        </div>
      </div>
      {note && (
        <p className="rounded-md border border-slate-700 bg-slate-900 px-3 py-2 text-sm text-slate-200" data-testid="lab-note">
          {note}
        </p>
      )}
      {lab.corrections.length > 0 && (
        <details className="rounded-md border border-amber-800/60 bg-slate-900 px-3 py-2 text-sm">
          <summary className="cursor-pointer text-amber-200">Where the seed is wrong or loose ({lab.corrections.length})</summary>
          <ul className="mt-2 list-disc pl-5 text-slate-300">
            {lab.corrections.map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ul>
        </details>
      )}
      <ol className="flex flex-wrap gap-2" aria-label="steps">
        {lab.steps.map((s, i) => {
          const green = state?.steps.find((x) => x.id === s.id)?.passed ?? false;
          return (
            <li key={s.id}>
              <button
                type="button"
                onClick={() => go(i)}
                aria-current={i === stepIndex ? 'step' : undefined}
                data-testid={`step-pill-${s.id}`}
                data-passed={green ? 'true' : 'false'}
                className={`rounded-full border px-3 py-1 text-sm ${i === stepIndex ? 'border-sky-400 text-sky-100' : 'border-slate-700 text-slate-300'} ${green ? 'bg-emerald-900/60' : ''}`}
              >
                {green ? '✓ ' : ''}
                {i + 1}. {s.title}
              </button>
            </li>
          );
        })}
      </ol>

      <div className="grid grid-cols-1 gap-4 xl:grid-cols-[minmax(0,34rem)_minmax(0,1fr)]">
        <section className="rounded-xl border border-slate-800 bg-slate-900/50 p-4" data-testid="lab-step" data-step={step.id}>
          <div className="text-sm text-gb-muted">
            Step {stepIndex + 1} of {lab.steps.length}
          </div>
          <h2 className="mb-2 text-xl font-semibold text-slate-100" data-testid="step-title">
            {step.title}
          </h2>
          {!sid && <p className="mb-2 text-sm text-amber-200">Start the lab to get its containers and terminals: the Run buttons type into them.</p>}
          <LabMarkdown source={step.markdown} run={{ fill: (c) => fillContainerNames(c, names), onRun: run, disabled: !sid }} />
          <Check step={step} passed={sid ? passed : null} detail={sid ? stepState?.detail : undefined} />
          {passed && step.whatHappened && (
            <div className="mt-4 rounded-lg border border-sky-800 bg-sky-950/30 px-3 py-2" data-testid="what-happened">
              <div className="mb-1 text-sm font-semibold text-sky-200">What just happened</div>
              <LabMarkdown source={step.whatHappened} />
            </div>
          )}
          {step.hints.length > 0 && (
            <div className="mt-4">
              {step.hints.slice(0, hints).map((h, i) => (
                <div key={i} className="mb-2 rounded-md border border-slate-700 bg-slate-900 px-3 py-1.5 text-sm" data-testid="hint">
                  <span className="font-semibold text-amber-200">Hint {i + 1}: </span>
                  <LabMarkdown source={h} />
                </div>
              ))}
              {hints < step.hints.length && (
                <button type="button" data-testid="hint-button" onClick={() => setHints((n) => n + 1)} className={`${btn} border-slate-600 text-slate-200 hover:bg-slate-800`}>
                  {hints ? 'Another hint' : 'Show a hint'} ({step.hints.length - hints} left)
                </button>
              )}
            </div>
          )}
          <div className="mt-6 flex items-center gap-2">
            <button type="button" data-testid="prev-step" disabled={stepIndex === 0} onClick={() => go(stepIndex - 1)} className={`${btn} border-slate-600 text-slate-200 hover:bg-slate-800`}>
              ← Back
            </button>
            <button type="button" data-testid="next-step" disabled={stepIndex >= lab.steps.length - 1} onClick={() => go(stepIndex + 1)} className={`${btn} ml-auto border-sky-600 text-sky-100 hover:bg-sky-900`}>
              Next →
            </button>
          </div>
          {progress.finished && stepIndex === lab.steps.length - 1 && passed && (
            <p className="mt-4 text-emerald-300" data-testid="lab-done">
              Every check is green: lab done. Leave it to remove its containers.
            </p>
          )}
        </section>

        <div className="min-w-0 space-y-4">
          <section className="flex h-[26rem] flex-col overflow-hidden rounded-lg border border-slate-800 bg-slate-950">
            <div className="flex items-center gap-1 border-b border-slate-800 bg-slate-900 px-2 pt-2" role="tablist" aria-label="lab terminals">
              {lab.terminals.map((role) => {
                const c = state?.containers.find((x) => x.role === role);
                return (
                  <button
                    key={role}
                    type="button"
                    role="tab"
                    aria-selected={activeRole === role}
                    data-testid={`lab-terminal-tab-${role}`}
                    onClick={() => setActiveRole(role)}
                    className={`rounded-t-md px-3 py-1.5 text-sm ${activeRole === role ? 'bg-slate-950 text-sky-200' : 'text-slate-400 hover:bg-slate-800'}`}
                  >
                    {role}
                    {c && c.status !== 'running' ? <span className="ml-1 text-gb-muted">({c.status})</span> : null}
                  </button>
                );
              })}
              {state && (
                <span className="ml-auto pb-1 text-xs text-gb-muted" data-testid="lab-containers">
                  {state.containers.map((c) => `${c.name}: ${c.status}`).join(' · ')}
                </span>
              )}
            </div>
            <div className="relative min-h-0 flex-1 p-2">
              {sid && state ? (
                lab.terminals.map((role) => {
                  const term = progress.terminals[role];
                  const cid = idOf[role] ?? null;
                  return term ? <Terminal key={term} containerId={cid} sessionId={term} active={activeRole === role} fontSize={large ? 20 : 15} /> : null;
                })
              ) : (
                <div className="grid h-full place-items-center text-gb-muted">No session: start the lab.</div>
              )}
            </div>
          </section>

          <section className="rounded-xl border border-slate-800 bg-slate-900/50 p-4" data-testid="lab-diagram" data-kind={kind}>
            <div className="mb-3 flex flex-wrap items-center gap-2">
              <h2 className="text-lg font-semibold text-slate-100">Inside the kernel</h2>
              {highlightOther && (
                <span className="text-sm text-amber-200" data-testid="lab-highlight">
                  look at: {highlightOther}
                </span>
              )}
              <div className="ml-auto flex flex-wrap gap-1" role="tablist" aria-label="diagrams">
                {KINDS.map((k) => (
                  <button
                    key={k}
                    type="button"
                    role="tab"
                    aria-selected={kind === k}
                    onClick={() => setKind(k)}
                    className={`rounded-md px-3 py-1 text-sm font-semibold ${kind === k ? 'bg-sky-600 text-white' : 'border border-slate-700 text-slate-300 hover:bg-slate-800'}`}
                  >
                    {k}
                  </button>
                ))}
              </div>
            </div>
            {step.diagram && !(KINDS as string[]).includes(step.diagram) && (
              <p className="mb-2 text-sm text-gb-muted">
                This step&apos;s {step.diagram} view is on the container&apos;s page
                {idOf[highlightRole] ? (
                  <>
                    {' '}
                    (
                    <Link className="text-sky-300 underline" href={`/containers/${idOf[highlightRole]}`}>
                      open it
                    </Link>
                    )
                  </>
                ) : null}
                .
              </p>
            )}
            {sid && state ? <StepDiagram key={kind} kind={kind} containerId={idOf[highlightRole] ?? null} highlight={highlightOther} /> : <p className="text-gb-muted">The diagram follows the lab&apos;s containers once it runs.</p>}
          </section>
        </div>
      </div>
    </div>
  );
}
