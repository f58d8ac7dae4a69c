// The LabKernel a check reads (format.ts): the session's containers as the engine's inspectors see
// them. Everything here reads; nothing changes the kernel. The container's own binaries are never
// run to answer a question (the learner owns them): what needs a reader inside a namespace (the
// IPC objects, the hostname) is read by the host's own tools, joining that one namespace only.
import { execFile } from 'node:child_process';
import { closeSync, constants, fstatSync } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { lookupInRoot, readMounts, type ContainerRecord, type Engine, type InspectHub, type NsProcess } from '../engine/index.js';
import type { LabIpcObject, LabIpcObjects, LabKernel, LabMount } from './format.js';

const run = promisify(execFile);

/** host.read returns at most this much of a file */
const HOST_READ_MAX = 64 * 1024;

export interface LabKernelOptions {
  engine: Pick<Engine, 'get' | 'ociConfig'>;
  hub: Pick<InspectHub, 'snapshot'>;
  /** role -> container id */
  containers: Record<string, string>;
  scratchDir: string;
  memo: Record<string, unknown>;
  /**
   * A learner's session: the host paths a check reads are walked without following any symlink
   * or `..` (the learner writes the files a check looks at, in their container layer or the
   * scratch directory: a symlink there would point the server at a host file of the learner's
   * choosing and the check's detail line would tell them its size or date), and host.mounts()
   * leaves out the mounts of containers that are not the learner's.
   */
  learner?: { ownsContainerPath: (path: string) => boolean };
}

/** /proc/<pid>/root or /proc/self/root: the one link a learner-safe path may go through (the container's own root). */
const PROC_ROOT = /^\/proc\/(\d+|self)\/root(?=\/|$)/;

/**
 * true when `path` names a file reached without a symlink (other than a leading /proc/PID/root)
 * and without `..`: what a learner made inside their container cannot redirect it elsewhere.
 */
export async function reachedWithoutLinks(path: string): Promise<boolean> {
  if (!path.startsWith('/') || path.split('/').includes('..')) return false;
  const root = PROC_ROOT.exec(path)?.[0] ?? '';
  let at = root;
  for (const part of path.slice(root.length).split('/').filter(Boolean)) {
    at = `${at}/${part}`;
    try {
      if ((await lstat(at)).isSymbolicLink()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A path under /proc/<pid>/root, looked up inside that root (openat2 RESOLVE_IN_ROOT): a symlink
 * the container made stays in the container, whoever runs the lab, and there is no gap between a
 * check of the path and its open. An O_PATH descriptor (the caller closes it); null when missing,
 * refused, or not such a path.
 */
function lookupInProcRoot(path: string): number | null | undefined {
  const root = PROC_ROOT.exec(path)?.[0];
  if (!root) return undefined;
  try {
    return lookupInRoot(root, path.slice(root.length) || '/');
  } catch {
    return null;
  }
}

/** Parse /proc/sysvipc/{shm,msg,sem}: a header naming the columns, then one object per line. */
export function parseSysvipc(text: string): LabIpcObject[] {
  const lines = text.split('\n').filter((l) => l.trim());
  if (!lines.length) return [];
  const cols = lines[0].trim().split(/\s+/);
  const at = (name: string) => cols.indexOf(name);
  const idCol = cols.findIndex((c) => c === 'shmid' || c === 'msqid' || c === 'semid');
  return lines.slice(1).map((l) => {
    const f = l.trim().split(/\s+/);
    return { key: Number(f[at('key')]), id: Number(f[idCol]), perms: Number(f[at('perms')]), cuid: Number(f[at('cuid')]) };
  });
}

export class SessionKernel implements LabKernel {
  readonly scratchDir: string;
  memo: Record<string, unknown>;
  private readonly opts: LabKernelOptions;

  constructor(opts: LabKernelOptions) {
    this.opts = opts;
    this.scratchDir = opts.scratchDir;
    this.memo = opts.memo;
  }

  private idOf(role: string): string {
    const id = this.opts.containers[role];
    if (!id) throw new Error(`this lab has no container with the role "${role}"`);
    return id;
  }

  container(role: string): ContainerRecord {
    return this.opts.engine.get(this.idOf(role));
  }

  /** The host pid of a running role's init, or an error saying the container is not running. */
  private initPid(role: string): number {
    const rec = this.container(role);
    if ((rec.state.status !== 'running' && rec.state.status !== 'paused') || !rec.state.pid) throw new Error(`the ${role} container is not running (${rec.state.status})`);
    return rec.state.pid;
  }

  ociConfig(role: string): Record<string, unknown> {
    return this.opts.engine.ociConfig(this.idOf(role));
  }

  namespaces() {
    return this.opts.hub.snapshot('namespaces');
  }

  async processes(role: string): Promise<NsProcess[]> {
    const id = this.idOf(role);
    const snap = await this.namespaces();
    return snap.processes.filter((p) => p.containerId === id && p.role !== 'monitor');
  }

  async cgroups(role: string) {
    const id = this.idOf(role);
    const snap = await this.opts.hub.snapshot('cgroups', id);
    return snap.containers.find((c) => c.containerId === id) ?? null;
  }

  layers(role: string) {
    return this.opts.hub.snapshot('layers', this.idOf(role));
  }

  network() {
    return this.opts.hub.snapshot('network');
  }

  mounts(role: string): Promise<LabMount[]> {
    return readMounts(this.initPid(role));
  }

  /** Read a file of /proc/sys or /proc/sysvipc as a process in the init's `ns` namespace sees it. */
  private async readInNamespace(role: string, ns: 'ipc' | 'uts', path: string): Promise<string> {
    const pid = this.initPid(role);
    // the host's nsenter and cat, joining only that namespace (mounts, pids and root stay the host's)
    const { stdout } = await run('nsenter', [`--${ns}=/proc/${pid}/ns/${ns}`, '--', 'cat', path], { timeout: 3000, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  }

  async ipc(role: string): Promise<LabIpcObjects> {
    const [shm, msg, sem] = await Promise.all(['shm', 'msg', 'sem'].map((f) => this.readInNamespace(role, 'ipc', `/proc/sysvipc/${f}`)));
    return { shm: parseSysvipc(shm), msg: parseSysvipc(msg), sem: parseSysvipc(sem) };
  }

  async uts(role: string): Promise<{ hostname: string; domainname: string }> {
    const [hostname, domainname] = await Promise.all(['hostname', 'domainname'].map((f) => this.readInNamespace(role, 'uts', `/proc/sys/kernel/${f}`)));
    return { hostname: hostname.trim(), domainname: domainname.trim() };
  }

  host = {
    mounts: async (): Promise<LabMount[]> => {
      const all = await readMounts('self');
      const learner = this.opts.learner;
      return learner ? all.filter((m) => learner.ownsContainerPath(m.mountPoint) && learner.ownsContainerPath(m.source)) : all;
    },
    stat: async (path: string) => {
      const inRoot = lookupInProcRoot(path);
      if (inRoot !== undefined) {
        if (inRoot === null) return null;
        try {
          const s = fstatSync(inRoot);
          return { uid: s.uid, gid: s.gid, size: s.size, mode: s.mode, mtimeMs: s.mtimeMs };
        } finally {
          closeSync(inRoot);
        }
      }
      if (this.opts.learner && !(await reachedWithoutLinks(path))) return null;
      try {
        const s = await stat(path);
        return { uid: s.uid, gid: s.gid, size: s.size, mode: s.mode, mtimeMs: s.mtimeMs };
      } catch {
        return null;
      }
    },
    read: async (path: string): Promise<string | null> => {
      // /proc files report size 0: read up to the cap, whatever stat says
      // O_NONBLOCK: a FIFO a container made must not hang the server; only regular files are read
      const inRoot = lookupInProcRoot(path);
      if (inRoot === null) return null;
      // only a regular file is reopened (a device or FIFO the container made is never opened)
      if (inRoot !== undefined && !fstatSync(inRoot).isFile()) {
        closeSync(inRoot);
        return null;
      }
      if (inRoot === undefined && this.opts.learner && !(await reachedWithoutLinks(path))) return null;
      // the very inode looked up in the root, reopened for reading
      const opened = inRoot === undefined ? path : `/proc/self/fd/${inRoot}`;
      const fh = await open(opened, constants.O_RDONLY | constants.O_NONBLOCK)
        .catch(() => null)
        .finally(() => inRoot !== undefined && closeSync(inRoot));
      if (!fh) return null;
      try {
        if (!(await fh.stat()).isFile()) return null;
        const buf = Buffer.alloc(HOST_READ_MAX);
        let n = 0;
        for (;;) {
          const { bytesRead } = await fh.read(buf, n, HOST_READ_MAX - n, null);
          if (!bytesRead || (n += bytesRead) >= HOST_READ_MAX) break;
        }
        return buf.subarray(0, n).toString('utf8');
      } catch {
        return null;
      } finally {
        await fh.close();
      }
    },
  };
}
