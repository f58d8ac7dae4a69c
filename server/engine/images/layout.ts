// Images as files: an OCI image layout (directory or tar) and `docker save`'s tarball, both ways.
//
//   OCI layout:  oci-layout {"imageLayoutVersion":"1.0.0"}, index.json, blobs/sha256/<hex>
//                the tag is the annotation org.opencontainers.image.ref.name ("v1" or a full name);
//                containerd and Docker add io.containerd.image.name with the full name
//   docker save: manifest.json [{Config, RepoTags, Layers}] (+ the legacy "repositories");
//                Docker 25+ writes an OCI layout beside it, and so does Glassbox's export
//
// Import copies every blob into the store only after its digest checked out, keeps manifests as
// they are (an exported and re-imported image has the same digests), and unpacks layers through
// the safe unpacker. An archive is read by a small extractor of its own that writes regular files
// only, under names it checked; links in the archive (old docker save shares layer.tar files by
// symlink) are resolved by name, inside the archive, never created on disk.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, createReadStream, createWriteStream, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { once } from 'node:events';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidArgument, NotFound } from '../types.js';
import { decompressedStream, fileCompression, openDecompressed } from './compression.js';
import type { ContentSink } from './content.js';
import { familiarString, formatReference, parseReference } from './reference.js';
import { hostPlatform, isIndex, isManifest, MT, pickPlatform, type Descriptor, type IndexJson, type ManifestJson } from './registry/media.js';
import type { OciImageConfig } from './store.js';
import { safeName } from './unpack.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const FIXED_TIME = new Date('1970-01-01T00:00:00Z');
/** blobs up to this size (configs, manifests) are checked before a save sends anything */
const SMALL_BLOB = 1 << 20;

export interface ImportedImage {
  /** the names it got in the store ("busybox:latest"); none when the archive named it not */
  refs: string[];
  /** sha256 of the config */
  id: string;
  manifestDigest: string;
}

export interface ImportOptions {
  /** name the (single) image of the archive; a tag-only OCI ref.name is put after this name */
  ref?: string;
  /** image name for OCI layouts whose ref.name is only a tag; default: "imported" */
  defaultName?: string;
  /** cap on the archive's entries (not the layers': the unpacker has its own) */
  maxEntries?: number;
}

// ------------------------------------------------------------------ reading an archive

/** A directory of files from an archive, with its links kept as a name map. */
class ArchiveDir {
  readonly links = new Map<string, string>();
  /**
   * The sha256 and size of each file extracted here, taken while it was written (extractArchive):
   * its blob then goes into the store by a rename, with no second read. Empty for a directory
   * given as is (its files are not ours to move, and could change under us: they are copied).
   */
  readonly digests = new Map<string, { digest: string; size: number }>();
  /** files unpacked as a layer while they were extracted (see extractArchive's stage): path → the staged layer directory */
  readonly staged = new Map<string, string>();
  constructor(
    readonly root: string,
    /** the files are ours (extracted into a scratch dir on the store's filesystem): blobs may be moved out */
    readonly owned = false,
  ) {}

  /** The real file behind a name: links followed by name, never out of the archive. */
  resolve(name: string): string {
    let rel = safeName(name);
    for (let hop = 0; hop < 16; hop++) {
      const to = this.links.get(rel);
      if (to === undefined) {
        const p = join(this.root, rel);
        const st = lstatSync(p, { throwIfNoEntry: false });
        if (!st || !st.isFile()) throw new InvalidArgument(`archive: "${name}" is missing`);
        return p;
      }
      rel = to;
    }
    throw new InvalidArgument(`archive: "${name}": too many links`);
  }

  has(name: string): boolean {
    try {
      this.resolve(name);
      return true;
    } catch {
      return false;
    }
  }

  readJson<T>(name: string, limit = 16 * 1024 * 1024): T {
    const p = this.resolve(name);
    if (statSync(p).size > limit) throw new InvalidArgument(`archive: ${name} is too large`);
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as T;
    } catch {
      throw new InvalidArgument(`archive: ${name} is not valid JSON`);
    }
  }
}

/**
 * Extract an image archive (a plain tar stream) into `dest`: regular files only, each hashed as it
 * is written (the one pass over the archive's bytes; see ArchiveDir.digests).
 */
async function extractArchive(input: Readable, dest: string, maxEntries: number, stage?: Stager): Promise<ArchiveDir> {
  const dir = new ArchiveDir(dest, true);
  const stagedRoot = join(dest, '..', 'staged');
  mkdirSync(dest, { recursive: true, mode: 0o700 });
  const extract = tar.extract();
  let feedError: Error | null = null;
  const feeding = pipeline(input, extract).catch((e: Error) => {
    feedError = e;
  });
  let n = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (++n > maxEntries) throw new InvalidArgument(`archive: more than ${maxEntries} entries`);
      const rel = safeName(h.name);
      if (rel === '' || h.type === 'directory') {
        entry.resume();
        continue;
      }
      if (h.type === 'symlink' || h.type === 'link') {
        // symlink targets are relative to the link's directory, hardlink targets to the root
        const target = h.type === 'symlink' ? posix.normalize(posix.join(posix.dirname(rel), h.linkname ?? '')) : posix.normalize(h.linkname ?? '');
        if (target.startsWith('/') || target === '..' || target.startsWith('../')) throw new InvalidArgument(`archive: link "${h.name}" points outside the archive`);
        dir.links.set(rel, safeName(target));
        entry.resume();
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file') throw new InvalidArgument(`archive: "${h.name}" is a ${h.type}, not a file`);
      const path = join(dest, rel);
      // parents are made by us, as directories; a name used twice is an error, never overwritten
      mkdirSync(posix.dirname(path), { recursive: true, mode: 0o700 });
      if (existsSync(path) || dir.links.has(rel)) throw new InvalidArgument(`archive: "${h.name}" appears twice`);
      const hash = createHash('sha256');
      let size = 0;
      // a big file may be a plain layer tar: unpacked as it goes by, beside its blob file
      const staging = stage && (h.size ?? 0) >= STAGE_MIN_BYTES ? join(stagedRoot, `layer-${n}`) : null;
      let feed: PassThrough | null = null;
      let staged: Promise<boolean> | null = null;
      if (staging) {
        mkdirSync(stagedRoot, { recursive: true, mode: 0o700 });
        feed = new PassThrough({ highWaterMark: 1 << 20 });
        staged = stage!(feed, staging).then(
          () => true,
          () => false, // not a layer (or one the unpacker refuses): ensureLayer reads the blob later and says why
        );
      }
      let feeding = !!feed;
      const written = pipeline(
        entry as unknown as Readable,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const c of source) {
            hash.update(c);
            size += c.length;
            if (feeding && !feed!.write(c)) {
              // the unpacker's pace, unless it gave up (or finished at the tar's end)
              if ((await Promise.race([once(feed!, 'drain').then(() => 'drained'), staged!])) !== 'drained') feeding = false;
            }
            yield c;
          }
        },
        createWriteStream(path, { flags: 'wx', mode: 0o600 }),
      );
      try {
        await written;
      } catch (e) {
        feed?.destroy(e as Error); // the unpacker stops (and cleans up) too
        await staged;
        throw e;
      }
      dir.digests.set(path, { digest: 'sha256:' + hash.digest('hex'), size });
      if (feed && staging) {
        feed.end();
        if (await staged) dir.staged.set(path, staging);
        else {
          feed.destroy();
          rmSync(staging, { recursive: true, force: true });
        }
      }
    }
    await feeding;
    if (feedError) throw new InvalidArgument(`archive: not a readable tar (${(feedError as Error).message})`);
  } catch (e) {
    extract.destroy();
    throw e;
  }
  return dir;
}

/** Unpacks a plain layer tar from a stream into a new directory (ContentSink.stageLayer). */
type Stager = (input: Readable, dest: string) => Promise<void>;
/** files from this size on are tried as layers while they are extracted */
const STAGE_MIN_BYTES = 1 << 20;

/**
 * A layer unpacked while the archive was read goes into place now that its digest is known to be
 * its diff_id: a plain tar, whose blob digest is the digest of its uncompressed content.
 */
function adoptStaged(sink: ContentSink, dir: ArchiveDir, path: string, blobDigest: string, diffId: string | undefined): void {
  const staged = dir.staged.get(path);
  if (!staged || !sink.adoptStagedLayer || diffId !== blobDigest) return;
  dir.staged.delete(path);
  sink.adoptStagedLayer(diffId, staged);
}

// ------------------------------------------------------------------ blobs into the store

/**
 * Put an archive's file into the store's blob area if its sha256 (and size) is what it claims: by a
 * hard link when extractArchive hashed it on the way in (the store's own scratch dir: same
 * filesystem), otherwise copied while hashed.
 */
async function ingestBlob(sink: ContentSink, src: string, digest: string, size?: number, dir?: ArchiveDir): Promise<void> {
  if (!DIGEST_RE.test(digest)) throw new InvalidArgument(`unsupported digest ${digest}`);
  if (sink.hasBlob(digest)) return;
  const known = dir?.owned ? dir.digests.get(src) : undefined;
  if (known) {
    if (known.digest !== digest) throw new InvalidArgument(`blob ${digest} has digest ${known.digest}`);
    if (size !== undefined && known.size !== size) throw new InvalidArgument(`blob ${digest} has ${known.size} bytes where its descriptor says ${size}`);
    // a hard link, not a move: another name of the archive (a link, a layer two images share)
    // may still resolve to this file; the scratch dir goes at the end of the import
    const tmp = join(sink.tmpDir(), `ingest-${randomBytes(6).toString('hex')}`);
    linkSync(src, tmp);
    sink.putBlobFile(tmp, digest);
    return;
  }
  const tmp = join(sink.tmpDir(), `ingest-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  let n = 0;
  try {
    await pipeline(
      createReadStream(src),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const c of source) {
          hash.update(c);
          n += c.length;
          yield c;
        }
      },
      createWriteStream(tmp, { flags: 'wx', mode: 0o600 }),
    );
    const got = 'sha256:' + hash.digest('hex');
    if (got !== digest) throw new InvalidArgument(`blob ${digest} has digest ${got}`);
    if (size !== undefined && n !== size) throw new InvalidArgument(`blob ${digest} has ${n} bytes where its descriptor says ${size}`);
    sink.putBlobFile(tmp, digest);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** sha256 of a file's bytes (known already for a file extracted from a stream) */
async function fileDigest(path: string, dir?: ArchiveDir): Promise<{ digest: string; size: number }> {
  const known = dir?.digests.get(path);
  if (known) return known;
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(c);
    size += c.length;
  }
  return { digest: 'sha256:' + hash.digest('hex'), size };
}

/** The store name for an OCI entry's annotations, or null when it names nothing. */
function nameFromAnnotations(a: Record<string, string> | undefined, defaultName: string): string | null {
  const full = a?.[CONTAINERD_NAME];
  if (full) return familiarString(parseReference(full));
  const rn = a?.[REF_NAME];
  if (!rn) return null;
  if (TAG_RE.test(rn)) return familiarString(parseReference(`${defaultName}:${rn}`));
  return familiarString(parseReference(rn));
}

// ------------------------------------------------------------------ import

async function importOciLayout(sink: ContentSink, dir: ArchiveDir, opts: ImportOptions): Promise<ImportedImage[]> {
  const layout = dir.has('oci-layout') ? dir.readJson<{ imageLayoutVersion?: string }>('oci-layout') : null;
  if (layout && layout.imageLayoutVersion !== '1.0.0') throw new InvalidArgument(`OCI layout version ${layout.imageLayoutVersion} is not supported`);
  const index = dir.readJson<IndexJson>('index.json');
  if (!Array.isArray(index.manifests)) throw new InvalidArgument('index.json has no manifests');
  const blob = (d: string) => {
    if (!DIGEST_RE.test(d)) throw new InvalidArgument(`unsupported digest ${d}`);
    return dir.resolve(`blobs/sha256/${d.slice(7)}`);
  };
  const readBlob = async (d: Descriptor): Promise<Buffer> => {
    const p = blob(d.digest);
    if (statSync(p).size > 16 * 1024 * 1024) throw new InvalidArgument(`${d.digest} is too large for a manifest or config`);
    const data = readFileSync(p);
    const got = 'sha256:' + createHash('sha256').update(data).digest('hex');
    if (got !== d.digest || (d.size !== undefined && data.length !== d.size)) throw new InvalidArgument(`blob ${d.digest} does not match its descriptor`);
    return data;
  };
  const out: ImportedImage[] = [];
  const defaultName = opts.defaultName ?? 'imported';
  for (const top of index.manifests) {
    let desc = top;
    // an index inside: this host's platform, or its only entry
    for (let depth = 0; isIndex(desc.mediaType); depth++) {
      if (depth > 2) throw new InvalidArgument('indexes nested too deep');
      const inner = JSON.parse((await readBlob(desc)).toString()) as IndexJson;
      const pick = pickPlatform(inner, hostPlatform()) ?? (inner.manifests.length === 1 ? inner.manifests[0] : null);
      if (!pick) throw new NotFound(`no image for ${hostPlatform().os}/${hostPlatform().architecture} in the archive's index`);
      desc = pick;
    }
    if (!isManifest(desc.mediaType)) continue; // artifacts, attestations: not images
    const manifestBody = await readBlob(desc);
    const manifest = JSON.parse(manifestBody.toString()) as ManifestJson;
    const configBody = await readBlob(manifest.config);
    const diffIds = (JSON.parse(configBody.toString()) as OciImageConfig).rootfs?.diff_ids ?? [];
    for (const [i, l] of manifest.layers.entries()) {
      await ingestBlob(sink, blob(l.digest), l.digest, l.size, dir);
      adoptStaged(sink, dir, blob(l.digest), l.digest, diffIds[i]);
    }
    sink.putBlob(configBody);
    sink.putBlob(manifestBody);
    const name = opts.ref ? familiarString(parseReference(opts.ref)) : nameFromAnnotations(top.annotations, defaultName);
    if (!name) throw new InvalidArgument('the archive does not name its image (no org.opencontainers.image.ref.name): give it a name');
    const img = await sink.addImageFromBlobs({ manifestDigest: desc.digest, refs: [name] });
    const existing = out.find((o) => o.manifestDigest === desc.digest);
    if (existing) {
      if (name && !existing.refs.includes(name)) existing.refs.push(name);
    } else out.push({ refs: name ? [name] : [], id: img.id, manifestDigest: desc.digest });
  }
  if (out.length === 0) throw new InvalidArgument('the archive holds no image');
  return out;
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function importDockerSave(sink: ContentSink, dir: ArchiveDir, opts: ImportOptions): Promise<ImportedImage[]> {
  const entries = dir.readJson<DockerSaveEntry[]>('manifest.json');
  if (!Array.isArray(entries) || entries.length === 0) throw new InvalidArgument('manifest.json lists no image');
  const out: ImportedImage[] = [];
  for (const e of entries) {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw new InvalidArgument('manifest.json: an entry without Config or Layers');
    const configPath = dir.resolve(e.Config);
    if (statSync(configPath).size > 16 * 1024 * 1024) throw new InvalidArgument('image config too large');
    const configBody = readFileSync(configPath);
    const config = JSON.parse(configBody.toString()) as OciImageConfig;
    if (config.rootfs?.diff_ids?.length !== e.Layers.length) throw new InvalidArgument(`image config lists ${config.rootfs?.diff_ids?.length ?? 0} diff_ids for ${e.Layers.length} layers`);
    const layers: Descriptor[] = [];
    for (const [i, l] of e.Layers.entries()) {
      const p = dir.resolve(l);
      const { digest, size } = await fileDigest(p, dir);
      const c = fileCompression(p);
      await ingestBlob(sink, p, digest, size, dir);
      adoptStaged(sink, dir, p, digest, config.rootfs.diff_ids[i]);
      layers.push({ mediaType: c === 'gzip' ? MT.ociLayerGzip : c === 'zstd' ? MT.ociLayerZstd : MT.ociLayer, digest, size });
    }
    const configDigest = sink.putBlob(configBody);
    // the manifest `docker save` does not carry, made the way the store makes its own
    const manifestBody = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: configDigest, size: configBody.length }, layers }),
    );
    const manifestDigest = sink.putBlob(manifestBody);
    const names = opts.ref ? [familiarString(parseReference(opts.ref))] : (e.RepoTags ?? []).map((t) => familiarString(parseReference(t)));
    const img = await sink.addImageFromBlobs({ manifestDigest, refs: names });
    out.push({ refs: names, id: img.id, manifestDigest });
  }
  return out;
}

/**
 * docker load / import of an OCI layout: a directory, a tar file (plain or gzip'd), or a stream
 * of one. Images the archive does not name are imported under opts.ref, or refused.
 */
export async function importArchive(sink: ContentSink, source: string | Readable, opts: ImportOptions = {}): Promise<ImportedImage[]> {
  const work = join(sink.tmpDir(), `import-${randomBytes(6).toString('hex')}`);
  try {
    let dir: ArchiveDir;
    if (typeof source === 'string' && statSync(source).isDirectory()) {
      dir = new ArchiveDir(source);
      if (!opts.defaultName) opts = { ...opts, defaultName: defaultNameFor(source) };
    } else {
      // a stream may be compressed too: told by its first bytes, decompressed on the way in
      const input = typeof source === 'string' ? openDecompressed(source).stream : (await decompressedStream(source)).stream;
      dir = await extractArchive(input, join(work, 'x'), opts.maxEntries ?? 100_000, sink.stageLayer?.bind(sink));
    }
    const images = dir.has('index.json') ? await importOciLayout(sink, dir, opts) : dir.has('manifest.json') ? await importDockerSave(sink, dir, opts) : null;
    if (!images) throw new InvalidArgument('not an image archive: neither index.json (OCI layout) nor manifest.json (docker save) is in it');
    // a docker-save tar without RepoTags (docker save <id>) loads as an untagged image, as in Docker
    if (!dir.has('manifest.json') && images.some((i) => i.refs.length === 0)) {
      throw new InvalidArgument('the archive does not name its image (no org.opencontainers.image.ref.name): give it a name');
    }
    return images;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function defaultNameFor(path: string): string {
  const b = basename(path).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  try {
    return b ? familiarString(parseReference(b)).replace(/:latest$/, '') : 'imported';
  } catch {
    return 'imported';
  }
}

// ------------------------------------------------------------------ export

export type ExportFormat = 'oci' | 'docker';

interface ExportPlan {
  blobs: Map<string, number>; // digest → size
  index: IndexJson;
  dockerManifest: DockerSaveEntry[];
  repositories: Record<string, Record<string, string>>;
}

function plan(sink: ContentSink, refs: string[]): ExportPlan {
  const blobs = new Map<string, number>();
  const index: IndexJson = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };
  const dockerManifest: DockerSaveEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const seen = new Set<string>();
  for (const ref of refs) {
    const img = sink.resolve(ref);
    // a name asked for exports that name; an id exports no name at all (as docker save does)
    const byName = img.ref === ref || (() => {
      try {
        return familiarString(parseReference(ref)) === img.ref;
      } catch {
        return false;
      }
    })();
    const tags = byName ? [img.ref] : [];
    const manifestBody = sink.getBlob(img.manifestDigest);
    blobs.set(img.manifestDigest, manifestBody.length);
    blobs.set(img.manifest.config.digest, img.manifest.config.size);
    for (const l of img.manifest.layers) blobs.set(l.digest, l.size);
    const mt = (JSON.parse(manifestBody.toString()) as ManifestJson).mediaType ?? MT.ociManifest;
    for (const t of tags.length ? tags : [null]) {
      const annotations: Record<string, string> = {};
      if (t) {
        const r = parseReference(t);
        annotations[CONTAINERD_NAME] = formatReference(r);
        annotations[REF_NAME] = r.tag ?? 'latest';
      }
      const key = `${img.manifestDigest} ${t}`;
      if (seen.has(key)) continue;
      seen.add(key);
      index.manifests.push({ mediaType: mt, digest: img.manifestDigest, size: manifestBody.length, ...(t ? { annotations } : {}) });
    }
    const existing = dockerManifest.find((m) => m.Config === `blobs/sha256/${img.id.slice(7)}`);
    const repoTags = tags.map((t) => t);
    if (existing) existing.RepoTags = [...new Set([...(existing.RepoTags ?? []), ...repoTags])];
    else dockerManifest.push({ Config: `blobs/sha256/${img.id.slice(7)}`, RepoTags: repoTags, Layers: img.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
    const top = img.manifest.layers.at(-1);
    for (const t of tags) {
      const r = parseReference(t);
      const name = familiarString({ ...r, tag: undefined, digest: undefined });
      if (top) (repositories[name] ??= {})[r.tag ?? 'latest'] = top.digest.slice(7);
    }
  }
  return { blobs, index, dockerManifest, repositories };
}

/** Write an OCI layout directory (what umoci and skopeo's oci: transport read). */
export async function exportToDirectory(sink: ContentSink, refs: string[], dir: string, format: ExportFormat = 'oci'): Promise<void> {
  const p = plan(sink, refs);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [d, size] of p.blobs) {
    await sink.verifyBlob(d, size);
    copyFileSync(sink.blobPath(d), join(dir, 'blobs', 'sha256', d.slice(7)));
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify(p.index));
  if (format === 'docker') {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(p.dockerManifest));
    writeFileSync(join(dir, 'repositories'), JSON.stringify(p.repositories));
  }
}

/**
 * Stream a tar: "oci" is an OCI layout; "docker" is docker save's manifest.json + repositories
 * over the same OCI layout, as Docker 25+ writes it (layers stay as stored: docker load reads
 * compressed layers too).
 */
export async function exportToStream(sink: ContentSink, refs: string[], out: Writable, format: ExportFormat = 'docker'): Promise<void> {
  const p = plan(sink, refs);
  // Every blob is checked against its digest. The small ones (configs, manifests) before the first
  // byte goes out; a layer's bytes are hashed as they are sent (one read, as docker save does, where
  // a check first read every layer twice) and a layer that does not match its digest ends the
  // stream with an error: the tar the client gets is cut short, never a corrupted image that loads.
  for (const [d, size] of p.blobs) {
    if (size <= SMALL_BLOB) await sink.verifyBlob(d, size);
    else if (statSync(sink.blobPath(d)).size !== size) throw new InvalidArgument(`blob ${d} is corrupted: ${statSync(sink.blobPath(d)).size} bytes where ${size} were written`);
  }
  const pack = tar.pack();
  const sending = pipeline(pack, out);
  const common = { mtime: FIXED_TIME, uid: 0, gid: 0, mode: 0o644 };
  const addBuffer = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry({ ...common, name, size: data.length }, data, (err) => (err ? reject(err) : resolve()));
    });
  const addFile = (name: string, path: string, size: number, digest: string) =>
    new Promise<void>((resolve, reject) => {
      const hash = createHash('sha256');
      const w = pack.entry({ ...common, name, size }, (err) => {
        if (err) return reject(err);
        const got = 'sha256:' + hash.digest('hex');
        if (size > SMALL_BLOB && got !== digest) return reject(new InvalidArgument(`blob ${digest} is corrupted: its content has digest ${got}`));
        resolve();
      });
      const src = createReadStream(path, { highWaterMark: 1 << 20 });
      src.on('data', (c) => hash.update(c));
      pipeline(src, w).catch(reject);
    });
  try {
    pack.entry({ ...common, name: 'blobs/', type: 'directory', mode: 0o755 });
    pack.entry({ ...common, name: 'blobs/sha256/', type: 'directory', mode: 0o755 });
    for (const [d, size] of [...p.blobs].sort(([a], [b]) => (a < b ? -1 : 1))) await addFile(`blobs/sha256/${d.slice(7)}`, sink.blobPath(d), size, d);
    await addBuffer('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    await addBuffer('index.json', Buffer.from(JSON.stringify(p.index)));
    if (format === 'docker') {
      await addBuffer('manifest.json', Buffer.from(JSON.stringify(p.dockerManifest)));
      await addBuffer('repositories', Buffer.from(JSON.stringify(p.repositories)));
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
  await sending;
}

/** For callers holding a Readable of an archive from memory (tests, small uploads). */
export const archiveFromBuffer = (b: Buffer): Readable => Readable.from([b]);
