// The image operations that reach beyond the content store: pull from a registry, load/import
// archives, save/export, commit a container, collect garbage. The Engine owns one:
//
//   engine.imageService = new ImageService(engine.images, { insecureRegistries, credentials }, (e) => emitImageEvent(e))
//
// It knows nothing of HTTP: the Docker API turns PullEvents into docker's progress JSON.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ContainerRecord, EngineEvent } from '../types.js';
import { commitContainer, type CommitOptions, type CommitResult } from './commit.js';
import { StoreContent } from './content.js';
import { exportToDirectory, exportToStream, importArchive, type ExportFormat, type ImportedImage, type ImportOptions } from './layout.js';
import { pullImage, type PullEvent, type PullResult } from './pull.js';
import { familiarString, parseReference } from './reference.js';
import { RegistryClient, type RegistryClientOptions } from './registry/client.js';
import type { ImageStore } from './store.js';
import type { UnpackLimits } from './unpack.js';

export interface ImageServiceOptions extends RegistryClientOptions {
  /** caps for unpacking pulled/imported layers (default: unpack.ts's) */
  limits?: UnpackLimits;
}

type ImageEvent = Extract<EngineEvent, { type: 'image' }>;

export class ImageService {
  readonly content: StoreContent;
  readonly registry: RegistryClient;

  constructor(
    readonly store: ImageStore,
    opts: ImageServiceOptions = {},
    private readonly onEvent: (e: ImageEvent) => void = () => {},
  ) {
    this.content = new StoreContent(store, opts.limits);
    this.registry = new RegistryClient(opts);
  }

  private emit(action: ImageEvent['action'], id: string, ref?: string): void {
    this.onEvent({ type: 'image', action, id, ref, time: Date.now() });
  }

  /** docker pull NAME[:TAG|@DIGEST] */
  async pull(ref: string, opts: { onProgress?: (e: PullEvent) => void } = {}): Promise<PullResult> {
    const r = await pullImage(this.registry, this.content, ref, { onProgress: opts.onProgress });
    this.emit('pull', r.image.id, r.ref);
    return r;
  }

  /** docker load (a docker-save tar, an OCI layout tar or directory; gzip'd tars too) */
  async importArchive(source: string | Readable, opts: ImportOptions = {}): Promise<ImportedImage[]> {
    const images = await importArchive(this.content, source, opts);
    for (const i of images) this.emit('load', i.id, i.refs[0]);
    return images;
  }

  /** docker save: a tar to `out`, or an OCI layout directory at `{ dir }` */
  async exportImage(refs: string | string[], format: ExportFormat, out: Writable | { dir: string }): Promise<void> {
    const list = (Array.isArray(refs) ? refs : [refs]).map((r) => this.storeName(r));
    if ('dir' in out && typeof out.dir === 'string') await exportToDirectory(this.content, list, out.dir, format);
    else await exportToStream(this.content, list, out as Writable, format);
  }

  /** docker commit. The caller pauses a running container around it (Docker's default). */
  async commit(rec: ContainerRecord, opts: CommitOptions = {}): Promise<CommitResult> {
    const r = await commitContainer(this.content, rec, opts);
    this.emit('commit', r.id, r.ref ?? undefined);
    return r;
  }

  /**
   * Blobs and layer dirs no image uses (ImageStore.gc), and scratch files of pulls, imports and
   * commits that died half way (older than an hour: younger ones may be in use).
   */
  gc(opts: { tmpAgeMs?: number } = {}): { blobs: number; layers: number; tmp: number } {
    const r = this.store.gc();
    const tmp = join(this.store.dir, 'tmp');
    let n = 0;
    const cutoff = Date.now() - (opts.tmpAgeMs ?? 3600_000);
    for (const name of existsSync(tmp) ? readdirSync(tmp) : []) {
      const p = join(tmp, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st && st.mtimeMs < cutoff) {
        rmSync(p, { recursive: true, force: true });
        n++;
      }
    }
    return { ...r, tmp: n };
  }

  /** "docker.io/library/busybox" → "busybox:latest", what the store calls it; ids pass through. */
  storeName(ref: string): string {
    if (/^(sha256:)?[0-9a-f]{4,64}$/.test(ref)) return ref;
    try {
      return familiarString(parseReference(ref));
    } catch {
      return ref;
    }
  }
}
