// The content store: what an image is on disk, in the OCI image spec's terms.
//
//   <root>/images/blobs/sha256/<hex>        content-addressed blobs: layer tars, configs, manifests
//   <root>/images/layers/sha256/<hex>/      each layer unpacked once (hex = its diff_id), shared
//   <root>/images/repositories.json         references ("base:latest") → manifest digest
//   <root>/images/dangling.json             manifests untagged by force while containers use them
//
// An image is a manifest (config digest + layer digests) and a config (env, cmd, history,
// rootfs.diff_ids). Every blob is checked against its digest when it is read.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImageDetail, ImageSummary } from '../api.js';
import { Conflict, InvalidArgument, NotFound } from '../types.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { DEFAULT_LIMITS, unpackLayer, type UnpackLimits } from './unpack.js';

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
}

export interface OciHistory {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface OciImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config?: { Env?: string[]; Cmd?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string; User?: string; Labels?: Record<string, string>; StopSignal?: string };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: OciHistory[];
}

export interface ResolvedLayer {
  diffId: string;
  /** the unpacked layer directory */
  dir: string;
  size: number;
  createdBy: string;
}

export interface ResolvedImage {
  /** sha256:<hex> of the config blob, as docker images shows it */
  id: string;
  ref: string;
  manifestDigest: string;
  manifest: OciManifest;
  config: OciImageConfig;
  /** bottom first */
  layers: ResolvedLayer[];
}

const REF_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

/** "base" → "base:latest"; rejects what Docker would reject. */
export function normalizeRef(ref: string): string {
  let r = ref.trim();
  if (r.startsWith('docker.io/library/')) r = r.slice('docker.io/library/'.length);
  if (r.startsWith('library/')) r = r.slice('library/'.length);
  // a registry host with a port may contain ':' before the last '/'
  const lastSlash = r.lastIndexOf('/');
  const hasTag = r.slice(lastSlash + 1).includes(':');
  const withTag = hasTag ? r : `${r}:latest`;
  const host = withTag.includes('/') && /[.:]|^localhost$/.test(withTag.split('/')[0]) ? withTag.split('/')[0] + '/' : '';
  if (!REF_RE.test(withTag.slice(host.length))) throw new InvalidArgument(`invalid reference format: "${ref}"`);
  return withTag;
}

export const sha256 = (data: Buffer | string): string => 'sha256:' + createHash('sha256').update(data).digest('hex');
const hexOf = (digest: string): string => {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new InvalidArgument(`invalid digest: ${digest}`);
  return digest.slice(7);
};

export class ImageStore {
  readonly dir: string;

  /** caps on each layer unpacked (entries, bytes): 1,000,000 entries and 64 GiB unless told */
  readonly unpackLimits: UnpackLimits;

  constructor(
    readonly root: string,
    opts: { unpackLimits?: Partial<UnpackLimits> } = {},
  ) {
    this.unpackLimits = { ...DEFAULT_LIMITS, ...opts.unpackLimits };
    this.dir = join(root, 'images');
    for (const d of ['blobs/sha256', 'layers/sha256', 'tmp']) mkdirSync(join(this.dir, d), { recursive: true, mode: 0o711 });
  }

  /**
   * Remove what a killed server left half-done: unpack and ingest work dirs, uid-shifted copies
   * in progress. Call once at start, before anything is added (it would remove work under way).
   */
  sweepTmp(): number {
    let n = 0;
    const tmp = join(this.dir, 'tmp');
    for (const name of readdirSync(tmp)) {
      rmSync(join(tmp, name), { recursive: true, force: true });
      n++;
    }
    const shifted = join(this.dir, 'layers-shifted');
    for (const range of existsSync(shifted) ? readdirSync(shifted) : []) {
      const d = join(shifted, range, 'sha256');
      for (const name of existsSync(d) ? readdirSync(d) : []) {
        if (name.startsWith('.tmp-')) {
          rmSync(join(d, name), { recursive: true, force: true });
          n++;
        }
      }
    }
    return n;
  }

  // ---- blobs ----

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', hexOf(digest));
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  putBlob(data: Buffer): OciDescriptor & { digest: string } {
    const digest = sha256(data);
    if (!this.hasBlob(digest)) writeFileAtomic(this.blobPath(digest), data, 0o644);
    return { mediaType: '', digest, size: data.length };
  }

  /** Read a blob and check it is what its name (and, when given, its descriptor's size) says. */
  getBlob(digest: string, size?: number): Buffer {
    let data: Buffer;
    try {
      data = readFileSync(this.blobPath(digest));
    } catch {
      throw new NotFound(`blob ${digest} is not in the content store`);
    }
    if (size !== undefined && data.length !== size) throw new Error(`blob ${digest} is corrupted: ${data.length} bytes where its descriptor says ${size}`);
    if (sha256(data) !== digest) throw new Error(`blob ${digest} is corrupted: its content has digest ${sha256(data)}`);
    return data;
  }

  /** Check a blob of any size (a layer) by streaming it through sha256. */
  async verifyBlob(digest: string, size?: number): Promise<void> {
    const path = this.blobPath(digest);
    if (!existsSync(path)) throw new NotFound(`blob ${digest} is not in the content store`);
    const { digest: actual, size: n } = await hashStream(createReadStream(path));
    if (size !== undefined && n !== size) throw new Error(`blob ${digest} is corrupted: ${n} bytes where its descriptor says ${size}`);
    if (actual !== digest) throw new Error(`blob ${digest} is corrupted: its content has digest ${actual}`);
  }

  /** Check every blob of an image (manifest, config, layers) against its digest and size. */
  async verify(refOrId: string): Promise<void> {
    const img = this.resolve(refOrId); // manifest and config are checked on read
    for (const l of img.manifest.layers) await this.verifyBlob(l.digest, l.size);
  }

  /**
   * Copy a file into the store's scratch space, hashing it on the way: what is unpacked and
   * stored afterwards is the copy, so the digest holds even if the original changes meanwhile.
   */
  private async ingestFile(path: string): Promise<{ tmp: string; digest: string; size: number }> {
    const tmp = join(this.dir, 'tmp', `ingest-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const tee = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(path), tee, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw (e as NodeJS.ErrnoException).code === 'ENOENT' ? new InvalidArgument(`layer file not found: ${path}`) : e;
    }
    return { tmp, digest: 'sha256:' + hash.digest('hex'), size };
  }

  /** Store one uncompressed layer tar (its digest is its diff_id) and unpack it unless already there. */
  private async addLayer(layer: Buffer | string): Promise<OciDescriptor> {
    if (Buffer.isBuffer(layer)) {
      const digest = sha256(layer);
      const dir = this.layerDir(digest);
      if (!existsSync(dir)) await unpackLayer(layer, dir, join(this.dir, 'tmp'), this.unpackLimits); // a bad layer stores nothing
      this.putBlob(layer);
      return { mediaType: MEDIA.layer, digest, size: layer.length };
    }
    const { tmp, digest, size } = await this.ingestFile(layer);
    try {
      const dir = this.layerDir(digest);
      if (!existsSync(dir)) await unpackLayer(createReadStream(tmp), dir, join(this.dir, 'tmp'), this.unpackLimits);
      if (this.hasBlob(digest)) rmSync(tmp, { force: true });
      else renameSync(tmp, this.blobPath(digest));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return { mediaType: MEDIA.layer, digest, size };
  }

  layerDir(diffId: string): string {
    return join(this.dir, 'layers', 'sha256', hexOf(diffId));
  }

  // ---- the build cache: a step's key → the manifest of the image it made (untagged) ----

  private buildCache(): Record<string, string> {
    return readJson<Record<string, string>>(join(this.dir, 'build-cache.json')) ?? {};
  }

  /** The manifest a build step with this key made before, if its blobs are all still here. */
  buildCacheGet(key: string): string | null {
    const md = this.buildCache()[key];
    return md && this.hasBlob(md) ? md : null;
  }

  buildCachePut(key: string, manifestDigest: string): void {
    writeJsonAtomic(join(this.dir, 'build-cache.json'), { ...this.buildCache(), [key]: manifestDigest });
  }

  /** Forget cache entries (all, or those that made one of these manifests); gc then frees their blobs. */
  buildCacheDrop(manifestDigests?: string[]): number {
    const cache = this.buildCache();
    let n = 0;
    for (const [k, md] of Object.entries(cache)) {
      if (!manifestDigests || manifestDigests.includes(md)) {
        delete cache[k];
        n++;
      }
    }
    writeJsonAtomic(join(this.dir, 'build-cache.json'), cache);
    return n;
  }

  // ---- references ----

  private repos(): Record<string, string> {
    return readJson<Record<string, string>>(join(this.dir, 'repositories.json')) ?? {};
  }

  private saveRepos(r: Record<string, string>): void {
    writeJsonAtomic(join(this.dir, 'repositories.json'), r);
  }

  /** Manifest digests with no tag left that a container still uses (docker's <none>:<none>). */
  private dangling(): string[] {
    return readJson<string[]>(join(this.dir, 'dangling.json')) ?? [];
  }

  private saveDangling(d: string[]): void {
    writeJsonAtomic(join(this.dir, 'dangling.json'), [...new Set(d)].sort());
  }

  /** Every manifest known: tagged ones with their tags, then dangling ones with none. */
  private manifests(): Map<string, string[]> {
    const all = new Map<string, string[]>();
    for (const [ref, md] of Object.entries(this.repos()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) all.set(md, [...(all.get(md) ?? []), ref]);
    for (const md of this.dangling()) if (!all.has(md)) all.set(md, []);
    return all;
  }

  /**
   * Add an image from uncompressed layer tars, as Buffers or file paths (bottom first); each
   * layer is unpacked once and shared by every image that has it.
   */
  async addImage(opts: { layers: (Buffer | string)[]; config: Partial<OciImageConfig>; ref: string; history?: OciHistory[] }): Promise<ResolvedImage> {
    const ref = normalizeRef(opts.ref);
    const descriptors: OciDescriptor[] = [];
    const diffIds: string[] = [];
    for (const tar of opts.layers) {
      const d = await this.addLayer(tar); // uncompressed: the blob digest is the diff_id
      descriptors.push(d);
      diffIds.push(d.digest);
    }
    const config: OciImageConfig = {
      created: new Date(0).toISOString(),
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      ...opts.config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: opts.history ?? opts.config.history ?? [],
    };
    const configBlob = this.putBlob(Buffer.from(JSON.stringify(config)));
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: configBlob.digest, size: configBlob.size },
      layers: descriptors,
    };
    const manifestBlob = this.putBlob(Buffer.from(JSON.stringify(manifest)));
    const repos = this.repos();
    repos[ref] = manifestBlob.digest;
    this.saveRepos(repos);
    const dangling = this.dangling();
    if (dangling.includes(manifestBlob.digest)) this.saveDangling(dangling.filter((d) => d !== manifestBlob.digest));
    return this.resolve(ref);
  }

  /** By reference ("base", "base:latest"), by image id ("sha256:…") or by a unique id prefix. */
  resolve(refOrId: string): ResolvedImage {
    const repos = this.repos();
    let manifestDigest: string | undefined;
    let ref = refOrId;
    try {
      const n = normalizeRef(refOrId);
      if (repos[n]) {
        manifestDigest = repos[n];
        ref = n;
      }
    } catch {
      /* not a reference: maybe an id */
    }
    if (!manifestDigest) {
      const want = refOrId.replace(/^sha256:/, '');
      if (/^[0-9a-f]{1,64}$/.test(want) && (want.length >= 4 || refOrId.startsWith('sha256:'))) {
        const matches = new Map<string, [string, string[]]>(); // image id → manifest, tags
        const candidates = new Map(this.manifests());
        for (const md of Object.values(this.buildCache())) if (!candidates.has(md) && this.hasBlob(md)) candidates.set(md, []);
        for (const [md, tags] of candidates) {
          const cfg = this.manifestOf(md).config.digest;
          if (cfg.slice(7).startsWith(want)) matches.set(cfg, [md, tags]);
        }
        if (matches.size > 1) throw new InvalidArgument(`multiple images match the prefix ${refOrId}`);
        const [match] = matches.values();
        if (match) {
          manifestDigest = match[0];
          ref = match[1][0] ?? '<none>:<none>';
        }
      }
    }
    if (!manifestDigest) throw new NotFound(`No such image: ${refOrId}`);
    const manifest = this.manifestOf(manifestDigest);
    const config = JSON.parse(this.getBlob(manifest.config.digest, manifest.config.size).toString()) as OciImageConfig;
    const history = (config.history ?? []).filter((h) => !h.empty_layer);
    const layers = config.rootfs.diff_ids.map((diffId, i) => ({
      diffId,
      dir: this.layerDir(diffId),
      size: manifest.layers[i]?.size ?? 0,
      createdBy: history[i]?.created_by ?? '',
    }));
    return { id: manifest.config.digest, ref, manifestDigest, manifest, config, layers };
  }

  private manifestOf(digest: string): OciManifest {
    return JSON.parse(this.getBlob(digest).toString()) as OciManifest;
  }

  /** One entry per image; a dangling image (untagged, still used) has no repoTags. */
  list(): ImageSummary[] {
    const byId = new Map<string, ImageSummary>();
    for (const [md, tags] of this.manifests()) {
      const manifest = this.manifestOf(md);
      const id = manifest.config.digest;
      const cur = byId.get(id);
      if (cur) {
        cur.repoTags.push(...tags);
        continue;
      }
      const config = JSON.parse(this.getBlob(id).toString()) as OciImageConfig;
      byId.set(id, {
        id,
        repoTags: [...tags],
        created: config.created ?? new Date(0).toISOString(),
        size: manifest.layers.reduce((a, l) => a + l.size, 0),
        layers: manifest.layers.length,
      });
    }
    return [...byId.values()];
  }

  inspect(refOrId: string): ImageDetail {
    const img = this.resolve(refOrId);
    const summary = this.list().find((s) => s.id === img.id)!;
    let layerIndex = 0;
    return {
      ...summary,
      config: img.config as unknown as Record<string, unknown>,
      manifestDigest: img.manifestDigest,
      layerDetails: img.layers,
      history: (img.config.history ?? []).map((h) => {
        const layer = h.empty_layer ? undefined : img.layers[layerIndex++];
        return { created: h.created ?? '', createdBy: h.created_by ?? '', emptyLayer: !!h.empty_layer, size: layer?.size ?? 0, id: layer ? layer.diffId : '<missing>' };
      }),
    };
  }

  /**
   * Point a reference at a manifest already in the store (added for images/content.ts: pulled,
   * loaded and committed images keep manifests the store did not write itself). Like addImage,
   * a manifest that was dangling is dangling no more.
   */
  setReference(ref: string, manifestDigest: string): void {
    if (!this.hasBlob(manifestDigest)) throw new NotFound(`manifest ${manifestDigest} is not in the content store`);
    const name = normalizeRef(ref);
    const repos = this.repos();
    repos[name] = manifestDigest;
    this.saveRepos(repos);
    const dangling = this.dangling();
    if (dangling.includes(manifestDigest)) this.saveDangling(dangling.filter((d) => d !== manifestDigest));
  }

  /** An image with no tag that stays (docker commit without a repository): Docker's dangling image. */
  keepDangling(manifestDigest: string): void {
    if (!this.hasBlob(manifestDigest)) throw new NotFound(`manifest ${manifestDigest} is not in the content store`);
    if (Object.values(this.repos()).includes(manifestDigest)) return;
    this.saveDangling([...this.dangling(), manifestDigest]);
  }

  tag(source: string, target: string): void {
    const img = this.resolve(source);
    const ref = normalizeRef(target);
    const repos = this.repos();
    repos[ref] = img.manifestDigest;
    this.saveRepos(repos);
  }

  /**
   * Untag a reference; when no tag is left, delete the image's manifest and config and every
   * layer no other image uses. An id removes all its tags (with force when it has several).
   */
  remove(refOrId: string, opts: { force?: boolean; isInUse: (imageId: string) => boolean }): { untagged: string[]; deleted: string[] } {
    const img = this.resolve(refOrId);
    const repos = this.repos();
    const tags = Object.keys(repos).filter((r) => repos[r] === img.manifestDigest);
    const byId = !tags.includes(normalizeRefSafe(refOrId));
    if (byId && tags.length > 1 && !opts.force) {
      throw new Conflict(`conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const removing = byId ? tags : [normalizeRefSafe(refOrId)];
    const remaining = tags.filter((t) => !removing.includes(t));
    if (remaining.length === 0 && opts.isInUse(img.id) && !opts.force) {
      throw new Conflict(`conflict: unable to remove repository reference "${refOrId}" (must force) - container is using its referenced image ${img.id.slice(7, 19)}`);
    }
    for (const t of removing) delete repos[t];
    this.saveRepos(repos);
    // forced off an image a container uses: it stays, untagged, until no container uses it
    // (and dangling images whose containers are gone go with this gc)
    const tagged = new Set(Object.values(repos));
    const dangling = remaining.length === 0 ? [...this.dangling(), img.manifestDigest] : this.dangling();
    // other dangling images stay (Docker keeps them until rmi or prune); this one only while in use
    this.saveDangling(dangling.filter((md) => !tagged.has(md) && (md !== img.manifestDigest || opts.isInUse(this.manifestOf(md).config.digest))));
    const deleted = remaining.length === 0 && !opts.isInUse(img.id) ? [img.id] : [];
    if (deleted.length) this.buildCacheDrop([img.manifestDigest]); // a removed image is not found by id again
    this.gc();
    return { untagged: removing, deleted };
  }

  /** Delete blobs and layer directories that no tagged image refers to. */
  gc(): { blobs: number; layers: number } {
    const keepBlobs = new Set<string>();
    const keepLayers = new Set<string>();
    for (const md of this.manifests().keys()) {
      keepBlobs.add(md.slice(7));
      const m = this.manifestOf(md);
      keepBlobs.add(m.config.digest.slice(7));
      for (const l of m.layers) keepBlobs.add(l.digest.slice(7));
      const cfg = JSON.parse(this.getBlob(m.config.digest).toString()) as OciImageConfig;
      for (const d of cfg.rootfs.diff_ids) keepLayers.add(d.slice(7));
    }
    // the build cache's step images are kept, untagged, for the next build (build/builder.ts)
    for (const md of new Set(Object.values(this.buildCache()))) {
      if (!this.hasBlob(md) || keepBlobs.has(md.slice(7))) continue;
      keepBlobs.add(md.slice(7));
      const m = this.manifestOf(md);
      keepBlobs.add(m.config.digest.slice(7));
      for (const l of m.layers) keepBlobs.add(l.digest.slice(7));
      const cfg = JSON.parse(this.getBlob(m.config.digest).toString()) as OciImageConfig;
      for (const d of cfg.rootfs.diff_ids) keepLayers.add(d.slice(7));
    }
    let blobs = 0;
    let layers = 0;
    for (const hex of readdirSync(join(this.dir, 'blobs', 'sha256'))) {
      if (!keepBlobs.has(hex)) {
        rmSync(join(this.dir, 'blobs', 'sha256', hex), { force: true });
        blobs++;
      }
    }
    for (const hex of readdirSync(join(this.dir, 'layers', 'sha256'))) {
      if (!keepLayers.has(hex)) {
        rmSync(join(this.dir, 'layers', 'sha256', hex), { recursive: true, force: true });
        layers++;
      }
    }
    // uid-shifted copies (rootfs/shift.ts) of layers that are gone
    const shifted = join(this.dir, 'layers-shifted');
    for (const range of existsSync(shifted) ? readdirSync(shifted) : []) {
      const d = join(shifted, range, 'sha256');
      for (const hex of existsSync(d) ? readdirSync(d) : []) {
        if (!keepLayers.has(hex) && !hex.startsWith('.')) rmSync(join(d, hex), { recursive: true, force: true });
      }
    }
    return { blobs, layers };
  }

  /** Size of a directory tree in bytes (for docker images' SIZE of layers unpacked from elsewhere). */
  static dirSize(dir: string): number {
    let total = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) total += ImageStore.dirSize(p);
      else if (e.isFile()) total += statSync(p).size;
    }
    return total;
  }
}

async function hashStream(stream: NodeJS.ReadableStream): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: 'sha256:' + hash.digest('hex'), size };
}

function normalizeRefSafe(r: string): string {
  try {
    return normalizeRef(r);
  } catch {
    return r;
  }
}
