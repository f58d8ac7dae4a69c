// `delete`: remove a stopped (or created) container: its monitor, cgroups and state directory,
// then the poststop hooks. A running one only with --force (SIGKILL first).
import { existsSync, rmSync } from 'node:fs';
import { bool, checkId, parseFlags, UsageError } from './args.js';
import { cgroupPids, removeCgroups, removeEmptyParents } from './cgroups.js';
import type { Context } from './context.js';
import { processStart, type StoredContainer } from './container-store.js';
import { abortMonitor } from './create.js';
import { runHooksWarning } from './hooks.js';
import { dirname } from 'node:path';

async function waitGone(pid: number, ms: number): Promise<void> {
  for (let t = 0; t < ms && processStart(pid) !== null; t += 10) await new Promise((r) => setTimeout(r, 10));
}

export async function deleteContainer(ctx: Context, c: StoredContainer, force: boolean): Promise<void> {
  const dir = ctx.store.dir(c.id);
  const status = ctx.store.status(c);
  // the runtime spec: deleting a container that is not stopped is an error (created too)
  if (status !== 'stopped' && !force) throw new UsageError(`cannot delete container ${c.id} that is not stopped: ${status}`);
  const state = { ociVersion: c.ociVersion, id: c.id, pid: c.pid, status: 'stopped', bundle: c.bundle, annotations: c.annotations };
  // a monitor still at the barrier (created, or its init killed before start) waits for a line
  if (!c.started) abortMonitor(dir, c.monitorPid);
  if (status === 'running') {
    // init first; without a pid namespace its children would live on, so the whole cgroup too
    for (const pid of [c.pid, ...cgroupPids(c.cgroupProcs.map((f) => dirname(f)))]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await waitGone(c.monitorPid, 5000);
  let config;
  try {
    config = ctx.store.config(c.id);
  } catch {
    config = undefined;
  }
  await removeCgroups(c.cgroupDirs);
  removeEmptyParents(c.cgroupParents ?? []);
  rmSync(dir, { recursive: true, force: true });
  await runHooksWarning(config?.hooks?.poststop, state, 'poststop', ctx.warn);
}

export async function deleteCommand(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, [{ name: 'force', short: 'f' }], 'delete');
  if (p.rest.length !== 1) throw new UsageError(`delete: expected one container id, got ${p.rest.length}`);
  const id = checkId(p.rest[0], 'delete');
  const force = bool(p, 'force');
  let c: StoredContainer;
  try {
    c = ctx.store.load(id);
  } catch (e) {
    // a create that died half-way leaves a directory without state.json: --force clears it
    if (force) {
      if (existsSync(ctx.store.dir(id))) rmSync(ctx.store.dir(id), { recursive: true, force: true });
      return 0;
    }
    throw e;
  }
  await deleteContainer(ctx, c, force);
  return 0;
}
