// Files in and out of a container as tar (docker cp both ways, docker export), resolved *inside*
// the container's root.
//
// Every path is looked up with openat2(RESOLVE_IN_ROOT) from the container's root (rootfs/
// resolve.ts): a symlink /etc -> /host-etc in the container leads to the container's /host-etc,
// never the host's. Below that, a walk holds each directory open and names its entries through
// it (/proc/self/fd/N/NAME, one component, O_NOFOLLOW), so a running container that swaps a
// directory for a symlink mid-walk cannot lead it out. A tar going in is read the same way, one
// entry at a time: its parent directory resolved inside the root (a symlink the tar itself made is
// followed inside the root too), names with ".." refused, a leading "/" dropped, device nodes
// refused, a directory never replaced by a file.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { FS_MAGIC, O_CLOEXEC, O_PATH, openat2, RESOLVE, statfsType, SyscallError } from '../../../native/libc.js';
import { lookupInRoot } from '../rootfs/resolve.js';
import { Conflict, EngineError, InvalidArgument, NotFound } from '../types.js';

/** docker's container path stat (the X-Docker-Container-Path-Stat header, base64 JSON). */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus its type bits (ModeDir = 1<<31 ...) */
  mode: number;
  /** RFC 3339 */
  mtime: string;
  /** for a symlink, where it points as an absolute path in the container; else "" */
  linkTarget: string;
}

/** Owners as the host stores them and as the tar shows them: host = tar + base. */
export interface OwnerShift {
  uid: number;
  gid: number;
}

const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };

function goMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += GO_MODE.setuid;
  if (st.mode & 0o2000) m += GO_MODE.setgid;
  if (st.mode & 0o1000) m += GO_MODE.sticky;
  if (st.isDirectory()) m += GO_MODE.dir;
  else if (st.isSymbolicLink()) m += GO_MODE.symlink;
  else if (st.isFIFO()) m += GO_MODE.pipe;
  else if (st.isSocket()) m += GO_MODE.socket;
  else if (st.isCharacterDevice()) m += GO_MODE.device + GO_MODE.charDevice;
  else if (st.isBlockDevice()) m += GO_MODE.device;
  return m;
}

const fdPath = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

/** "/a/b/" → ["/a", "b"]; "/" → ["/", ""] */
function split(path: string): { dir: string; base: string; followLast: boolean } {
  const abs = posix.normalize(`/${path}`);
  const followLast = /\/\.?$/.test(path) && abs !== '/';
  const trimmed = abs.replace(/\/+$/, '') || '/';
  return { dir: posix.dirname(trimmed), base: trimmed === '/' ? '' : posix.basename(trimmed), followLast };
}

function lookup(root: string, path: string, opts: { nofollow?: boolean; directory?: boolean } = {}): number | null {
  try {
    return lookupInRoot(root, path, opts);
  } catch (e) {
    if (e instanceof SyscallError) {
      if (e.code === 'ENOTDIR') return null;
      throw new InvalidArgument(`cannot resolve ${path} in the container: ${e.message}`);
    }
    throw e;
  }
}

/** The entry at path: its parent held open (resolved inside root) and its own name in it. */
class Entry {
  private constructor(
    readonly parentFd: number,
    readonly base: string,
    readonly path: string,
  ) {}

  static open(root: string, path: string): Entry {
    const { dir, base, followLast } = split(path);
    if (followLast || base === '') {
      // "dir/." and "dir/" name the directory a symlink leads to: resolve all of it
      const fd = lookup(root, path, { directory: true });
      if (fd === null) throw new NotFound(`Could not find the file ${path} in container`);
      return new Entry(fd, '', path);
    }
    const parent = lookup(root, dir, { directory: true });
    if (parent === null) throw new NotFound(`Could not find the file ${path} in container`);
    return new Entry(parent, base, path);
  }

  /** a path naming the entry without following it when it is a symlink */
  hostPath(): string {
    return this.base ? fdPath(this.parentFd, this.base) : fdPath(this.parentFd);
  }

  lstat(): Stats {
    // the directory itself ("dir/", "/"): its descriptor's stat (lstat would see the magic link)
    if (!this.base) return fstatSync(this.parentFd);
    const st = lstatSync(this.hostPath(), { throwIfNoEntry: false });
    if (!st) throw new NotFound(`Could not find the file ${this.path} in container`);
    return st;
  }

  close(): void {
    closeSync(this.parentFd);
  }
}

export function statPath(root: string, path: string): PathStat {
  const e = Entry.open(root, path);
  try {
    const st = e.lstat();
    const abs = posix.normalize(`/${path}`).replace(/\/+$/, '') || '/';
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      const t = readlinkSync(e.hostPath());
      linkTarget = t.startsWith('/') ? posix.normalize(t) : posix.join(posix.dirname(posix.normalize(`/${path}`)), t);
    }
    // Docker names "dir/." by "." (the contents of the directory), anything else by its last component
    const name = /(^|\/)\.$/.test(path) ? '.' : abs === '/' ? '/' : posix.basename(abs);
    return { name, size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(), linkTarget };
  } finally {
    e.close();
  }
}

type Header = Partial<tar.Header> & { name: string };

/** Filesystems a walk of a live container's root does not enter: /proc and /sys are the kernel's. */
const KERNEL_FS = new Set<number>([FS_MAGIC.PROC, 0x62656572 /* sysfs */, FS_MAGIC.CGROUP1, FS_MAGIC.CGROUP2]);

/**
 * A tar of the entry at path (named by its last component; the root's entries by their own
 * names) written to out. Owners are shown as the container sees them (host minus the shift).
 */
export async function archivePath(root: string, path: string, out: Writable, shift: OwnerShift = { uid: 0, gid: 0 }): Promise<PathStat> {
  const stat = statPath(root, path);
  const entry = Entry.open(root, path);
  const pack = tar.pack();
  const sending = pipeline(pack, out);
  const put = (h: Header, body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(h, body, cb);
      else pack.entry(h, cb);
    });
  const inodes = new Map<string, string>();

  const walkDir = async (dirFd: number, prefix: string): Promise<void> => {
    let names: string[];
    try {
      if (KERNEL_FS.has(statfsType(fdPath(dirFd)))) return;
      names = readdirSync(fdPath(dirFd)).sort();
    } catch {
      return;
    }
    for (const name of names) await one(dirFd, name, prefix ? `${prefix}/${name}` : name);
  };

  const one = async (parentFd: number, name: string, tarName: string): Promise<void> => {
    const p = fdPath(parentFd, name);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return;
    const common = { mtime: st.mtime, uid: Math.max(0, st.uid - shift.uid), gid: Math.max(0, st.gid - shift.gid), mode: st.mode };
    if (st.isDirectory()) {
      let fd: number;
      try {
        // the directory lstat saw, or nothing: O_NOFOLLOW, one component below a held descriptor
        fd = openat2(parentFd, name, O_PATH | O_CLOEXEC | constants.O_DIRECTORY | constants.O_NOFOLLOW, RESOLVE.NO_SYMLINKS | RESOLVE.BENEATH);
      } catch {
        return;
      }
      try {
        if (tarName) await put({ ...common, name: `${tarName}/`, type: 'directory' });
        await walkDir(fd, tarName);
      } finally {
        closeSync(fd);
      }
    } else if (st.isSymbolicLink()) {
      await put({ ...common, name: tarName, type: 'symlink', linkname: readlinkSync(p) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && inodes.has(key)) return put({ ...common, name: tarName, type: 'link', linkname: inodes.get(key)! });
      if (st.nlink > 1) inodes.set(key, tarName);
      // O_PATH first, opened for reading only once fstat says it is a regular file: a live
      // container that swaps it for a device node (a watchdog, a tape) never gets it opened
      let fd: number;
      try {
        const pathFd = openat2(parentFd, name, O_PATH | O_CLOEXEC | constants.O_NOFOLLOW, RESOLVE.NO_SYMLINKS | RESOLVE.BENEATH);
        try {
          if (!fstatSync(pathFd).isFile()) return;
          fd = openSync(fdPath(pathFd), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
        } finally {
          closeSync(pathFd);
        }
      } catch {
        return;
      }
      try {
        const size = fstatSync(fd).size;
        await writeFileEntry(pack, { ...common, name: tarName, type: 'file', size }, fd, size);
      } finally {
        closeSync(fd);
      }
    } else if (st.isFIFO()) {
      await put({ ...common, name: tarName, type: 'fifo' });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await put({ ...common, name: tarName, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256), devminor: st.rdev % 256 });
    }
    // sockets are not file content
  };

  try {
    if (entry.base) await one(entry.parentFd, entry.base, entry.base);
    else if (split(path).base === '') await walkDir(entry.parentFd, '');
    else {
      // "dir/.": the directory (a symlink's target, resolved inside the root) under its own name
      const st = fstatSync(entry.parentFd);
      await put({ mtime: st.mtime, uid: Math.max(0, st.uid - shift.uid), gid: Math.max(0, st.gid - shift.gid), mode: st.mode, name: `${stat.name}/`, type: 'directory' });
      await walkDir(entry.parentFd, stat.name);
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  } finally {
    entry.close();
  }
  await sending;
  return stat;
}

/** Exactly `size` bytes in the entry (a file that shrank meanwhile is padded with zeros). */
async function writeFileEntry(pack: tar.Pack, header: Header, fd: number, size: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const w = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    const buf = Buffer.alloc(Math.min(size, 1 << 20) || 1);
    let off = 0;
    const pump = () => {
      while (off < size) {
        let n = readSync(fd, buf, 0, Math.min(buf.length, size - off), off);
        if (n === 0) {
          buf.fill(0);
          n = Math.min(buf.length, size - off);
        }
        off += n;
        if (!w.write(Buffer.from(buf.subarray(0, n)))) return void w.once('drain', pump);
      }
      (w as unknown as NodeJS.WritableStream).end();
    };
    pump();
  });
}

export interface ExtractOptions {
  shift?: OwnerShift;
  /** keep the tar's owners (docker cp -a); otherwise everything belongs to the container's root */
  copyUIDGID?: boolean;
  /** refuse to replace a non-directory with a directory too (a directory is never replaced by a file) */
  noOverwriteDirNonDir?: boolean;
}

/** The names of a tar entry inside the destination: a leading "/" dropped, ".." refused. */
function entryParts(name: string): string[] {
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw new InvalidArgument(`archive entry "${name}" climbs out of the destination with "..": refused`);
  return parts;
}

/** Extract a tar into the directory at dest inside root. */
export async function extractArchive(root: string, dest: string, input: Readable, opts: ExtractOptions = {}): Promise<void> {
  const destFd = lookup(root, dest, { directory: true });
  if (destFd === null) {
    const e = lookup(root, dest);
    if (e !== null) {
      closeSync(e);
      throw new InvalidArgument(`extraction point ${dest} is not a directory`);
    }
    throw new NotFound(`Could not find the file ${dest} in container`);
  }
  closeSync(destFd);
  const destAbs = posix.normalize(`/${dest}`);
  const shift = opts.shift ?? { uid: 0, gid: 0 };
  const owner = (h: tar.Header) => ({ uid: (opts.copyUIDGID ? (h.uid ?? 0) : 0) + shift.uid, gid: (opts.copyUIDGID ? (h.gid ?? 0) : 0) + shift.gid });

  /** The held-open directory that will hold parts' last element, made (root-owned in the container) where missing. */
  const parentOf = (parts: string[]): number => {
    let cur = destAbs;
    for (const comp of parts.slice(0, -1)) {
      const next = posix.join(cur, comp);
      const fd = lookup(root, next, { directory: true });
      if (fd !== null) closeSync(fd);
      else {
        const parent = lookup(root, cur, { directory: true });
        if (parent === null) throw new InvalidArgument(`cannot make ${next} in the container: its parent is not a directory`);
        try {
          mkdirSync(fdPath(parent, comp), { mode: 0o755 });
          lchownSync(fdPath(parent, comp), shift.uid, shift.gid);
        } catch (e) {
          throw new InvalidArgument(`cannot make ${next} in the container: ${(e as Error).message}`);
        } finally {
          closeSync(parent);
        }
      }
      cur = next;
    }
    const fd = lookup(root, cur, { directory: true });
    if (fd === null) throw new InvalidArgument(`${cur} in the container is not a directory`);
    return fd;
  };

  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      try {
        await extractOne(h, entry as unknown as AsyncIterable<Buffer>, parentOf, owner, opts, root, destAbs);
      } finally {
        entry.resume(); // drain what was not read (directories, links)
      }
    }
  })();
  // not pipeline(): on a refused entry the upload is drained, not destroyed, so the client still
  // reads the answer that says why
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    await done;
  } catch (e) {
    input.unpipe();
    input.resume();
    extract.destroy();
    if (e instanceof EngineError) throw e;
    throw new InvalidArgument(`cannot extract the archive into ${dest}: ${(e as Error).message}`);
  }
}

async function extractOne(
  h: tar.Header,
  body: AsyncIterable<Buffer>,
  parentOf: (parts: string[]) => number,
  owner: (h: tar.Header) => { uid: number; gid: number },
  opts: ExtractOptions,
  root: string,
  destAbs: string,
): Promise<void> {
  const parts = entryParts(h.name);
  if (parts.length === 0) return; // "./": the destination itself
  const type = h.type ?? 'file';
  if (type === 'character-device' || type === 'block-device') throw new InvalidArgument(`archive entry "${h.name}" is a device node: refused (copy device nodes with mknod inside the container)`);
  const parent = parentOf(parts);
  const name = parts[parts.length - 1];
  const p = fdPath(parent, name);
  const { uid, gid } = owner(h);
  const mode = (h.mode ?? 0o644) & 0o7777;
  try {
    const existing = lstatSync(p, { throwIfNoEntry: false });
    if (type === 'directory') {
      if (existing && !existing.isDirectory()) {
        if (opts.noOverwriteDirNonDir) throw new Conflict(`cannot overwrite non-directory /${parts.join('/')} with directory`);
        unlinkSync(p);
      }
      if (!existing || !existing.isDirectory()) mkdirSync(p, { mode: 0o700 });
      const fd = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        fchownSync(fd, uid, gid);
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
      return;
    }
    // a directory is never replaced by a non-directory (its contents would have to go: refused)
    if (existing?.isDirectory()) throw new Conflict(`cannot overwrite directory /${parts.join('/')} with non-directory`);
    if (existing) unlinkSync(p);
    if (type === 'symlink') {
      symlinkSync(h.linkname ?? '', p);
      lchownSync(p, uid, gid);
      return;
    }
    if (type === 'fifo') throw new InvalidArgument(`archive entry "${h.name}" is a FIFO: refused`);
    // a regular file; a hard link gets a copy of what it links to (that file, looked up inside the destination)
    const fd = openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      if (type === 'link') copyLinked(root, posix.join(destAbs, ...entryParts(h.linkname ?? '')), fd, h.name);
      else for await (const chunk of body) writeAll(fd, chunk);
      fchownSync(fd, uid, gid);
      fchmodSync(fd, mode); // after chown, which clears setuid
      if (h.mtime) futimesSync(fd, h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(parent);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off);
}

function copyLinked(root: string, target: string, outFd: number, shown: string): void {
  const pathFd = lookup(root, target, { nofollow: true });
  if (pathFd === null) throw new InvalidArgument(`archive entry "${shown}" links to ${target}, which is not there`);
  let fd: number;
  try {
    if (!fstatSync(pathFd).isFile()) throw new InvalidArgument(`archive entry "${shown}" links to ${target}, which is not a regular file`);
    fd = openSync(fdPath(pathFd), constants.O_RDONLY | constants.O_NONBLOCK);
  } finally {
    closeSync(pathFd);
  }
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let off = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, off);
      if (n === 0) break;
      writeAll(outFd, buf.subarray(0, n));
      off += n;
    }
  } finally {
    closeSync(fd);
  }
}
