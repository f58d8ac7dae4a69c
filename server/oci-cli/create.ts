// `create`: set the container up and stop it at the create barrier (its namespaces, mounts and
// cgroups exist; its command has not run). gb-helper becomes the container's monitor and outlives
// this command: its status channel is ROOT/<id>/status.jsonl, and it waits for one line on the
// FIFO ROOT/<id>/start.fifo ("start" from the start verb, anything else from delete).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { BundleError, planFromBundle, type OciConfig } from '../engine/runtime/bundle.js';
import { helperPath } from '../engine/runtime/builtin.js';
import { encodeField, runSpec } from '../engine/runtime/helper-spec.js';
import { applySysctls } from '../engine/lifecycle/sysctls.js';
import { checkId, parseFlags, str, UsageError, type FlagSpec } from './args.js';
import { applyResources, makeCgroups, procsFiles, removeCgroups, removeEmptyParents } from './cgroups.js';
import { processStart, stateJson, type StoredContainer } from './container-store.js';
import type { Context } from './context.js';
import { runHooks } from './hooks.js';
import { mkfifo, readStatus, tellMonitor } from './monitor-channel.js';

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'bundle', short: 'b', value: true },
  { name: 'console-socket', value: true },
  { name: 'pid-file', value: true },
  { name: 'no-pivot' },
  { name: 'no-new-keyring' },
  { name: 'preserve-fds', value: true },
];

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: string;
}

export function createOptions(argv: string[], command: string, extra: FlagSpec[] = []): { id: string; opts: CreateOptions; flags: ReturnType<typeof parseFlags> } {
  const p = parseFlags(argv, [...CREATE_FLAGS, ...extra], command);
  if (p.rest.length > 1) throw new UsageError(`${command}: expected one container id, got ${p.rest.length}: ${p.rest.join(' ')}`);
  const id = checkId(p.rest[0], command);
  return { id, opts: { bundle: resolve(str(p, 'bundle') ?? process.cwd()), pidFile: str(p, 'pid-file'), consoleSocket: str(p, 'console-socket'), preserveFds: str(p, 'preserve-fds') }, flags: p };
}

/** config.json of a bundle, or a message naming what is wrong (nothing is made before this). */
export function readBundle(bundle: string): OciConfig {
  const file = join(bundle, 'config.json');
  if (!existsSync(bundle)) throw new UsageError(`bundle ${bundle}: no such directory (--bundle)`);
  if (!existsSync(file)) throw new UsageError(`bundle ${bundle}: config.json not found (make one with "glassbox-runtime spec")`);
  let config: OciConfig;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as OciConfig;
  } catch (e) {
    throw new UsageError(`bundle ${bundle}: config.json is not JSON: ${(e as Error).message}`);
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new UsageError(`bundle ${bundle}: config.json must hold an object`);
  if (typeof config.ociVersion !== 'string') throw new BundleError('ociVersion: missing');
  return config;
}

export async function createContainer(ctx: Context, id: string, opts: CreateOptions): Promise<StoredContainer> {
  const config = readBundle(opts.bundle);
  // The runtime spec lets a container be created without a process: start must then fail. Its
  // init waits at the barrier with a placeholder command that start never releases.
  const noProcess = config.process === undefined;
  if (noProcess) config.process = { args: ['process-not-set'], cwd: '/', user: { uid: 0, gid: 0 } };
  if (config.process?.terminal) {
    throw new UsageError(
      opts.consoleSocket
        ? 'process.terminal: --console-socket is not supported by Glassbox\'s runtime yet: set "terminal": false'
        : 'process.terminal is true but no --console-socket was given (use "terminal": false for pass-through stdio)',
    );
  }
  if (opts.preserveFds && opts.preserveFds !== '0') throw new UsageError('--preserve-fds: Glassbox\'s runtime passes no descriptors but stdio');
  for (const h of ['createContainer', 'startContainer'] as const) {
    if (config.hooks?.[h]?.length) throw new BundleError(`hooks.${h}: hooks inside the container's namespaces are not supported by Glassbox's runtime`);
  }
  const dir = ctx.store.claim(id);
  let cgroupDirs: string[] = [];
  let cgroupParents: string[] = [];
  let monitorPid = 0;
  try {
    const cgroupsPath = config.linux?.cgroupsPath ?? `/glassbox-runtime/${id}`;
    const cg = makeCgroups(cgroupsPath);
    // the container's own cgroups go with it (those it made); parents it made are shared with
    // other containers: delete only tries rmdir on them, which fails harmlessly while one is used
    const leaves = new Set(Object.values(cg.dirs));
    cgroupDirs = cg.made.filter((d) => leaves.has(d));
    cgroupParents = cg.made.filter((d) => !leaves.has(d));
    applyResources(cg, config.linux?.resources, config.linux?.devices ?? []);
    const plan = planFromBundle({
      bundle: opts.bundle,
      config,
      id,
      stateDir: dir,
      cgroupProcs: procsFiles(cg),
      cgroupDirs: cg.dirs,
      cgroupVersion: cg.version,
      cgroupsPath,
    });
    // init's stdio is ours (runc's pass-through): the monitor takes fds 0-2 out of this process
    // with pidfd_getfd while we wait for "created"
    const spec = runSpec(plan, { createBarrier: true }) + `stdio_from ${encodeField(process.pid)}\n`;
    writeFileSync(join(dir, 'helper.spec'), spec, { mode: 0o600 });
    // exec and delete read the config the container was made from, not the bundle's current one
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config), { mode: 0o600 });
    ctx.debug(`helper spec written to ${join(dir, 'helper.spec')}`);

    const fifo = join(dir, 'start.fifo');
    mkfifo(fifo);
    // O_RDWR: the open does not wait for a writer, and the monitor never sees EOF when we exit
    const fifoFd = openSync(fifo, 'r+');
    const statusFd = openSync(join(dir, 'status.jsonl'), 'a', 0o600);
    const errFd = openSync(join(dir, 'helper.stderr'), 'a', 0o600);
    const child = spawn(helperPath(), ['run', join(dir, 'helper.spec')], { detached: true, stdio: [fifoFd, statusFd, errFd] });
    child.unref();
    closeSync(fifoFd);
    closeSync(statusFd);
    closeSync(errFd);
    monitorPid = child.pid ?? 0;
    const created = await readStatus(dir, (m) => m.created === true, monitorPid);
    const pid = created.pid as number;
    monitorPid = (created.monitor as number) ?? monitorPid;
    const stored: StoredContainer = {
      id,
      pid,
      pidStart: processStart(pid) ?? '',
      monitorPid,
      bundle: opts.bundle,
      rootfs: plan.rootfs,
      created: new Date().toISOString(),
      owner: userInfo().username,
      annotations: config.annotations ?? {},
      ociVersion: config.ociVersion ?? '1.0.2',
      started: false,
      noProcess,
      cgroupDirs,
      cgroupParents,
      cgroupProcs: procsFiles(cg),
    };
    ctx.store.save(stored);
    if (config.linux?.sysctl && Object.keys(config.linux.sysctl).length) {
      try {
        await applySysctls(pid, config.linux.sysctl);
      } catch (e) {
        throw new BundleError(`linux.sysctl: ${(e as Error).message}`);
      }
    }
    const state = { ...stateJson(ctx.store, stored), status: 'created', pid };
    // (prestart hooks run in start: see start.ts)
    await runHooks(config.hooks?.createRuntime, state, 'createRuntime');
    if (opts.pidFile) writeFileSync(opts.pidFile, String(pid));
    return stored;
  } catch (e) {
    // undo: the monitor (abort at the barrier kills init), the cgroups, the state directory
    abortMonitor(dir, monitorPid);
    await removeCgroups(cgroupDirs).catch(() => {});
    removeEmptyParents(cgroupParents);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Tell a monitor waiting at the barrier to give up (it kills init), and wait for it to go. */
export function abortMonitor(dir: string, monitorPid: number): void {
  tellMonitor(dir, 'abort');
  if (monitorPid > 0) {
    for (let i = 0; i < 200 && processStart(monitorPid) !== null && !isZombieOrGone(monitorPid); i++) sleepMs(10);
    // a monitor that did not get as far as the barrier
    try {
      if (processStart(monitorPid) !== null) process.kill(monitorPid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function isZombieOrGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export async function createCommand(ctx: Context, argv: string[]): Promise<number> {
  const { id, opts } = createOptions(argv, 'create');
  await createContainer(ctx, id, opts);
  return 0;
}
