// exec: one more process in a running container (setns into its namespaces, join its cgroup),
// and the registry of exec sessions that docker's exec inspect reads.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecOptions, ExecProcess } from '../api.js';
import { launchExec } from '../containers/exec.js';
import { resolveUser } from '../containers/users.js';
import { helperExecutable } from '../runtime/builtin.js';
import { buildExecPlan } from '../runtime/build-plan.js';
import { execSpec } from '../runtime/helper-spec.js';
import { runtimeCliEnv } from '../runtime/drivers/cli.js';
import { Conflict, InvalidArgument, NotFound } from '../types.js';
import { containerEvent, type EngineContext, type ExecEntry } from './context.js';
import { driverOf, launchContext } from './runtime-driver.js';

export async function execInContainer(ctx: EngineContext, idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
  const rec = ctx.records.find(idOrName);
  if (rec.state.status === 'paused') throw new Conflict(`Container ${rec.id} is paused, unpause the container before exec`);
  if (rec.state.status !== 'running') throw new Conflict(`Container ${rec.id} is not running`);
  if (!opts.cmd?.length) throw new InvalidArgument('No exec command specified');
  const execId = randomBytes(32).toString('hex');
  const runDir = join(ctx.runRoot, rec.id);
  const specPath = join(runDir, `exec-${execId.slice(0, 16)}.spec`);
  const user = resolveUser(rec.paths.rootfs, opts.user ?? rec.config.user, rec.config.groupAdd);
  const plan = buildExecPlan({
    rec,
    image: ctx.images.resolve(rec.image.id),
    user,
    opts,
    runDir,
    cgroupProcs: ctx.cgroups.procsFiles(rec.id),
    targetPid: rec.state.pid,
    targetStart: rec.state.pidStartTime ?? '',
  });
  const driver = driverOf(rec);
  if (driver.exec.mode === 'none') throw new Conflict(driver.exec.refusal);
  let command: { file: string; args: string[]; env: Record<string, string> } | undefined;
  if (driver.exec.mode === 'cli') {
    // the runtime's own exec (runsc): the same user, environment and directory the plan chose
    const argv = driver.exec.argv(launchContext(ctx, rec, null), { args: plan.args, env: plan.env, cwd: plan.cwd, user: { uid: plan.user.uid, gid: plan.user.gid }, tty: opts.tty ?? false });
    command = { file: argv[0], args: argv.slice(1), env: runtimeCliEnv() };
  }
  writeFileSync(specPath, execSpec(plan), { mode: 0o600 });
  const entry: ExecEntry = { containerId: rec.id, process: undefined as unknown as ExecProcess, exitCode: null, config: opts };
  const proc = launchExec({
    execId,
    containerId: rec.id,
    helper: helperExecutable(ctx.runRoot),
    specPath,
    // the runtime's files for this exec (runsc's --process JSON) go with the session
    extraFiles: [...(plan.seccompBpf ? [plan.seccompBpf] : []), ...(command ? command.args.filter((_, i, a) => a[i - 1] === '--process') : [])],
    ...(command ? { command } : {}),
    tty: opts.tty ?? false,
    cols: opts.cols,
    rows: opts.rows,
    onExit: (code) => {
      entry.exitCode = code;
      ctx.emit(containerEvent('exec_die', rec, { execID: execId, exitCode: String(code) }));
    },
  });
  entry.process = proc;
  ctx.execs.set(execId, entry);
  ctx.emit(containerEvent('exec_start', rec, { execID: execId, command: opts.cmd.join(' ') }));
  return proc;
}

/** An exec session's state, for docker's exec inspect. */
export function execInfo(ctx: EngineContext, execId: string): { containerId: string; running: boolean; exitCode: number | null; pid: number; config: ExecOptions } {
  const e = ctx.execs.get(execId);
  if (!e) throw new NotFound(`No such exec instance: ${execId}`);
  return { containerId: e.containerId, running: e.exitCode === null, exitCode: e.exitCode, pid: e.process.pid, config: e.config };
}
