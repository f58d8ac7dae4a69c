// What the CLI remembers of a container between its invocations: ROOT/<id>/state.json (written
// atomically), next to the monitor's own files (exit.json, monitor.pid) and the start FIFO.
// The status is never stored: it is read from the processes each time (runc does the same), so a
// container whose init died is "stopped" even if nobody told the CLI.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './args.js';

export interface StoredContainer {
  id: string;
  /** init's pid, and its start time (field 22 of /proc/PID/stat): a reused pid is not ours */
  pid: number;
  pidStart: string;
  monitorPid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  ociVersion: string;
  /** set by start before it releases the barrier */
  started: boolean;
  /** config.json had no process: start refuses (and ends the container) */
  noProcess?: boolean;
  /** its own cgroup directories, made for it (removed by delete) */
  cgroupDirs: string[];
  /** parent directories made with them (delete removes those left empty) */
  cgroupParents: string[];
  /** the cgroup.procs files of all its cgroups (exec joins them) */
  cgroupProcs: string[];
}

export type Status = 'creating' | 'created' | 'running' | 'stopped';

export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Make ROOT/<id> for a new container: fails if the id is taken (mkdir is the lock). */
  claim(id: string): string {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`container with id exists: ${id}`);
      throw e;
    }
    return dir;
  }

  save(c: StoredContainer): void {
    const file = join(this.dir(c.id), 'state.json');
    writeFileSync(file + '.tmp', JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
    renameSync(file + '.tmp', file);
  }

  load(id: string): StoredContainer {
    const file = join(this.dir(id), 'state.json');
    if (!existsSync(file)) throw new UsageError(`container does not exist: ${id}`);
    return JSON.parse(readFileSync(file, 'utf8')) as StoredContainer;
  }

  ids(): string[] {
    try {
      return readdirSync(this.root).filter((n) => existsSync(join(this.root, n, 'state.json')));
    } catch {
      return [];
    }
  }

  /** the config.json the container was created from (a copy in its state directory) */
  config(id: string): import('../engine/runtime/bundle.js').OciConfig {
    return JSON.parse(readFileSync(join(this.dir(id), 'config.json'), 'utf8'));
  }

  exitInfo(id: string): { code: number; signal: string | null } | null {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'exit.json'), 'utf8')) as { code: number; signal: string | null };
    } catch {
      return null;
    }
  }

  status(c: StoredContainer): Status {
    if (this.exitInfo(c.id)) return 'stopped';
    if (!sameProcess(c.pid, c.pidStart) || isZombie(c.pid)) return 'stopped';
    return c.started ? 'running' : 'created';
  }
}

/** Field 22 of /proc/PID/stat (the start time in clock ticks), or null when there is no such process. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export function sameProcess(pid: number, start: string): boolean {
  return pid > 0 && processStart(pid) === start;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** runc's state JSON (the OCI runtime spec's State, plus rootfs, created, owner as runc prints). */
export function stateJson(store: Store, c: StoredContainer): Record<string, unknown> {
  const status = store.status(c);
  return {
    ociVersion: c.ociVersion,
    id: c.id,
    pid: status === 'stopped' ? 0 : c.pid,
    status,
    bundle: c.bundle,
    rootfs: c.rootfs,
    created: c.created,
    owner: c.owner,
    annotations: c.annotations,
  };
}
