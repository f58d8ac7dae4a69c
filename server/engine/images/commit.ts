// docker commit: the container's upper dir (its own layer of the overlay) becomes a layer tar on
// top of its image's layers, with a new config (diff_ids + 1, a history entry) and manifest.
//
// What overlayfs wrote is turned back into the image spec's form:
//   a whiteout (char device 0:0)                 → an empty file ".wh.NAME"
//   an opaque dir (trusted.overlay.opaque = y)   → the dir, then "DIR/.wh..wh..opq"
// Files keep mode (setuid too), owner (mapped back through the container's uid/gid maps when it
// ran in a user namespace), mtime, hardlinks (by inode) and file capabilities / user.* xattrs.
// Device nodes and sockets a container made are left out (the unpacker refuses devices) and listed.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, fstatSync, lstatSync, readdirSync, readlinkSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { lgetxattr, llistxattr } from '../../../native/libc.js';
import { RootDir } from '../rootfs/resolve.js';
import { InvalidArgument } from '../types.js';
import type { ContainerRecord, IdMapping } from '../types.js';
import { HashingStream } from './compression.js';
import type { ContentSink } from './content.js';
import { familiarString, parseReference } from './reference.js';
import { MT, type Descriptor, type ManifestJson } from './registry/media.js';
import type { OciHistory, OciImageConfig, ResolvedImage } from './store.js';

export interface CommitOptions {
  /** "name[:tag]"; default: the container's name, tag "latest" */
  ref?: string;
  /** no tag at all (docker commit without a repository): a dangling <none>:<none> image, as Docker makes */
  untagged?: boolean;
  comment?: string;
  author?: string;
  /** config fields to change in the new image (docker commit --change CMD/ENV/…) */
  changes?: NonNullable<OciImageConfig['config']>;
}

export interface CommitResult {
  id: string;
  /** the tag given to the image; null for an untagged commit */
  ref: string | null;
  manifestDigest: string;
  diffId: string;
  size: number;
  /** paths left out of the layer (device nodes, sockets) */
  skipped: string[];
  image: ResolvedImage;
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

function isOpaque(path: string): boolean {
  for (const name of ['trusted.overlay.opaque', 'user.overlay.opaque']) {
    const v = lgetxattr(path, name);
    if (v && v.toString() === 'y') return true;
  }
  return false;
}

/** host id → id inside the container, through the maps it ran with (identity without maps). */
function unmap(id: number, maps: IdMapping[] | undefined): number {
  if (!maps?.length) return id;
  for (const m of maps) if (id >= m.hostId && id < m.hostId + m.size) return m.containerId + (id - m.hostId);
  return 65534; // the overflow id: a file of a host user the container could not name
}

/** file capabilities and user attributes travel; overlayfs' own (trusted.overlay.*) never */
function paxOf(path: string): Record<string, string> | undefined {
  let names: string[];
  try {
    names = llistxattr(path);
  } catch {
    return undefined;
  }
  const pax: Record<string, string> = {};
  for (const n of names) {
    if (n !== 'security.capability' && !(n.startsWith('user.') && !n.startsWith('user.overlay.'))) continue;
    const v = lgetxattr(path, n);
    if (v) pax[`SCHILY.xattr.${n}`] = v.toString('latin1');
  }
  return Object.keys(pax).length ? pax : undefined;
}

/** Tar the upper dir into `out` (sorted, parents before children). Returns what it left out. */
export async function tarUpperDir(upper: string, out: NodeJS.WritableStream, maps: { uid?: IdMapping[]; gid?: IdMapping[] } = {}): Promise<string[]> {
  const pack = tar.pack();
  const sending = pipeline(pack, out as NodeJS.WritableStream & import('node:stream').Writable);
  const skipped: string[] = [];
  const inodes = new Map<string, string>();
  type H = Partial<tar.Header> & { name: string };
  const put = (h: H, body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(h, body, cb);
      else pack.entry(h, cb);
    });
  const EMPTY = Buffer.alloc(0);
  // The upper dir is the container's: each directory is held open (RootDir) and its entries are
  // named through it, so an entry swapped for a symlink or a FIFO after the listing is never
  // followed or opened (a host file must not end up in the layer, nor block the commit).
  const walk = async (rel: string): Promise<void> => {
    const dir = RootDir.open(upper, rel);
    if (!dir) return; // replaced by something else since its parent was listed: not a directory now
    try {
      for (const name of readdirSync(dir.path()).sort()) await entry(dir, rel, name);
    } finally {
      dir.close();
    }
  };
  const entry = async (dir: RootDir, rel: string, name: string): Promise<void> => {
    const r = rel ? `${rel}/${name}` : name;
    const p = dir.path(name);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return; // gone since the listing
    const common = { mtime: st.mtime, uid: unmap(st.uid, maps.uid), gid: unmap(st.gid, maps.gid), mode: st.mode }; // with the type bits: tar-stream turns a mode of 0 into 0644
    if (isWhiteout(st)) {
      const d = rel ? `${rel}/` : '';
      await put({ ...common, name: `${d}.wh.${name}`, type: 'file', size: 0, mode: 0o100600 }, EMPTY);
    } else if (st.isDirectory()) {
      await put({ ...common, name: `${r}/`, type: 'directory', pax: paxOf(p) } as H);
      if (isOpaque(p)) await put({ ...common, name: `${r}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o100600 }, EMPTY);
      await walk(r);
    } else if (st.isSymbolicLink()) {
      await put({ ...common, name: r, type: 'symlink', linkname: readlinkSync(p) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first) {
        await put({ ...common, name: r, type: 'link', linkname: first });
        return;
      }
      if (st.nlink > 1) inodes.set(key, r);
      const fd = dir.openFile(name); // the regular file lstat saw, or an error: never a symlink's target
      const size = fstatSync(fd).size;
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry({ ...common, name: r, type: 'file', size, pax: paxOf(p) } as H, (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream('', { fd, autoClose: true }), w).catch(reject);
      });
    } else if (st.isFIFO()) {
      await put({ ...common, name: r, type: 'fifo' });
    } else {
      skipped.push(`/${r}`); // device nodes, sockets
    }
  };
  try {
    await walk('');
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
  await sending;
  return skipped;
}

function defaultRef(rec: ContainerRecord): string {
  const n = rec.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || `c${rec.id.slice(0, 12)}`;
  return `${n}:latest`;
}

/**
 * Make an image of a container: its image plus the upper dir as one more layer. The caller pauses
 * a running container first (Docker's default) so the layer is a consistent snapshot.
 */
export async function commitContainer(sink: ContentSink, rec: ContainerRecord, opts: CommitOptions = {}): Promise<CommitResult> {
  const ref = opts.untagged ? null : familiarString(parseReference(opts.ref ?? defaultRef(rec)));
  if (ref?.includes('@')) throw new InvalidArgument('a commit is named by a tag, not a digest');
  const parent = sink.resolve(rec.image.id);
  const tmp = join(sink.tmpDir(), `commit-${randomBytes(6).toString('hex')}`);
  const hasher = new HashingStream();
  let skipped: string[];
  try {
    const file = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
    const writing = pipeline(hasher, file);
    skipped = await tarUpperDir(rec.paths.upper, hasher, { uid: rec.userns?.uidMap ?? rec.config.uidMap, gid: rec.userns?.gidMap ?? rec.config.gidMap });
    await writing;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const diffId = hasher.digest();
  const size = hasher.bytes;
  sink.putBlobFile(tmp, diffId); // uncompressed: the blob's digest is its diff_id
  const now = new Date().toISOString();
  const parentManifest = JSON.parse(sink.getBlob(parent.manifestDigest).toString()) as ManifestJson;
  const docker = parentManifest.mediaType === MT.dockerManifest;
  const history: OciHistory & { author?: string } = {
    created: now,
    created_by: [rec.path, ...rec.args].join(' '),
    ...(opts.author ? { author: opts.author } : {}),
    ...(opts.comment ? { comment: opts.comment } : {}),
  };
  const config: OciImageConfig & { author?: string; container?: string; comment?: string } = {
    ...parent.config,
    created: now,
    ...(opts.author ? { author: opts.author } : {}),
    container: rec.id,
    config: { ...(parent.config.config ?? {}), ...(opts.changes ?? {}) },
    rootfs: { type: 'layers', diff_ids: [...parent.config.rootfs.diff_ids, diffId] },
    history: [...(parent.config.history ?? []), history],
  };
  if (!opts.author) delete config.author;
  const configBody = Buffer.from(JSON.stringify(config));
  const configDigest = sink.putBlob(configBody);
  const layer: Descriptor = { mediaType: docker ? MT.dockerLayer : MT.ociLayer, digest: diffId, size };
  const manifest: ManifestJson = {
    schemaVersion: 2,
    mediaType: docker ? MT.dockerManifest : MT.ociManifest,
    config: { mediaType: parentManifest.config.mediaType || MT.ociConfig, digest: configDigest, size: configBody.length },
    layers: [...parentManifest.layers, layer],
  };
  const manifestDigest = sink.putBlob(Buffer.from(JSON.stringify(manifest)));
  const image = await sink.addImageFromBlobs({ manifestDigest, refs: ref ? [ref] : [] });
  return { id: image.id, ref, manifestDigest, diffId, size, skipped, image };
}
