'use client';
// One column per runtime of a comparison, side by side: the measured start (create → running,
// create → exit), the memory the runtime itself costs (the host processes' PSS beyond what the
// processes inside count as theirs), the kernel the process sees, ps, dmesg and the effective
// capabilities inside, the command's exit code and output, and each run's creation timeline.
import type { RuntimeComparison, RuntimeResult } from '../server/engine/compare/types';
import { Timeline } from './Timeline';
import { ms } from './lib/format';

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

function Figure({ label, value, testId, note }: { label: string; value: string; testId: string; note?: string }) {
  return (
    <div className="rounded bg-slate-950 px-2 py-1">
      <div className="text-xs text-slate-400">{label}</div>
      <div className="font-mono text-lg tabular-nums text-slate-100" data-testid={testId}>
        {value}
      </div>
      {note ? <div className="text-xs text-slate-400">{note}</div> : null}
    </div>
  );
}

function Lines({ title, lines, testId }: { title: string; lines: string[]; testId: string }) {
  return (
    <div>
      <div className="mb-0.5 text-xs font-semibold text-slate-300">{title}</div>
      <pre data-testid={testId} className="max-h-40 overflow-auto rounded bg-slate-950 p-2 font-mono text-xs leading-5 text-slate-200">
        {lines.length ? lines.join('\n') : '(nothing)'}
      </pre>
    </div>
  );
}

function Column({ r, hostKernel }: { r: RuntimeResult; hostKernel: string }) {
  const last = r.runs[r.runs.length - 1];
  const probe = [...r.probes].reverse().find((p) => p.memory);
  const failed = r.startMs === null;
  return (
    <section data-testid={`runtime-col-${r.runtime}`} className={`min-w-0 space-y-3 rounded-xl border p-3 ${failed ? 'border-rose-800 bg-rose-950/30' : 'border-slate-700 bg-slate-900/60'}`}>
      <header>
        <h3 className="font-mono text-lg font-semibold text-sky-200">{r.runtime}</h3>
        <p className="text-xs text-slate-400">{r.description}</p>
      </header>
      {failed ? (
        <p role="alert" data-testid={`runtime-error-${r.runtime}`} className="whitespace-pre-wrap break-words text-sm text-rose-200">
          {r.error ?? 'did not start'}
        </p>
      ) : (
        <>
          <div className="grid grid-cols-2 gap-2">
            <Figure label="create → running" value={ms(r.startMs!)} testId={`start-${r.runtime}`} note={r.runs.length > 1 ? `median of ${r.runs.length}` : undefined} />
            <Figure label="create → exited" value={r.exitMs === null ? '–' : ms(r.exitMs)} testId={`exit-${r.runtime}`} />
            <Figure label="runtime's memory" value={r.overheadKb === null ? '–' : mb(r.overheadKb)} testId={`overhead-${r.runtime}`} note={probe?.memory ? `PSS on the host ${mb(probe.memory.hostKb)} − inside ${mb(probe.memory.guestKb)} (${probe.memory.guestMeasure})` : undefined} />
            <Figure label="exit code" value={String(last?.exitCode ?? '–')} testId={`exitcode-${r.runtime}`} />
          </div>
          {r.error ? <p className="text-xs text-amber-200">{r.error}</p> : null}
          <div>
            <div className="text-xs text-slate-400">kernel the process sees (uname -r)</div>
            <div className="font-mono text-sm text-slate-100" data-testid={`kernel-${r.runtime}`}>
              {r.inside?.kernel ?? '–'}{' '}
              {r.inside ? (
                <span className={`ml-1 rounded px-1.5 text-xs ${r.inside.kernel === hostKernel ? 'bg-amber-900 text-amber-100' : 'bg-sky-900 text-sky-100'}`}>{r.inside.kernel === hostKernel ? "the host's" : 'not the host’s'}</span>
              ) : null}
            </div>
          </div>
          <Lines title="output of the command" lines={(last?.output ?? '').split('\n').filter(Boolean).slice(0, 12)} testId={`output-${r.runtime}`} />
          {r.inside ? (
            <>
              <Lines title="ps inside" lines={r.inside.ps} testId={`ps-${r.runtime}`} />
              <Lines title="dmesg inside (first lines)" lines={r.inside.dmesg} testId={`dmesg-${r.runtime}`} />
              <div>
                <div className="mb-0.5 text-xs font-semibold text-slate-300">
                  capabilities (CapEff <span className="font-mono">{r.inside.capEff}</span>): {r.inside.capabilities.length}
                </div>
                <div className="flex flex-wrap gap-1" data-testid={`caps-${r.runtime}`}>
                  {r.inside.capabilities.map((c) => (
                    <span key={c} className="rounded bg-slate-800 px-1 font-mono text-[11px] text-slate-200">
                      {c.replace(/^CAP_/, '')}
                    </span>
                  ))}
                </div>
              </div>
            </>
          ) : null}
          {probe?.memory ? (
            <details className="text-xs text-slate-300">
              <summary className="cursor-pointer">host processes counted ({probe.memory.processes.length}, PSS each)</summary>
              <table className="mt-1 w-full font-mono">
                <tbody>
                  {probe.memory.processes.map((p) => (
                    <tr key={p.pid}>
                      <td className="pr-2">{p.pid}</td>
                      <td className="pr-2">{p.comm}</td>
                      <td className="pr-2 text-slate-400">{p.via}</td>
                      <td className="text-right tabular-nums">{mb(p.kb)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          ) : null}
        </>
      )}
      {r.runs.map((run) => (
        <details key={run.round} className="text-sm text-slate-300" data-testid={`timeline-${r.runtime}-${run.round}`}>
          <summary className="cursor-pointer">
            round {run.round + 1}: creation timeline ({run.timeline.length} steps{run.startMs !== null ? `, running at ${ms(run.startMs)}` : ''})
          </summary>
          <div className="mt-2">
            <Timeline steps={run.timeline} />
          </div>
        </details>
      ))}
    </section>
  );
}

export function RuntimeColumns({ c }: { c: RuntimeComparison }) {
  return (
    <div className="overflow-x-auto">
      <div className="grid gap-3" style={{ gridTemplateColumns: `repeat(${c.results.length}, minmax(15rem, 1fr))` }} data-testid="runtime-columns">
        {c.results.map((r) => (
          <Column key={r.runtime} r={r} hostKernel={c.hostKernel} />
        ))}
      </div>
    </div>
  );
}
