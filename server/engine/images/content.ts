// What registry pulls, archive imports and commits need from the content store, and its
// implementation over ImageStore (store.ts). ImageStore.addImage takes uncompressed layer tars
// and writes its own manifest; a pulled or imported image keeps the manifest it came with (so
// its digests survive a round trip) and its layers as they were compressed. So this adds images
// from blobs already in the store: manifest → config → layers, each layer unpacked once into
// layers/sha256/<diff_id>, after its uncompressed content is checked against the diff_id.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgument } from '../types.js';
import { HashingStream, openDecompressed } from './compression.js';
import { isManifest, type ManifestJson } from './registry/media.js';
import { normalizeRef, sha256, type ImageStore, type OciImageConfig, type ResolvedImage } from './store.js';
import { DEFAULT_LIMITS, unpackLayer, type UnpackLimits } from './unpack.js';

export interface LayerEvent {
  /** blob digest of the layer */
  digest: string;
  diffId: string;
  status: 'extracting' | 'extracted' | 'exists';
}

export interface ContentSink {
  hasBlob(digest: string): boolean;
  /** is the layer with this diff_id unpacked? */
  hasLayer(diffId: string): boolean;
  /** the manifest digest a reference points at, or null */
  manifestOf(ref: string): string | null;
  /** read and verify */
  getBlob(digest: string): Buffer;
  blobPath(digest: string): string;
  putBlob(data: Buffer): string;
  /** move a file whose digest the caller verified into the store */
  putBlobFile(path: string, digest: string): void;
  /** stream-check a (large) blob against its digest and size */
  verifyBlob(digest: string, size?: number): Promise<void>;
  /** an image by reference or id */
  resolve(refOrId: string): ResolvedImage;
  /** every tag of an image (by its id) */
  tagsOf(imageId: string): string[];
  /** a scratch directory on the store's filesystem */
  tmpDir(): string;
  /**
   * Unpack a plain (uncompressed) layer tar from a stream into `dest` (a new directory on the
   * store's filesystem), with the store's limits: `docker load` unpacks a layer while it writes its
   * blob, in the one pass over the archive. Rejects when the stream is not a layer it accepts.
   */
  stageLayer?(input: Readable, dest: string): Promise<void>;
  /** Move a layer stageLayer unpacked into place as the layer with this diff_id (which the caller verified), unless one is there. */
  adoptStagedLayer?(diffId: string, staged: string): void;
  /** Unpack the layers of a manifest whose blobs are all in the store, then point refs at it. */
  addImageFromBlobs(opts: { manifestDigest: string; refs: string[]; onLayer?: (e: LayerEvent) => void }): Promise<ResolvedImage>;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export class StoreContent implements ContentSink {
  constructor(
    readonly store: ImageStore,
    readonly limits: UnpackLimits = DEFAULT_LIMITS,
  ) {}

  hasBlob(digest: string): boolean {
    return this.store.hasBlob(digest);
  }
  hasLayer(diffId: string): boolean {
    return DIGEST_RE.test(diffId) && existsSync(this.store.layerDir(diffId));
  }
  manifestOf(ref: string): string | null {
    try {
      return this.store.resolve(ref).manifestDigest;
    } catch {
      return null;
    }
  }
  verifyBlob(digest: string, size?: number): Promise<void> {
    return this.store.verifyBlob(digest, size);
  }
  resolve(refOrId: string): ResolvedImage {
    return this.store.resolve(refOrId);
  }
  tagsOf(imageId: string): string[] {
    return this.store.list().find((i) => i.id === imageId)?.repoTags ?? [];
  }
  getBlob(digest: string): Buffer {
    return this.store.getBlob(digest);
  }
  blobPath(digest: string): string {
    return this.store.blobPath(digest);
  }
  putBlob(data: Buffer): string {
    return this.store.putBlob(data).digest;
  }
  putBlobFile(path: string, digest: string): void {
    const dest = this.store.blobPath(digest);
    if (existsSync(dest)) rmSync(path, { force: true });
    else renameSync(path, dest);
  }
  tmpDir(): string {
    const d = join(this.store.dir, 'tmp');
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  }

  stageLayer(input: Readable, dest: string): Promise<void> {
    return unpackLayer(input, dest, this.tmpDir(), this.limits);
  }

  adoptStagedLayer(diffId: string, staged: string): void {
    if (!DIGEST_RE.test(diffId)) throw new InvalidArgument(`unsupported diff_id ${diffId}`);
    const dir = this.store.layerDir(diffId);
    if (existsSync(dir)) return;
    try {
      renameSync(staged, dir);
    } catch (e) {
      if (!existsSync(dir)) throw e; // else another unpack of the same layer won: use theirs
    }
  }

  /**
   * Unpack one layer blob (plain, gzip or zstd) into its diff_id's directory, unless it is there.
   * It goes into a scratch directory first and is renamed into place only once the tar's sha256
   * matched the diff_id: a layer that lies about its content leaves nothing behind.
   */
  async ensureLayer(blobDigest: string, diffId: string): Promise<'exists' | 'extracted'> {
    if (!DIGEST_RE.test(diffId)) throw new InvalidArgument(`unsupported diff_id ${diffId}`);
    const dir = this.store.layerDir(diffId);
    if (existsSync(dir)) return 'exists';
    const tmp = this.tmpDir();
    const staged = join(tmp, `layer-${randomBytes(6).toString('hex')}`);
    const { stream } = openDecompressed(this.store.blobPath(blobDigest));
    const hasher = new HashingStream();
    stream.on('error', (e) => hasher.destroy(e));
    try {
      await unpackLayer(stream.pipe(hasher), staged, tmp, this.limits);
      const got = hasher.digest();
      if (got !== diffId) throw new InvalidArgument(`layer ${blobDigest}: its uncompressed content has digest ${got}, but the image config says ${diffId}`);
      try {
        renameSync(staged, dir);
      } catch (e) {
        if (!existsSync(dir)) throw e; // else another unpack of the same layer won: use theirs
      }
    } finally {
      stream.destroy();
      rmSync(staged, { recursive: true, force: true });
    }
    return 'extracted';
  }

  async addImageFromBlobs(opts: { manifestDigest: string; refs: string[]; onLayer?: (e: LayerEvent) => void }): Promise<ResolvedImage> {
    const manifest = JSON.parse(this.getBlob(opts.manifestDigest).toString()) as ManifestJson;
    if (!isManifest(manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json')) throw new InvalidArgument(`${opts.manifestDigest} is not an image manifest`);
    const config = JSON.parse(this.getBlob(manifest.config.digest).toString()) as OciImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidArgument(`image config lists ${diffIds.length} diff_ids for ${manifest.layers.length} layers`);
    }
    for (const [i, l] of manifest.layers.entries()) {
      if (!this.hasBlob(l.digest)) throw new InvalidArgument(`layer ${l.digest} is missing`);
      opts.onLayer?.({ digest: l.digest, diffId: diffIds[i], status: existsSync(this.store.layerDir(diffIds[i])) ? 'exists' : 'extracting' });
      const r = await this.ensureLayer(l.digest, diffIds[i]);
      if (r === 'extracted') opts.onLayer?.({ digest: l.digest, diffId: diffIds[i], status: 'extracted' });
    }
    for (const ref of opts.refs) this.setReference(ref, opts.manifestDigest);
    // no name (an untagged commit): kept as a dangling image until rmi or prune, as in Docker
    if (!opts.refs.length) this.store.keepDangling(opts.manifestDigest);
    return opts.refs.length ? this.store.resolve(opts.refs[0]) : this.store.resolve(manifest.config.digest);
  }

  /** Point a reference at a manifest (ImageStore.setReference), and check it resolves. */
  setReference(ref: string, manifestDigest: string): void {
    if (!DIGEST_RE.test(manifestDigest)) throw new InvalidArgument(`unsupported digest ${manifestDigest}`);
    const name = normalizeRef(ref);
    this.store.setReference(name, manifestDigest);
    this.store.resolve(name);
  }

  /** Digest of a buffer, as the store names blobs. */
  static digest(data: Buffer): string {
    return sha256(data);
  }
}
