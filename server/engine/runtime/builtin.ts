// The builtin runtime driver: starts gb-helper in run mode, turns its status channel into
// timeline steps, and hands the engine the created (not yet started) container. See
// native/PROTOCOL.md for what the helper does at each step.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../project-root.js';
import type { TimelineStep } from '../types.js';
import { spawnProcess, type SpawnedProcess } from '../util/spawner.js';
import { sealedHelperPath } from './sealed-helper.js';
import { isHelperStep, type HelperStep } from './helper-steps.js';

export const HELPER_PATH = process.env.GLASSBOX_HELPER ?? join(PROJECT_ROOT, 'native', 'build', 'gb-helper');

export function helperPath(): string {
  if (!existsSync(HELPER_PATH)) {
    throw new Error(`the low-level helper is not built (${HELPER_PATH}): run "npm run build:native"`);
  }
  return HELPER_PATH;
}

/**
 * What to exec for `gb-helper run|exec`: a sealed in-memory copy of the helper, reached through
 * dir/gb-helper (see sealed-helper.ts), so that no container can open the host's file through
 * /proc/PID/exe. `gb-helper version` may run from the file.
 */
export function helperExecutable(dir: string): string {
  return sealedHelperPath(helperPath(), dir);
}

/** A failure the helper reported: one line naming the step (helper-steps.ts) and the errno. */
export class HelperError extends Error {
  constructor(
    message: string,
    /** a listed step; 'helper' when the line named none (or one the engine does not know) */
    readonly step: HelperStep | 'helper',
    readonly errno: string | undefined,
  ) {
    super(message);
    this.name = 'HelperError';
  }
}

interface StatusLine {
  step?: string;
  ms?: number;
  call?: string;
  file?: string;
  wrote?: string;
  detail?: string;
  by?: string;
  created?: boolean;
  ready?: boolean;
  exited?: boolean;
  pid?: number;
  monitor?: number;
  code?: number;
  signal?: string | null;
  error?: string;
  errno?: string;
}

export interface CreatedContainer {
  pid: number;
  monitorPid: number;
  /** release the container from the create barrier: resolves once the command was exec'd */
  start(): Promise<void>;
  /** give up before start: the helper kills the child and exits */
  abort(): void;
  /** resolves when the monitor has exited (init ended and exit.json was written) */
  exited: Promise<void>;
  process: SpawnedProcess;
}

/**
 * Spawn `gb-helper run SPEC`. Steps reported by the helper are appended to `timeline` with their
 * time relative to `t0` (performance.now() at the start of the creation).
 */
export function runHelper(specPath: string, timeline: TimelineStep[], t0: number, helper: string = helperPath()): Promise<CreatedContainer> {
  // The monitor outlives the server: its own session, not killed with our process group.
  // spawnProcess: a cost that does not grow with the server's memory (util/spawner.ts).
  const child = spawnProcess(helper, ['run', specPath], { detached: true });
  child.stdin!.on('error', () => {}); // the helper may have exited already
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });

  let resolveCreated!: (c: CreatedContainer) => void;
  let rejectCreated!: (e: Error) => void;
  const created = new Promise<CreatedContainer>((res, rej) => {
    resolveCreated = res;
    rejectCreated = rej;
  });
  let resolveReady: (() => void) | null = null;
  let rejectReady: ((e: Error) => void) | null = null;
  let failure: HelperError | null = null;
  let phase: 'creating' | 'created' | 'ready' = 'creating';

  lines.on('line', (text) => {
    let msg: StatusLine;
    try {
      msg = JSON.parse(text) as StatusLine;
    } catch {
      return; // not a status line: ignore rather than fail a container on a stray print
    }
    const now = performance.now() - t0;
    if (msg.error) {
      failure = new HelperError(msg.error, msg.step && isHelperStep(msg.step) ? msg.step : 'helper', msg.errno);
      timeline.push({ step: msg.step ?? 'error', by: 'monitor', at: now, ms: 0, detail: `failed: ${msg.error}` });
      return;
    }
    if (msg.step) {
      const ms = msg.ms ?? 0;
      timeline.push({
        step: msg.step,
        by: msg.by === 'child' ? 'child' : msg.by === 'engine' ? 'engine' : 'monitor',
        at: Math.max(0, now - ms),
        ms,
        call: msg.call,
        file: msg.file,
        wrote: msg.wrote,
        detail: msg.detail,
      });
      return;
    }
    if (msg.created && phase === 'creating') {
      phase = 'created';
      const pid = msg.pid!;
      const monitorPid = msg.monitor ?? child.pid!;
      resolveCreated({
        pid,
        monitorPid,
        process: child,
        exited,
        start: () =>
          new Promise<void>((res, rej) => {
            resolveReady = res;
            rejectReady = rej;
            child.stdin!.end('start\n');
          }),
        abort: () => child.stdin!.end(),
      });
      return;
    }
    if (msg.ready) {
      phase = 'ready';
      resolveReady?.();
      resolveReady = null;
    }
  });

  child.once('exit', (code, signal) => {
    const err =
      failure ??
      new HelperError(
        `the helper ended before the container ${phase === 'creating' ? 'was created' : 'started'} (exit ${code ?? signal})${stderr ? `: ${stderr.trim()}` : ''}`,
        'helper',
        undefined,
      );
    if (phase === 'creating') rejectCreated(err);
    // A command that exits at once may end before we read "ready": that is a start, not a failure.
    else if (rejectReady && !failure) resolveReady?.();
    else rejectReady?.(err);
  });
  child.once('error', (e) => rejectCreated(e));
  return created;
}

/** Let the server exit while the container runs on (engine.close): the monitor does not need us. */
export function releaseHelper(child: SpawnedProcess): void {
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
}
