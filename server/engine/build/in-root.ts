// Writing into a root the server does not trust: a build context from a client, or an image's
// root filesystem being built (COPY, ADD, WORKDIR). Every path is resolved *inside* the root with
// openat2(RESOLVE_IN_ROOT), as rootfs/resolve.ts does for reads, so neither "../" nor a symlink
// (an image's /etc -> /host-etc, a context's link -> /) can lead a write out of it:
//
//   - a parent directory is looked up in the root (an image's symlinks resolve inside the image,
//     as they would inside the container; a context is walked with no symlink at all), and each
//     missing directory is made through its parent's descriptor: /proc/self/fd/N/name
//   - the last component is never followed: what is there (a symlink, a file) is unlinked first
//     and the new file made with O_CREAT|O_EXCL|O_NOFOLLOW, so it lands in that very directory
//   - owner, mode and times are set through the new file's own descriptor
import { chmodSync, chownSync, closeSync, constants, fstatSync, futimesSync, lchownSync, lstatSync, mkdirSync, openSync, readlinkSync, rmdirSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { O_CLOEXEC, O_PATH, openat2, RESOLVE, SyscallError } from '../../../native/libc.js';
import { InvalidArgument } from '../types.js';

const AT_FDCWD = -100;

export interface Owner {
  uid: number;
  gid: number;
}

/** Path components of a path inside the root: "/a//b/./c/" → ["a","b","c"]; ".." refused when asked. */
export function components(path: string, opts: { refuseDotDot?: boolean; what?: string } = {}): string[] {
  const parts = path.split('/').filter((p) => p && p !== '.');
  if (opts.refuseDotDot && parts.includes('..')) throw new InvalidArgument(`${opts.what ?? 'path'} "${path}" leads out of its root ("..")`);
  return parts;
}

/** ".." at the top stays at the top, as inside a chroot: ["a","..","..","b"] → ["b"]. */
export function clampDotDot(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out;
}

export class InRoot {
  private readonly rootFd: number;

  /**
   * @param followSymlinks an image's rootfs (true): symlinks on the way resolve inside the root,
   *   as in the container. A build context (false): no symlink may be on the way at all.
   */
  constructor(
    readonly root: string,
    private readonly followSymlinks: boolean,
  ) {
    this.rootFd = openat2(AT_FDCWD, root, O_PATH | O_CLOEXEC | constants.O_DIRECTORY, 0);
  }

  close(): void {
    closeSync(this.rootFd);
  }

  private resolveFlags(): number {
    return RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | (this.followSymlinks ? 0 : RESOLVE.NO_SYMLINKS);
  }

  /** O_PATH descriptor of rel inside the root (following symlinks per the root's rule), or null. */
  lookup(rel: string, opts: { directory?: boolean; nofollow?: boolean } = {}): number | null {
    const flags = O_PATH | O_CLOEXEC | (opts.directory ? constants.O_DIRECTORY : 0) | (opts.nofollow ? constants.O_NOFOLLOW : 0);
    try {
      return openat2(this.rootFd, rel || '.', flags, this.resolveFlags());
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ENOENT') return null;
      if (e instanceof SyscallError && (e.code === 'ELOOP' || e.code === 'ENOTDIR' || e.code === 'EXDEV')) {
        throw new InvalidArgument(`${rel}: ${e.code === 'ENOTDIR' ? 'a parent is not a directory' : 'leads through a symlink out of its root'}`);
      }
      throw e;
    }
  }

  /** What is at rel (not following its last component), or null. */
  lstat(rel: string) {
    const parts = components(rel);
    if (!parts.length) return lstatSync(`/proc/self/fd/${this.rootFd}`);
    const dir = this.lookup(parts.slice(0, -1).join('/'), { directory: true });
    if (dir === null) return null;
    try {
      return lstatSync(`/proc/self/fd/${dir}/${parts[parts.length - 1]}`, { throwIfNoEntry: false }) ?? null;
    } finally {
      closeSync(dir);
    }
  }

  /** mkdir -p inside the root; each directory made gets `owner` and `mode`. Returns an O_PATH fd of it. */
  mkdirp(rel: string, opts: { owner?: Owner; mode?: number } = {}, depth = 0): number {
    if (depth > 40) throw new InvalidArgument(`${rel}: too many levels of symbolic links`);
    const parts = clampDotDot(components(rel));
    let fd = openat2(this.rootFd, '.', O_PATH | O_CLOEXEC | constants.O_DIRECTORY, 0);
    try {
      for (let i = 0; i < parts.length; i++) {
        const sofar = parts.slice(0, i + 1).join('/');
        let next = this.lookup(sofar, { directory: true });
        if (next === null) {
          const p = `/proc/self/fd/${fd}/${parts[i]}`;
          const st = lstatSync(p, { throwIfNoEntry: false });
          if (st?.isSymbolicLink() && this.followSymlinks) {
            // a symlink to a directory the image lacks: make its target, inside the root, as
            // Docker's chrooted MkdirAll does (an absolute target is from the image's root)
            const target = readlinkSync(p);
            const rest = parts.slice(i + 1);
            const via = target.startsWith('/') ? components(target) : [...parts.slice(0, i), ...components(target)];
            closeSync(fd);
            fd = -1;
            return this.mkdirp([...via, ...rest].join('/'), opts, depth + 1);
          }
          if (st && !st.isDirectory()) throw new InvalidArgument(`/${sofar} is not a directory`);
          mkdirSync(p, { mode: opts.mode ?? 0o755 });
          next = this.lookup(sofar, { directory: true, nofollow: true });
          if (next === null) throw new InvalidArgument(`/${sofar} vanished while it was made`);
          if (opts.owner) chownSync(`/proc/self/fd/${next}`, opts.owner.uid, opts.owner.gid);
          chmodSync(`/proc/self/fd/${next}`, opts.mode ?? 0o755);
        }
        closeSync(fd);
        fd = next;
      }
      return fd;
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      throw e;
    }
  }

  /** The parent directory of rel (made if missing) and the last component's name. */
  private parentOf(rel: string, parentOwner?: Owner): { dir: number; name: string } {
    const parts = components(rel);
    if (!parts.length) throw new InvalidArgument('cannot replace the root directory itself');
    const name = parts[parts.length - 1];
    if (name === '..') throw new InvalidArgument(`${rel}: ends in ".."`);
    return { dir: this.mkdirp(clampDotDot(parts.slice(0, -1)).join('/'), { owner: parentOwner }), name };
  }

  /** Remove what is at dir/name unless it is a directory (then a directory may stay, a file may not). */
  private clear(dir: number, name: string, keepDir: boolean): void {
    const p = `/proc/self/fd/${dir}/${name}`;
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      if (keepDir) return;
      try {
        rmdirSync(p);
      } catch {
        throw new InvalidArgument(`${name} is a non-empty directory in the image: cannot replace it with a file`);
      }
      return;
    }
    unlinkSync(p);
  }

  /** Write a regular file (Buffer chunks from `fill`), replacing whatever non-directory is there. */
  async writeFile(rel: string, fill: (fd: number) => Promise<void> | void, meta: { mode: number; owner?: Owner; mtime?: Date; parentOwner?: Owner }): Promise<void> {
    const { dir, name } = this.parentOf(rel, meta.parentOwner);
    try {
      this.clear(dir, name, false);
      const fd = openSync(`/proc/self/fd/${dir}/${name}`, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | O_CLOEXEC, 0o600);
      try {
        await fill(fd);
        if (meta.owner) chownSync(`/proc/self/fd/${fd}`, meta.owner.uid, meta.owner.gid);
        chmodSync(`/proc/self/fd/${fd}`, meta.mode & 0o7777); // after chown: chown clears setuid bits
        if (meta.mtime) futimesSync(fd, meta.mtime, meta.mtime);
      } finally {
        closeSync(fd);
      }
    } finally {
      closeSync(dir);
    }
  }

  /** A directory (kept if there, its owner and mode set as given). */
  dir(rel: string, meta: { mode: number; owner?: Owner; mtime?: Date; parentOwner?: Owner }): void {
    const parts = components(rel);
    if (!parts.length) return; // the root itself stays as the image has it
    const { dir, name } = this.parentOf(rel, meta.parentOwner);
    try {
      this.clear(dir, name, true);
      const p = `/proc/self/fd/${dir}/${name}`;
      if (!lstatSync(p, { throwIfNoEntry: false })) mkdirSync(p, { mode: 0o700 });
      const fd = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC);
      try {
        if (meta.owner) chownSync(`/proc/self/fd/${fd}`, meta.owner.uid, meta.owner.gid);
        chmodSync(`/proc/self/fd/${fd}`, meta.mode & 0o7777);
        if (meta.mtime) futimesSync(fd, meta.mtime, meta.mtime);
      } finally {
        closeSync(fd);
      }
    } finally {
      closeSync(dir);
    }
  }

  /** A symlink (its target is only text: it is resolved inside the root by whoever follows it). */
  symlink(rel: string, target: string, meta: { owner?: Owner; parentOwner?: Owner }): void {
    const { dir, name } = this.parentOf(rel, meta.parentOwner);
    try {
      this.clear(dir, name, false);
      const p = `/proc/self/fd/${dir}/${name}`;
      symlinkSync(target, p);
      if (meta.owner) lchownSync(p, meta.owner.uid, meta.owner.gid);
    } finally {
      closeSync(dir);
    }
  }
}

/** Write a whole Buffer to a descriptor. */
export function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** Size of an open file. */
export const sizeOf = (fd: number): number => fstatSync(fd).size;
