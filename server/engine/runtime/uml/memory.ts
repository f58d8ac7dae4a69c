// -m is the guest's RAM (mem=), and the guest kernel decides what to do when it runs out. The
// UML process needs more than that on the host: its kernel's own pages, page tables and the host
// processes of the guest's address spaces (measured here: ~30 MB with an idle guest, the guest's
// touched RAM on top). So, like a VM monitor's overhead, the container's cgroup gets this much
// more than -m; otherwise the host's OOM killer would kill the kernel before the guest's acts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RuntimePlan } from '../plan.js';

export const UML_OVERHEAD_BYTES = 64 * 1024 * 1024;
/** v1 writes "unlimited" as the largest page-aligned long */
const V1_UNLIMITED = 2n ** 62n;

/** Raise the cgroup's memory limit by UML_OVERHEAD_BYTES (when it has one): the file writes made. */
export function addUmlOverhead(plan: RuntimePlan): { file: string; wrote: string }[] {
  const done: { file: string; wrote: string }[] = [];
  const raise = (file: string) => {
    if (!existsSync(file)) return;
    const now = readFileSync(file, 'utf8').trim();
    if (now === 'max' || BigInt(now) >= V1_UNLIMITED) return;
    const wrote = String(BigInt(now) + BigInt(UML_OVERHEAD_BYTES));
    writeFileSync(file, wrote);
    done.push({ file, wrote });
  };
  for (const procs of plan.cgroupProcs) {
    const dir = dirname(procs);
    if (existsSync(join(dir, 'memory.max'))) raise(join(dir, 'memory.max')); // v2
    else if (existsSync(join(dir, 'memory.limit_in_bytes'))) {
      // v1: memory+swap must never be below memory, so it goes up first
      raise(join(dir, 'memory.memsw.limit_in_bytes'));
      raise(join(dir, 'memory.limit_in_bytes'));
    }
  }
  return done;
}
