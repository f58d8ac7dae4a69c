'use client';
// The seed's two tables with this machine's figures beside its claims: the runtimes (each row's
// measured start, memory and kernel, or why none can be measured here), and containers versus
// VMs (the container runtimes' figures against "100 ms–1 s", a kernel of its own against
// "30 s–2 min"). A figure comes from the comparison on the page; nothing is filled in otherwise.
import type { RuntimeAvailability, RuntimeComparison, RuntimeResult } from '../server/engine/compare/types';
import { ms } from './lib/format';
import { kernelKind, resultFor, RUNTIME_ROWS, VM_CLAIMS, type VmClaim } from './lib/runtime-claims';

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

function measured(r: RuntimeResult): string {
  if (r.startMs === null) return `did not run: ${r.error ?? 'no start'}`;
  const parts = [`running after ${ms(r.startMs)}`];
  if (r.exitMs !== null) parts.push(`exited after ${ms(r.exitMs)}`);
  if (r.overheadKb !== null) parts.push(`${mb(r.overheadKb)} of its own`);
  if (r.inside) parts.push(`uname -r ${r.inside.kernel}`);
  return parts.join(' · ');
}

function LiveCell({ row, c, listed }: { row: (typeof RUNTIME_ROWS)[number]; c: RuntimeComparison | null; listed: RuntimeAvailability[] }) {
  const r = resultFor(c, row.engineName);
  if (r) return <span className={r.startMs === null ? 'text-rose-200' : 'text-emerald-200'}>{measured(r)}</span>;
  if (row.cannot) return <span className="text-amber-200">{row.cannot}</span>;
  const l = listed.find((x) => x.name === row.engineName);
  if (!l) return <span className="text-slate-400">not listed by this engine</span>;
  if (!l.available) return <span className="text-rose-200">unavailable here: {l.error ?? 'no reason given'}</span>;
  return <span className="text-slate-400">available: tick it and run to measure</span>;
}

/** The figures of a comparison for one claim, split by how each runtime relates to the host's kernel. */
function claimFigures(claim: VmClaim, c: RuntimeComparison, memTotal: number | null): { containers: string[]; ownKernel: string[] } {
  const out = { containers: [] as string[], ownKernel: [] as string[] };
  for (const r of c.results) {
    if (r.startMs === null) continue;
    const kind = kernelKind(r, c.hostKernel);
    let text: string | null = null;
    switch (claim.measure) {
      case 'isolation':
        text = r.inside ? `${r.inside.capabilities.length} capabilities inside${r.inside.dmesg[0] ? `, dmesg: “${r.inside.dmesg[0].slice(0, 60)}”` : ''}` : null;
        break;
      case 'kernel':
        text = r.inside ? `${r.inside.kernel}${r.inside.kernel === c.hostKernel ? ' (the host’s)' : ` (host: ${c.hostKernel})`}` : null;
        break;
      case 'start':
        text = kind === 'own kernel' ? `boot, command and halt in ${r.exitMs === null ? '–' : ms(r.exitMs)} (its host process ran after ${ms(r.startMs)})` : `running after ${ms(r.startMs)}`;
        break;
      case 'memory':
        text = r.overheadKb === null ? null : mb(r.overheadKb);
        break;
      case 'density':
        text = r.overheadKb && memTotal ? `≈${Math.floor(memTotal / 1024 / r.overheadKb).toLocaleString('en')} by this host’s ${(memTotal / 2 ** 30).toFixed(0)} GB ÷ the runtime’s own memory` : null;
        break;
    }
    if (text === null) continue;
    const line = `${r.runtime}: ${text}`;
    if (kind === 'own kernel') out.ownKernel.push(line);
    else out.containers.push(kind === 'user-space kernel' ? `${line} (a user-space kernel)` : line);
  }
  return out;
}

export function RuntimeTables({ c, listed, memTotal }: { c: RuntimeComparison | null; listed: RuntimeAvailability[]; memTotal: number | null }) {
  return (
    <div className="space-y-6">
      <section className="rounded-xl border border-slate-800 bg-slate-900/50 p-4" data-testid="runtime-table">
        <h2 className="mb-2 text-xl font-semibold">The runtimes: what is claimed, what this machine measures</h2>
        <div className="overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <thead>
              <tr className="text-slate-300">
                <th className="w-44 py-1 pr-3">runtime</th>
                <th className="w-36 py-1 pr-3">written in</th>
                <th className="py-1 pr-3">the claim</th>
                <th className="w-[32%] py-1">measured here</th>
              </tr>
            </thead>
            <tbody>
              {RUNTIME_ROWS.map((row) => (
                <tr key={row.title} className="border-t border-slate-800 align-top" data-testid={`runtime-row-${row.engineName ?? row.title.toLowerCase().replace(/\W+/g, '-')}`}>
                  <td className="py-2 pr-3 font-semibold text-slate-100">
                    {row.title}
                    {row.engineName ? <div className="font-mono text-xs font-normal text-slate-400">--runtime {row.engineName}</div> : null}
                  </td>
                  <td className="py-2 pr-3 text-slate-300">{row.written}</td>
                  <td className="py-2 pr-3 text-slate-200">{row.claim}</td>
                  <td className="py-2 text-xs">
                    <LiveCell row={row} c={c} listed={listed} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="rounded-xl border border-slate-800 bg-slate-900/50 p-4" data-testid="vm-table">
        <h2 className="mb-2 text-xl font-semibold">Containers versus virtual machines</h2>
        <p className="mb-2 text-sm text-slate-400">
          No hardware VM runs on this machine (no VT-x or AMD-V). The nearest thing is User-mode Linux, a kernel of its own run as a host process: its figures stand in the VM column, marked as such.
        </p>
        <div className="overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <thead>
              <tr className="text-slate-300">
                <th className="w-36 py-1 pr-3">aspect</th>
                <th className="py-1 pr-3">containers: the claim</th>
                <th className="py-1 pr-3">measured: runtimes on the host’s kernel</th>
                <th className="py-1 pr-3">VMs: the claim</th>
                <th className="py-1">measured: a kernel of its own</th>
              </tr>
            </thead>
            <tbody>
              {VM_CLAIMS.map((claim) => {
                const f = c ? claimFigures(claim, c, memTotal) : { containers: [], ownKernel: [] };
                return (
                  <tr key={claim.aspect} className="border-t border-slate-800 align-top" data-testid={`vm-row-${claim.measure}`}>
                    <td className="py-2 pr-3 font-semibold text-slate-100">{claim.aspect}</td>
                    <td className="py-2 pr-3 text-slate-200">{claim.containers}</td>
                    <td className="py-2 pr-3 font-mono text-xs text-emerald-200" data-testid={`vm-live-containers-${claim.measure}`}>
                      {f.containers.length ? f.containers.map((l) => <div key={l}>{l}</div>) : <span className="text-slate-500">run a comparison to fill this in</span>}
                    </td>
                    <td className="py-2 pr-3 text-slate-200">{claim.vms}</td>
                    <td className="py-2 font-mono text-xs text-sky-200" data-testid={`vm-live-own-${claim.measure}`}>
                      {f.ownKernel.length ? f.ownKernel.map((l) => <div key={l}>{l} (no hardware VM)</div>) : <span className="text-slate-500">{listed.some((l) => l.name === 'uml') ? 'tick uml to fill this in' : 'no runtime with a kernel of its own is listed here'}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
