// Paths inside a container's root (its merged rootfs, or its upper dir), resolved *inside* it.
//
// The server reads the container's /etc/passwd and /etc/group, walks its upper dir for `changes`
// and `commit`: all of these are files the container (or its image) controls. join(rootfs, path)
// would follow an image's symlink /etc/group -> /etc/group on the host, and readFileSync on a FIFO
// blocks the whole server forever. So every such path goes through here, as the C helper does it
// (native/src/inroot.c): openat2(rootfd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) keeps
// every symlink and ".." inside the root; the result is an O_PATH descriptor (it opens nothing,
// so a FIFO cannot block and a device cannot be touched); fstat says what it is, and only a
// regular file is then opened for reading, through /proc/self/fd/N (the very inode we checked).
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { O_CLOEXEC, O_PATH, openat2, RESOLVE, SyscallError } from '../../../native/libc.js';
import { InvalidArgument } from '../types.js';

const AT_FDCWD = -100;
const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;

export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'an unknown kind of file';
}

export interface LookupOptions {
  /** the last component must not be a symlink (a file found by lstat in a walk) */
  nofollow?: boolean;
  /** no symlink anywhere on the way (an upper-dir walk: every parent was a directory when listed) */
  noSymlinks?: boolean;
  directory?: boolean;
}

function lookupAt(dirfd: number, path: string, opts: LookupOptions): number | null {
  const flags = O_PATH | O_CLOEXEC | (opts.nofollow ? constants.O_NOFOLLOW : 0) | (opts.directory ? constants.O_DIRECTORY : 0);
  for (let tries = 0; ; tries++) {
    try {
      return openat2(dirfd, path || '/', flags, IN_ROOT | (opts.noSymlinks ? RESOLVE.NO_SYMLINKS : 0));
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ENOENT') return null;
      // EAGAIN: a rename raced a ".." of the walk (the container is live): look again
      if (e instanceof SyscallError && e.code === 'EAGAIN' && tries < 16) continue;
      throw e;
    }
  }
}

/** An O_PATH descriptor of `path` looked up inside `root` (the caller closes it), or null if missing. */
export function lookupInRoot(root: string, path: string, opts: LookupOptions = {}): number | null {
  const rootFd = openat2(AT_FDCWD, root, O_PATH | O_CLOEXEC | constants.O_DIRECTORY, 0);
  try {
    return lookupAt(rootFd, path, opts);
  } finally {
    closeSync(rootFd);
  }
}

/** The O_PATH descriptor, reopened for reading if (and only if) it is a regular file. Closes pathFd. */
function reopenRegular(pathFd: number, shown: string): number {
  try {
    const st = fstatSync(pathFd);
    if (!st.isFile()) throw new InvalidArgument(`${shown} in the container is ${kindOf(st)}, not a regular file: refusing to read it`);
    return openSync(`/proc/self/fd/${pathFd}`, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } finally {
    closeSync(pathFd);
  }
}

function readAll(fd: number, shown: string, maxBytes: number): Buffer {
  const size = fstatSync(fd).size;
  if (size > maxBytes) throw new InvalidArgument(`${shown} in the container is ${size} bytes: more than the ${maxBytes} this reads`);
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break; // it shrank meanwhile: what is there
    off += n;
  }
  return buf.subarray(0, off);
}

/**
 * A regular file inside root, read whole (at most maxBytes); null when it does not exist.
 * Anything else in its place (a FIFO, a device, a directory, a symlink loop) is an InvalidArgument
 * naming the path, and nothing was opened.
 */
export function readFileInRoot(root: string, path: string, opts: { maxBytes?: number } = {}): Buffer | null {
  let pathFd: number | null;
  try {
    pathFd = lookupInRoot(root, path);
  } catch (e) {
    if (e instanceof SyscallError) throw new InvalidArgument(`cannot read ${path} in the container: ${e.message}`);
    throw e;
  }
  if (pathFd === null) return null;
  const fd = reopenRegular(pathFd, path);
  try {
    return readAll(fd, path, opts.maxBytes ?? 16 * 1024 * 1024);
  } finally {
    closeSync(fd);
  }
}

/**
 * A directory of a walk, held open: its entries are named through "/proc/self/fd/N/NAME", so a
 * directory swapped for a symlink after it was listed cannot lead the walk out of the root.
 */
export class RootDir {
  private constructor(readonly fd: number) {}

  /** The directory at rel inside root, with no symlink on the way; null if it is gone. */
  static open(root: string, rel: string): RootDir | null {
    let fd: number | null;
    try {
      fd = lookupInRoot(root, rel, { directory: true, noSymlinks: true });
    } catch (e) {
      // ELOOP (a symlink now), ENOTDIR (a file now): it changed since it was listed
      if (e instanceof SyscallError && (e.code === 'ELOOP' || e.code === 'ENOTDIR' || e.code === 'EXDEV')) return null;
      throw e;
    }
    return fd === null ? null : new RootDir(fd);
  }

  /** A path that names this directory (or an entry of it, not following a symlink there). */
  path(name?: string): string {
    return name === undefined ? `/proc/self/fd/${this.fd}` : `/proc/self/fd/${this.fd}/${name}`;
  }

  /** A readable descriptor of the entry `name` if it is a regular file (not a symlink to one). */
  openFile(name: string): number {
    let pathFd: number | null;
    try {
      pathFd = lookupAt(this.fd, name, { nofollow: true, noSymlinks: true });
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ELOOP') throw new InvalidArgument(`${name} became a symlink while it was read`);
      throw e;
    }
    if (pathFd === null) throw new InvalidArgument(`${name} disappeared while it was read`);
    return reopenRegular(pathFd, name);
  }

  close(): void {
    closeSync(this.fd);
  }
}
