// COPY and ADD: files from a source root (the build context, or an earlier stage's rootfs for
// --from) into the image's rootfs. A source is looked up inside its root (symlinks resolve inside
// it: a context's link -> /etc/passwd is the context's etc/passwd or nothing), and a directory is
// walked entry by entry through descriptors, its symlinks copied as symlinks, never followed.
// The destination is written through InRoot, inside the image's rootfs.
//
// The checksum of what a step copies (every path, type, mode, owner, link target and content)
// is part of the cache key: a changed file in the context makes the step run again.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, fstatSync, lstatSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { O_CLOEXEC, O_PATH, openat2, RESOLVE, SyscallError } from '../../../native/libc.js';
import { InvalidArgument } from '../types.js';
import { components, writeAll, type InRoot, type Owner } from './in-root.js';
import { globMatch, hasGlob } from './patterns.js';

const NOFOLLOW_WALK = RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS | RESOLVE.BENEATH;

/** A source entry found by a walk: its path below the source and how to read it. */
export interface SourceEntry {
  /** path relative to the copied source ("" for the source itself) */
  rel: string;
  st: Stats;
  linkname?: string;
  /** the O_PATH descriptor of its directory (valid during the visit) and its name there */
  dirFd: number;
  name: string;
}

/** Open a regular file named in a directory descriptor, never through a symlink. */
function openRegularAt(dirFd: number, name: string): number {
  const fd = openat2(dirFd, name, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | O_CLOEXEC, NOFOLLOW_WALK);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new InvalidArgument(`${name} is not a regular file any more`);
  }
  return fd;
}

/** Every entry under a looked-up source (itself first, then sorted, parents before children). */
function walk(dirFd: number, name: string, rel: string, visit: (e: SourceEntry) => void): void {
  const st = lstatSync(`/proc/self/fd/${dirFd}/${name}`);
  const e: SourceEntry = { rel, st, dirFd, name, ...(st.isSymbolicLink() ? { linkname: readlinkSync(`/proc/self/fd/${dirFd}/${name}`) } : {}) };
  visit(e);
  if (!st.isDirectory()) return;
  const sub = openat2(dirFd, name, O_PATH | O_CLOEXEC | constants.O_DIRECTORY | constants.O_NOFOLLOW, NOFOLLOW_WALK);
  try {
    for (const child of readdirSync(`/proc/self/fd/${sub}`).sort()) walk(sub, child, rel ? `${rel}/${child}` : child, visit);
  } finally {
    closeSync(sub);
  }
}

/** One source as COPY names it, resolved in its root: the top-level symlink is followed inside it. */
export interface ResolvedSource {
  /** the path as given (after globbing) */
  path: string;
  /** base name the destination takes for a file */
  base: string;
  isDir: boolean;
  /** O_PATH descriptor of the parent directory inside the root, and the entry's name in it */
  parentFd: number;
  name: string;
}

/** Expand globs against the source root, then look every source up inside it. */
export function resolveSources(root: InRoot, patterns: string[], what: string): ResolvedSource[] {
  const out: ResolvedSource[] = [];
  for (const pat of patterns) {
    const parts = components(pat);
    const matches = hasGlob(pat) ? globPaths(root, parts) : [parts.join('/')];
    if (!matches.length) throw new InvalidArgument(`${what}: no source files were specified (nothing matches ${pat})`);
    for (const m of matches) {
      // the source itself may be a symlink (followed inside the root); its parent too
      const fd = root.lookup(m);
      if (fd === null) throw new InvalidArgument(`${what}: file not found in build context or excluded by .dockerignore: stat ${m || '.'}: file does not exist`);
      closeSync(fd);
      const real = realInRoot(root, m);
      const rp = components(real);
      const parent = root.lookup(rp.slice(0, -1).join('/'), { directory: true });
      if (parent === null) throw new InvalidArgument(`${what}: ${m}: vanished`);
      const name = rp.length ? rp[rp.length - 1] : '.';
      const st = lstatSync(`/proc/self/fd/${parent}/${name}`);
      out.push({ path: m, base: components(m).pop() ?? '', isDir: st.isDirectory(), parentFd: parent, name });
    }
  }
  return out;
}

/** Resolve every symlink of rel inside the root, as a path from the root (no symlink left). */
function realInRoot(root: InRoot, rel: string, depth = 0): string {
  if (depth > 40) throw new InvalidArgument(`${rel}: too many levels of symbolic links`);
  const done: string[] = [];
  const todo = components(rel);
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = [...done, part].join('/');
    const st = root.lstat(here);
    if (st?.isSymbolicLink()) {
      const fd = root.lookup(done.join('/'), { directory: true });
      if (fd === null) throw new InvalidArgument(`${rel}: not found`);
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${fd}/${part}`);
      } finally {
        closeSync(fd);
      }
      const next = target.startsWith('/') ? components(target) : [...done, ...components(target)];
      return realInRoot(root, [...next, ...todo].join('/'), depth + 1);
    }
    done.push(part);
  }
  return done.join('/');
}

function globPaths(root: InRoot, parts: string[]): string[] {
  let paths = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const p of paths) {
      if (!hasGlob(part)) {
        next.push(p ? `${p}/${part}` : part);
        continue;
      }
      const fd = root.lookup(p, { directory: true });
      if (fd === null) continue;
      try {
        for (const n of readdirSync(`/proc/self/fd/${fd}`).sort()) if (globMatch(part, n)) next.push(p ? `${p}/${n}` : n);
      } finally {
        closeSync(fd);
      }
    }
    paths = next;
  }
  return paths;
}

export function closeSources(srcs: ResolvedSource[]): void {
  for (const s of srcs) closeSync(s.parentFd);
}

/** The checksum of sources (and how they are copied): part of the step's cache key. */
export function checksumSources(srcs: ResolvedSource[], keepOwner: boolean): string {
  const h = createHash('sha256');
  for (const s of srcs) {
    h.update(`source ${s.path}\0`);
    walk(s.parentFd, s.name, '', (e) => {
      const owner = keepOwner ? `${e.st.uid}:${e.st.gid}` : '';
      h.update(`${e.rel}\0${e.st.mode.toString(8)}\0${owner}\0`);
      if (e.st.isSymbolicLink()) h.update(`-> ${e.linkname}\0`);
      else if (e.st.isFile()) {
        const fd = openRegularAt(e.dirFd, e.name);
        try {
          const buf = Buffer.alloc(1 << 16);
          for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
        } finally {
          closeSync(fd);
        }
        h.update('\0');
      }
    });
  }
  return h.digest('hex');
}

export interface CopyMeta {
  /** --chown's owner; unset: root for a context, the source's own for --from */
  owner?: Owner;
  keepOwner: boolean;
  /** --chmod */
  mode?: number;
}

/** Copy one resolved source to dest (a path inside the target root). */
export async function copySource(src: ResolvedSource, target: InRoot, dest: string, meta: CopyMeta): Promise<number> {
  let files = 0;
  const ownerOf = (st: Stats): Owner => meta.owner ?? (meta.keepOwner ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
  const parentOwner = meta.owner ?? { uid: 0, gid: 0 };
  const entries: SourceEntry[] = [];
  walk(src.parentFd, src.name, '', (e) => entries.push({ ...e }));
  // directories are re-walked per entry below: collect first, then copy (the walk's fds close as it ends)
  const rebuilt: { rel: string; st: Stats; linkname?: string }[] = entries.map((e) => ({ rel: e.rel, st: e.st, linkname: e.linkname }));
  for (const e of rebuilt) {
    const to = e.rel ? `${dest}/${e.rel}` : dest;
    const mode = meta.mode ?? e.st.mode;
    if (e.st.isDirectory()) {
      target.dir(to, { mode: e.rel ? mode : (meta.mode ?? e.st.mode), owner: ownerOf(e.st), mtime: e.st.mtime, parentOwner });
    } else if (e.st.isSymbolicLink()) {
      target.symlink(to, e.linkname ?? '', { owner: ownerOf(e.st), parentOwner });
      files++;
    } else if (e.st.isFile()) {
      const fd = openInSource(src, e.rel);
      try {
        await target.writeFile(to, (out) => pump(fd, out), { mode, owner: ownerOf(e.st), mtime: e.st.mtime, parentOwner });
      } finally {
        closeSync(fd);
      }
      files++;
    }
    // devices, FIFOs, sockets: not copied (a context holds files)
  }
  return files;
}

/** A regular file below a resolved source, opened with no symlink on the way. */
function openInSource(src: ResolvedSource, rel: string): number {
  const parts = components(rel);
  if (!parts.length) return openRegularAt(src.parentFd, src.name);
  const dir = openat2(src.parentFd, [src.name, ...parts.slice(0, -1)].join('/'), O_PATH | O_CLOEXEC | constants.O_DIRECTORY, NOFOLLOW_WALK);
  try {
    return openRegularAt(dir, parts[parts.length - 1]);
  } finally {
    closeSync(dir);
  }
}

async function pump(from: number, to: number): Promise<void> {
  for await (const chunk of createReadStream('', { fd: from, autoClose: false, start: 0 }) as AsyncIterable<Buffer>) writeAll(to, chunk);
}

/** A hard link in a tar: a copy of the regular file already written at `from` (inside the root). */
export async function copyRegularInRoot(root: InRoot, from: string, to: string, meta: { mode: number; owner?: Owner }): Promise<void> {
  const fd = root.lookup(from, { nofollow: true });
  if (fd === null) throw new InvalidArgument(`hard link to ${from}: no such file earlier in the tar`);
  let rd: number;
  try {
    if (!fstatSync(fd).isFile()) throw new InvalidArgument(`hard link to ${from}: not a regular file`);
    rd = openat2(-100, `/proc/self/fd/${fd}`, constants.O_RDONLY | O_CLOEXEC, 0);
  } catch (e) {
    if (e instanceof SyscallError) throw new InvalidArgument(`hard link to ${from}: ${e.message}`);
    throw e;
  } finally {
    closeSync(fd);
  }
  try {
    await root.writeFile(to, (out) => pump(rd, out), meta);
  } finally {
    closeSync(rd);
  }
}

/** Is the (regular) file a tar ADD should unpack? gzip'd, or a tar header's "ustar" magic. */
export function looksLikeTar(src: ResolvedSource): boolean {
  if (src.isDir) return false;
  const fd = openRegularAt(src.parentFd, src.name);
  try {
    const head = Buffer.alloc(512);
    const n = readSync(fd, head, 0, 512, 0);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    return n >= 262 && head.subarray(257, 262).toString() === 'ustar';
  } finally {
    closeSync(fd);
  }
}

/** A readable stream of a resolved (regular file) source. */
export function openSourceStream(src: ResolvedSource) {
  return createReadStream('', { fd: openRegularAt(src.parentFd, src.name), autoClose: true });
}
