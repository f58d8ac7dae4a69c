// A tar from outside (the build context a client sends, a tar that ADD unpacks) written into a
// root through InRoot: an entry named "../x" or "/x" is refused (the context) or kept inside the
// root (ADD, as Docker's chrooted untar does), and no entry is written through a symlink out of
// the root. Devices, FIFOs and sockets are left out: a context is files, not a /dev.
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { InvalidArgument } from '../types.js';
import { copyRegularInRoot } from './copy.js';
import { components, writeAll, type InRoot, type Owner } from './in-root.js';

export interface ExtractLimits {
  /** entries */
  maxEntries: number;
  /** bytes of file content */
  maxBytes: number;
}

export const CONTEXT_LIMITS: ExtractLimits = { maxEntries: 200_000, maxBytes: 8 * 1024 ** 3 };

export interface ExtractOptions {
  /** where in the root the tar's "." goes */
  base?: string;
  /** refuse ".." and absolute names (a build context) instead of keeping them inside the root */
  strictNames?: boolean;
  /** the owner of everything written (ADD); unset: the tar's own uid/gid */
  owner?: Owner;
  limits?: ExtractLimits;
  /** entries to leave out (.dockerignore), by their path inside the root */
  skip?: (rel: string, isDir: boolean) => boolean;
  /** what the errors call the tar */
  what: string;
}

/** Gzip is recognised by its magic and unpacked on the way. */
function maybeGunzip(source: Readable): Readable {
  const out = new PassThrough();
  let decided = false;
  source.once('error', (e) => out.destroy(e));
  const onData = (chunk: Buffer) => {
    if (decided) return;
    decided = true;
    source.off('data', onData);
    source.pause();
    if (chunk[0] === 0x1f && chunk[1] === 0x8b) {
      const gz = createGunzip();
      gz.on('error', (e) => out.destroy(new InvalidArgument(`the ${'tar'} is not a valid gzip stream: ${e.message}`)));
      gz.pipe(out);
      gz.write(chunk);
      source.pipe(gz);
    } else {
      out.write(chunk);
      source.pipe(out);
    }
    source.resume();
  };
  source.on('data', onData);
  source.once('end', () => {
    if (!decided) out.end();
  });
  return out;
}

/** The entry name as components inside the root (refusing or clamping ".." per the options). */
function entryPath(name: string, opts: ExtractOptions): string {
  const raw = name.replace(/^\.\/+/, '');
  if (opts.strictNames) {
    if (raw.startsWith('/')) throw new InvalidArgument(`${opts.what}: the entry "${name}" is an absolute path`);
    components(raw, { refuseDotDot: true, what: `${opts.what}: the entry` });
  }
  // clamp: ".." at the top stays at the top, as inside a chroot
  const out: string[] = [];
  for (const p of components(raw)) {
    if (p === '..') out.pop();
    else out.push(p);
  }
  const base = components(opts.base ?? '');
  return [...base, ...out].join('/');
}

/** Unpack a tar (plain or gzip) into the root. A bad entry stops it with an error naming the entry. */
export async function extractTar(source: Readable, root: InRoot, opts: ExtractOptions): Promise<{ entries: number; bytes: number }> {
  const limits = opts.limits ?? CONTEXT_LIMITS;
  const extract = tar.extract();
  let entries = 0;
  let bytes = 0;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const fail = (e: unknown) => {
        stream.resume();
        extract.destroy(e as Error);
        reject(e);
      };
      // returns true when it read the entry's content itself (tar-stream's entries are streamx
      // streams: no readableEnded, and an 'end' already emitted is not emitted again)
      (async (): Promise<boolean> => {
        entries++;
        if (entries > limits.maxEntries) throw new InvalidArgument(`${opts.what}: more than ${limits.maxEntries} entries`);
        const rel = entryPath(h.name, opts);
        if (opts.skip?.(rel, h.type === 'directory')) return false;
        const owner = opts.owner ?? { uid: h.uid ?? 0, gid: h.gid ?? 0 };
        const mode = h.mode ?? 0o644;
        switch (h.type) {
          case 'directory':
            root.dir(rel, { mode, owner, mtime: h.mtime });
            return false;
          case 'file':
          case 'contiguous-file': {
            bytes += h.size ?? 0;
            if (bytes > limits.maxBytes) throw new InvalidArgument(`${opts.what}: more than ${limits.maxBytes} bytes of files`);
            await root.writeFile(
              rel,
              async (fd) => {
                for await (const chunk of stream as AsyncIterable<Buffer>) writeAll(fd, chunk);
              },
              { mode, owner, mtime: h.mtime },
            );
            return true;
          }
          case 'symlink':
            root.symlink(rel, h.linkname ?? '', { owner });
            return false;
          case 'link': {
            // a hard link: a copy of the file it names, looked up inside the root like any path
            const target = entryPath(h.linkname ?? '', opts);
            await copyRegularInRoot(root, target, rel, { mode, owner });
            return false;
          }
          default:
            return false; // devices, FIFOs, pax/gnu headers tar-stream did not fold in
        }
      })().then((consumed) => {
        if (consumed) return next();
        stream.on('end', () => next());
        stream.resume();
      }, fail);
    });
    extract.on('finish', resolve);
    extract.on('error', (e) => reject(e instanceof InvalidArgument ? e : new InvalidArgument(`${opts.what} is not a valid tar: ${e.message}`)));
  });
  maybeGunzip(source).on('error', (e) => extract.destroy(e)).pipe(extract);
  await done;
  return { entries, bytes };
}
