// The image view: an image as the OCI image spec lays it out, read from the content store.
//   manifest  the JSON blob a reference points at: the config's digest and each layer's digest
//             (the digest of the blob as stored or pulled: compressed when the registry sent gzip)
//   config    the JSON blob whose digest is the image id: env, cmd, rootfs.diff_ids, history
//   layers    manifest.layers[i] beside config.rootfs.diff_ids[i] (the digest of the uncompressed
//             tar, which is what the unpacked layer directory is named after)
//   history   every config.history entry; empty_layer ones (ENV, CMD…) made no layer, the others
//             made the next layer in order
import type { ImageStore, OciHistory } from './store.js';

export interface ImageViewLayer {
  /** 0 = bottom */
  index: number;
  mediaType: string;
  /** digest of the blob (compressed when the media type says +gzip/+zstd) */
  digest: string;
  /** bytes of the blob */
  size: number;
  /** digest of the uncompressed tar (config.rootfs.diff_ids) */
  diffId: string;
  compressed: boolean;
  /** the history entry that made it */
  createdBy: string;
  dir: string;
}

export interface ImageViewHistory {
  created: string;
  createdBy: string;
  emptyLayer: boolean;
  comment?: string;
  /** the layer this step made, or null for an empty_layer step */
  layerIndex: number | null;
}

export interface ImageView {
  ref: string;
  id: string;
  repoTags: string[];
  manifestDigest: string;
  manifest: Record<string, unknown>;
  config: Record<string, unknown>;
  layers: ImageViewLayer[];
  history: ImageViewHistory[];
  /** bytes of every layer blob */
  size: number;
  /** history entries that made a layer vs layers: a mismatch is an inconsistent image */
  warnings: string[];
}

export function imageView(store: ImageStore, ref: string): ImageView {
  const img = store.resolve(ref);
  const diffIds = img.config.rootfs?.diff_ids ?? [];
  const history: OciHistory[] = img.config.history ?? [];
  let next = 0;
  const steps: ImageViewHistory[] = history.map((h) => ({
    created: h.created ?? '',
    createdBy: h.created_by ?? '',
    emptyLayer: !!h.empty_layer,
    ...(h.comment ? { comment: h.comment } : {}),
    layerIndex: h.empty_layer ? null : next++,
  }));
  const warnings: string[] = [];
  if (history.length && next !== img.manifest.layers.length) warnings.push(`history has ${next} layer-making steps for ${img.manifest.layers.length} layers`);
  if (diffIds.length !== img.manifest.layers.length) warnings.push(`the config lists ${diffIds.length} diff_ids for ${img.manifest.layers.length} manifest layers`);
  const layers = img.manifest.layers.map((d, index) => ({
    index,
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    diffId: diffIds[index] ?? '',
    compressed: /\+(gzip|zstd)$|tar\.gzip$/.test(d.mediaType),
    createdBy: steps.find((s) => s.layerIndex === index)?.createdBy ?? '',
    dir: img.layers[index]?.dir ?? '',
  }));
  const repoTags = store.list().find((s) => s.id === img.id)?.repoTags ?? [];
  return {
    ref: img.ref,
    id: img.id,
    repoTags,
    manifestDigest: img.manifestDigest,
    manifest: img.manifest as unknown as Record<string, unknown>,
    config: img.config as unknown as Record<string, unknown>,
    layers,
    history: steps,
    size: layers.reduce((a, l) => a + l.size, 0),
    warnings,
  };
}
