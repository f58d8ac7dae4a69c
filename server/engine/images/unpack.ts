// Unpacking a layer tar for overlayfs, safely. A layer comes from anywhere (a registry, a file a
// learner loads) and must not write one byte outside its directory:
//  - names are relative and free of "..": an absolute path or a ".." component is refused;
//  - every parent is checked with lstat and must be a real directory of this layer, so a symlink
//    in the tar can never be used to reach outside (the tar-slip family: CVE-2018-15664 ...);
//  - files are created with O_EXCL (never through an existing link); hardlinks only to entries
//    this layer already holds; device nodes are refused except the whiteouts;
//  - Docker's whiteout files become what overlayfs reads: ".wh.NAME" a char device 0:0,
//    ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its directory;
//  - owner, mode (setuid too: chown first, then chmod), xattrs and mtimes are kept;
//  - it all happens in a temporary directory renamed into place at the end, so a layer that
//    fails leaves nothing.
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, renameSync, rmSync, symlinkSync, chmodSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { lsetxattr, mknod, S_IFCHR } from '../../../native/libc.js';
import { InvalidArgument } from '../types.js';

const S_IFIFO = 0o010000;

export interface UnpackLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: UnpackLimits = { maxEntries: 1_000_000, maxBytes: 64 * 1024 ** 3 };

/** A clean relative path inside the layer, or an error naming the entry. */
export function safeName(raw: string): string {
  if (raw.includes('\0')) throw new InvalidArgument(`layer rejected: entry name with a NUL byte`);
  let name = raw.replace(/^(\.\/)+/, '');
  if (name.startsWith('/')) throw new InvalidArgument(`layer rejected: absolute path "${raw}"`);
  name = name.replace(/\/+$/, '');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new InvalidArgument(`layer rejected: path "${raw}" climbs out with ".."`);
  return parts.join('/');
}

/** Make sure every parent of rel exists as a real directory inside root; never follow a link. */
function ensureParents(root: string, rel: string): void {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = join(cur, p);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      mkdirSync(cur, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw new InvalidArgument(`layer rejected: "${rel}" would be written through the symlink "${posix.relative('', cur.slice(root.length + 1))}"`);
    if (!st.isDirectory()) throw new InvalidArgument(`layer rejected: parent of "${rel}" is not a directory`);
  }
}

/** The entry at rel, reached through real directories of the layer only (for hardlink targets). */
function lstatInside(root: string, rel: string): Stats | null {
  let cur = root;
  const parts = rel.split('/');
  for (let i = 0; i < parts.length; i++) {
    cur = join(cur, parts[i]);
    const st = lstatSync(cur, { throwIfNoEntry: false });
    if (!st || i === parts.length - 1) return st ?? null;
    if (!st.isDirectory()) return null;
  }
  return null;
}

/** Remove what is at path, unless both it and the new entry are directories. */
function clearFor(path: string, newIsDir: boolean): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isDirectory() && newIsDir) return;
  if (st.isDirectory()) rmSync(path, { recursive: true, force: true });
  else unlinkSync(path);
}

function applyMeta(path: string, h: tar.Header, isLink: boolean): void {
  lchownSync(path, h.uid ?? 0, h.gid ?? 0);
  if (!isLink && h.mode !== undefined) chmodSync(path, h.mode & 0o7777); // after chown: chown clears setuid
  // a symlink takes no user.* attribute (the kernel says EPERM) and a capability means nothing on it
  for (const [k, v] of isLink ? [] : Object.entries(h.pax ?? {})) {
    const name = k.slice('SCHILY.xattr.'.length);
    // file capabilities and user attributes; never trusted.* (overlayfs reads those as its own)
    if (k.startsWith('SCHILY.xattr.') && (name === 'security.capability' || name.startsWith('user.'))) {
      lsetxattr(path, name, Buffer.from(String(v), 'latin1'));
    }
  }
  const mtime = h.mtime ?? new Date(0);
  try {
    lutimesSync(path, mtime, mtime);
  } catch {
    /* a filesystem without lutimes on links: keep going */
  }
}

/**
 * Unpack `tar` into `dest` (which must not exist). `tmpRoot` is where the work happens: on the
 * same filesystem as dest, so the final rename is atomic.
 */
export async function unpackLayer(input: Buffer | Readable, dest: string, tmpRoot: string, limits: UnpackLimits = DEFAULT_LIMITS): Promise<void> {
  mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  const work = join(tmpRoot, `unpack-${randomBytes(6).toString('hex')}`);
  mkdirSync(work, { mode: 0o755 });
  const dirTimes: [string, Date][] = [];
  const seen = new Set<string>();
  let entries = 0;
  let bytes = 0;
  const extract = tar.extract();
  const source = Buffer.isBuffer(input) ? Readable.from([input]) : input;
  // a broken tar surfaces here (and in the entries); after a rejection of ours the stream is destroyed on purpose
  let feedError: Error | null = null;
  const feeding = pipeline(source, extract).catch((e: Error) => {
    feedError = e;
  });
  const notATar = (e: Error) => new InvalidArgument(`layer rejected: not a readable tar (${e.message})`);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (++entries > limits.maxEntries) throw new InvalidArgument(`layer rejected: more than ${limits.maxEntries} entries`);
      bytes += h.size ?? 0;
      if (bytes > limits.maxBytes) throw new InvalidArgument(`layer rejected: more than ${limits.maxBytes} bytes`);
      const rel = safeName(h.name);
      if (rel === '') {
        // the root itself: its owner and mode, when it is a directory; a root entry that is a
        // symlink or a file (umoci's CVE-2021-29136) is refused rather than followed
        if (h.type !== 'directory') throw new InvalidArgument(`layer rejected: the root entry "${h.name}" is a ${h.type}, not a directory`);
        applyMeta(work, h, false);
        dirTimes.push([work, h.mtime ?? new Date(0)]);
        entry.resume();
        continue;
      }
      const base = posix.basename(rel);
      const parentRel = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
      const path = join(work, rel);
      // ---- whiteouts ----
      if (base === '.wh..wh..opq') {
        ensureParents(work, rel);
        const dir = parentRel ? join(work, parentRel) : work;
        if (parentRel && !existsSync(dir)) mkdirSync(dir, { mode: 0o755 });
        lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
        entry.resume();
        continue;
      }
      if (base.startsWith('.wh.')) {
        const hidden = base.slice(4);
        if (hidden === '' || hidden === '.' || hidden === '..') throw new InvalidArgument(`layer rejected: bad whiteout "${h.name}"`);
        const target = parentRel ? `${parentRel}/${hidden}` : hidden;
        ensureParents(work, target);
        const wpath = join(work, target);
        clearFor(wpath, false);
        mknod(wpath, S_IFCHR, 0, 0);
        lchownSync(wpath, h.uid ?? 0, h.gid ?? 0);
        seen.add(target);
        entry.resume();
        continue;
      }
      ensureParents(work, rel);
      switch (h.type) {
        case 'directory':
          clearFor(path, true);
          if (!existsSync(path)) mkdirSync(path, { mode: 0o755 });
          applyMeta(path, h, false);
          dirTimes.push([path, h.mtime ?? new Date(0)]);
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file':
          clearFor(path, false);
          // "wx": O_CREAT|O_EXCL — fails rather than follow anything already there
          await pipeline(entry, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
          applyMeta(path, h, false);
          break;
        case 'symlink':
          clearFor(path, false);
          // A symlink may point anywhere: it is resolved inside the container, never by us.
          symlinkSync(h.linkname ?? '', path);
          applyMeta(path, h, true);
          entry.resume();
          break;
        case 'link': {
          const targetRel = safeName(h.linkname ?? '');
          // only to an entry this layer wrote, still reached through real directories of the layer
          const tst = seen.has(targetRel) ? lstatInside(work, targetRel) : null;
          if (!tst) throw new InvalidArgument(`layer rejected: hardlink "${h.name}" to "${h.linkname}", which is not in this layer`);
          if (tst.isDirectory()) throw new InvalidArgument(`layer rejected: hardlink "${h.name}" to a directory`);
          if (tst.isCharacterDevice()) throw new InvalidArgument(`layer rejected: hardlink "${h.name}" to a whiteout`);
          clearFor(path, false);
          linkSync(join(work, targetRel), path);
          entry.resume();
          break;
        }
        case 'fifo':
          clearFor(path, false);
          mknod(path, S_IFIFO | ((h.mode ?? 0o644) & 0o7777));
          applyMeta(path, h, false);
          entry.resume();
          break;
        case 'character-device':
        case 'block-device':
          throw new InvalidArgument(`layer rejected: device node "${h.name}" (${h.devmajor}:${h.devminor}) — only whiteouts may be devices`);
        default:
          entry.resume(); // pax headers and the like carry no file
          continue;
      }
      seen.add(rel);
    }
    await feeding;
    if (feedError) throw notATar(feedError);
    // directories last: writing into them changed their mtimes (one may have been replaced since)
    for (const [p, t] of dirTimes.reverse()) if (lstatSync(p, { throwIfNoEntry: false })?.isDirectory()) lutimesSync(p, t, t);
    mkdirSync(dirname(dest), { recursive: true, mode: 0o711 });
    try {
      renameSync(work, dest);
    } catch (e) {
      // another unpack of the same layer won the race: theirs is as good as ours
      if (!existsSync(dest)) throw e;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (e) {
    extract.destroy();
    await feeding;
    rmSync(work, { recursive: true, force: true });
    const fe = feedError as Error | null;
    throw fe && !(e instanceof InvalidArgument) && (e as Error).message === fe.message ? notATar(fe) : e;
  }
}
