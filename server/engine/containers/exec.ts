// Exec sessions: `gb-helper exec SPEC` run under a pty (node-pty) for terminals and `docker exec
// -t`, or with pipes otherwise. The helper setns()s into the container and runs the command as
// its child; killing the helper's process group ends the session with nothing left behind.
import { readFileSync, rmSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import pty from 'node-pty';
import { setCloexec } from '../../../native/libc.js';
import type { ExecProcess, HelperFailure } from '../api.js';
import { spawnProcess } from '../util/spawner.js';

/** How long an exec's output may still arrive after its process exited (see the exit handler). */
const EXEC_DRAIN_MS = 250;

export interface ExecLaunch {
  execId: string;
  containerId: string;
  helper: string;
  specPath: string;
  /** files to remove when the session ends (its seccomp filter copy) */
  extraFiles?: string[];
  /**
   * instead of `helper exec SPEC STATUS`: a runtime's own exec CLI run on the host (runsc exec:
   * setns cannot enter gVisor's Sentry). Its stdio is the session's, as the helper's would be.
   */
  command?: { file: string; args: string[]; env: Record<string, string> };
  tty: boolean;
  cols?: number;
  rows?: number;
  onExit?: (code: number) => void;
}

/**
 * The helper's error line from the STATUS file, if it wrote one (`gb-helper exec SPEC STATUS`, see
 * PROTOCOL.md): the same {"error","step","errno"} object `run` mode writes on its status channel.
 */
export function readExecFailure(statusPath: string): HelperFailure | null {
  let text = '';
  try {
    text = readFileSync(statusPath, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as { error?: unknown; step?: unknown; errno?: unknown };
      if (typeof o.error === 'string') return { step: typeof o.step === 'string' ? o.step : 'exec', message: o.error, ...(typeof o.errno === 'string' ? { errno: o.errno } : {}) };
    } catch {
      return { step: 'exec', message: line.slice(0, 500) };
    }
  }
  return null;
}

/** What the user reads: the same words the helper used to print itself. */
export function failureText(f: HelperFailure): string {
  return `gb-helper exec: ${f.step}: ${f.message}${f.errno ? ` (${f.errno})` : ''}`;
}

const signalName = (n: number | undefined | null): string | null =>
  n ? (Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? String(n)) : null;

export function launchExec(l: ExecLaunch): ExecProcess {
  const dataCbs: ((d: Buffer) => void)[] = [];
  const errCbs: ((d: Buffer) => void)[] = [];
  const exitCbs: ((code: number, signal: string | null) => void)[] = [];
  let exitInfo: { code: number; signal: string | null } | null = null;
  let failure: HelperFailure | null = null;
  const statusPath = `${l.specPath}.status`;
  const finish = (code: number, signal: string | null) => {
    if (exitInfo) return;
    exitInfo = { code, signal };
    failure = readExecFailure(statusPath);
    if (failure) {
      // a tty has only one stream, and it is raw: the line needs its own carriage return
      const text = failureText(failure);
      if (l.tty) for (const cb of dataCbs) cb(Buffer.from(text + '\r\n'));
      else for (const cb of errCbs) cb(Buffer.from(text + '\n'));
    }
    rmSync(l.specPath, { force: true });
    rmSync(statusPath, { force: true });
    for (const f of l.extraFiles ?? []) rmSync(f, { force: true });
    l.onExit?.(code);
    for (const cb of exitCbs) cb(code, signal);
  };

  if (l.tty) {
    const term = pty.spawn(l.command?.file ?? l.helper, l.command?.args ?? ['exec', l.specPath, statusPath], {
      name: 'xterm-256color',
      cols: l.cols ?? 80,
      rows: l.rows ?? 24,
      cwd: '/',
      env: l.command?.env ?? {},
      encoding: null,
    });
    // node-pty opens the master without O_CLOEXEC: every process the server starts later would
    // inherit it, and a container holding another learner's pty master can type into that shell
    setCloexec((term as unknown as { fd: number }).fd);
    term.onData((d) => {
      const buf = typeof d === 'string' ? Buffer.from(d) : Buffer.from(d as unknown as Uint8Array);
      for (const cb of dataCbs) cb(buf);
    });
    term.onExit(({ exitCode, signal }) => finish(signal ? 128 + signal : exitCode, signalName(signal)));
    return {
      execId: l.execId,
      containerId: l.containerId,
      pid: term.pid,
      tty: true,
      onData: (cb) => dataCbs.push(cb),
      onStderr: () => {},
      onExit: (cb) => (exitInfo ? cb(exitInfo.code, exitInfo.signal) : exitCbs.push(cb)),
      failure: () => failure,
      write: (d) => term.write(typeof d === 'string' ? d : d.toString('utf8')),
      end: () => {},
      resize: (cols, rows) => {
        if (!exitInfo) term.resize(Math.max(1, Math.floor(cols)), Math.max(1, Math.floor(rows)));
      },
      pause: () => term.pause(),
      resume: () => term.resume(),
      kill: (signal = 'SIGHUP') => {
        if (!exitInfo) {
          try {
            process.kill(term.pid, signal);
          } catch {
            /* already gone */
          }
        }
      },
    };
  }

  // eager: its exit status is wanted while a background process inside may hold its output open
  const child = spawnProcess(l.command?.file ?? l.helper, l.command?.args ?? ['exec', l.specPath, statusPath], { env: l.command?.env ?? {}, eager: true });
  child.stdout!.on('data', (d: Buffer) => dataCbs.forEach((cb) => cb(d)));
  child.stderr!.on('data', (d: Buffer) => errCbs.forEach((cb) => cb(d)));
  child.stdin!.on('error', () => {});
  // 'exit' can come before the last of stdout and stderr is read: the session ends once both
  // pipes are drained, or a moment after the exit when a background process inside still holds
  // them open (its output after that is not the exec's)
  let open = 2;
  let exited: { code: number; signal: string | null } | null = null;
  const settle = () => {
    if (exited && open === 0) finish(exited.code, exited.signal);
  };
  for (const s of [child.stdout!, child.stderr!]) s.once('close', () => (open--, settle()));
  child.on('exit', (code, signal) => {
    exited = { code: code ?? 128 + (signal ? osConstants.signals[signal] : 0), signal };
    settle();
    setTimeout(() => exited && finish(exited.code, exited.signal), EXEC_DRAIN_MS).unref();
  });
  child.on('error', () => finish(126, null));
  return {
    execId: l.execId,
    containerId: l.containerId,
    pid: child.pid ?? -1,
    tty: false,
    onData: (cb) => dataCbs.push(cb),
    onStderr: (cb) => errCbs.push(cb),
    onExit: (cb) => (exitInfo ? cb(exitInfo.code, exitInfo.signal) : exitCbs.push(cb)),
    failure: () => failure,
    write: (d) => {
      if (!child.stdin!.destroyed) child.stdin!.write(d);
    },
    end: () => child.stdin!.end(),
    resize: () => {},
    pause: () => child.stdout!.pause(),
    resume: () => child.stdout!.resume(),
    kill: (signal = 'SIGTERM') => {
      if (!exitInfo) child.kill(signal);
    },
  };
}
