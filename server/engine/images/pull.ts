// docker pull: reference → registry → manifest for this platform → config → layers, each
// downloaded to a scratch file, verified, moved into the content store, unpacked once.
// Progress is reported per layer as docker's CLI shows it (Waiting, Downloading n/N, Verifying
// Checksum, Download complete, Extracting, Pull complete, Already exists).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ContentSink } from './content.js';
import { familiarName, familiarString, formatReference, parseReference, type ImageReference } from './reference.js';
import type { RegistryClient } from './registry/client.js';
import { platformString } from './registry/media.js';
import type { OciImageConfig, ResolvedImage } from './store.js';

export type LayerStatus = 'waiting' | 'downloading' | 'verifying' | 'downloaded' | 'extracting' | 'complete' | 'exists';

export type PullEvent =
  | { type: 'status'; message: string }
  | { type: 'layer'; digest: string; /** 12 hex digits, docker's short id */ id: string; status: LayerStatus; current: number; total: number };

export interface PullResult {
  /** what the store calls it: "busybox:latest" */
  ref: string;
  /** docker.io/library/busybox:latest */
  fullRef: string;
  /** the digest the tag points at (an index's when it came through one) */
  digest: string;
  manifestDigest: string;
  image: ResolvedImage;
  upToDate: boolean;
  platform: string;
}

/** Run `fn` over items with at most `n` at a time, in order of start. */
async function pool<T>(items: T[], n: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

/** The name a pulled image gets in the store. A digest-only pull gets a tag made from its digest. */
export function storeRefFor(r: ImageReference, manifestDigest: string): string {
  if (r.tag) return `${familiarName(r)}:${r.tag}`;
  return `${familiarName(r)}:digest-${(r.digest ?? manifestDigest).slice(7, 19)}`;
}

export async function pullImage(client: RegistryClient, sink: ContentSink, input: string, opts: { onProgress?: (e: PullEvent) => void; concurrency?: number } = {}): Promise<PullResult> {
  const r = parseReference(input);
  const emit = opts.onProgress ?? (() => {});
  emit({ type: 'status', message: `Pulling from ${familiarName(r)}` });
  const remote = await client.resolve(r);
  const { manifest, config } = remote;
  const cfg = JSON.parse(config.body.toString()) as OciImageConfig;
  const diffIds = cfg.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.json.layers.length) throw new Error(`image config lists ${diffIds.length} diff_ids for ${manifest.json.layers.length} layers`);
  const storeRef = storeRefFor(r, remote.topDigest);
  const upToDate = sink.manifestOf(storeRef) === manifest.digest;
  const layers = manifest.json.layers;
  const short = (d: string) => d.slice(7, 19);
  const tmp = sink.tmpDir();
  // download (in parallel) ...
  for (const l of layers) emit({ type: 'layer', digest: l.digest, id: short(l.digest), status: 'waiting', current: 0, total: l.size });
  await pool(layers, opts.concurrency ?? 3, async (l, i) => {
    const diffId = diffIds[i];
    if (sink.hasBlob(l.digest) && sink.hasLayer(diffId)) {
      emit({ type: 'layer', digest: l.digest, id: short(l.digest), status: 'exists', current: l.size, total: l.size });
      return;
    }
    if (!sink.hasBlob(l.digest)) {
      const file = join(tmp, `blob-${randomBytes(6).toString('hex')}`);
      await client.fetchBlob(r, l, file, (current, total) => emit({ type: 'layer', digest: l.digest, id: short(l.digest), status: 'downloading', current, total }));
      emit({ type: 'layer', digest: l.digest, id: short(l.digest), status: 'verifying', current: l.size, total: l.size });
      sink.putBlobFile(file, l.digest);
    }
    emit({ type: 'layer', digest: l.digest, id: short(l.digest), status: 'downloaded', current: l.size, total: l.size });
  });
  // ... then the manifest and config, and the unpacking, bottom first
  sink.putBlob(config.body);
  sink.putBlob(manifest.body);
  const image = await sink.addImageFromBlobs({
    manifestDigest: manifest.digest,
    refs: [storeRef],
    onLayer: (e) => {
      const l = layers.find((x) => x.digest === e.digest);
      if (e.status === 'extracting') emit({ type: 'layer', digest: e.digest, id: short(e.digest), status: 'extracting', current: 0, total: l?.size ?? 0 });
      if (e.status === 'extracted') emit({ type: 'layer', digest: e.digest, id: short(e.digest), status: 'complete', current: l?.size ?? 0, total: l?.size ?? 0 });
    },
  });
  emit({ type: 'status', message: `Digest: ${remote.topDigest}` });
  emit({ type: 'status', message: upToDate ? `Status: Image is up to date for ${familiarString(r)}` : `Status: Downloaded newer image for ${familiarString(r)}` });
  return { ref: storeRef, fullRef: formatReference(r), digest: remote.topDigest, manifestDigest: manifest.digest, image, upToDate, platform: platformString(remote.platform) };
}
