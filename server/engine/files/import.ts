// docker import: a tar of a root filesystem (plain or compressed) becomes a one-layer image. The
// layer is unpacked by the same code as a pulled one (images/unpack.ts: hostile names, links and
// device nodes handled there), and the config gets the --change lines.
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingStream, openDecompressed } from '../images/compression.js';
import type { ContentSink } from '../images/content.js';
import { familiarString, parseReference } from '../images/reference.js';
import { MT, type ManifestJson } from '../images/registry/media.js';
import type { OciImageConfig } from '../images/store.js';
import { InvalidArgument } from '../types.js';
import { applyChanges } from './changes.js';

export async function importImage(sink: ContentSink, input: Readable, opts: { ref?: string; changes?: string[]; message?: string }): Promise<{ id: string; ref: string }> {
  if (!opts.ref) throw new InvalidArgument('docker import: name the image (docker import FILE repo[:tag]): this engine keeps no untagged image that no container uses');
  const ref = familiarString(parseReference(opts.ref));
  if (ref.includes('@')) throw new InvalidArgument('docker import: an image is named by a tag, not a digest');
  const runtime = applyChanges({}, opts.changes ?? []); // bad --change lines refused before the upload is read
  const raw = join(sink.tmpDir(), `import-${randomBytes(6).toString('hex')}`);
  const plain = `${raw}.tar`;
  try {
    await pipeline(input, createWriteStream(raw, { flags: 'wx', mode: 0o600 }));
    const hasher = new HashingStream();
    await pipeline(openDecompressed(raw).stream, hasher, createWriteStream(plain, { flags: 'wx', mode: 0o600 }));
    const diffId = hasher.digest();
    sink.putBlobFile(plain, diffId);
    const now = new Date().toISOString();
    const config: OciImageConfig = {
      created: now,
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      config: runtime as OciImageConfig['config'],
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: now, created_by: '', comment: opts.message || 'Imported from -' }],
    };
    const configBody = Buffer.from(JSON.stringify(config));
    const configDigest = sink.putBlob(configBody);
    const manifest: ManifestJson = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: configDigest, size: configBody.length },
      layers: [{ mediaType: MT.ociLayer, digest: diffId, size: hasher.bytes }],
    };
    const manifestDigest = sink.putBlob(Buffer.from(JSON.stringify(manifest)));
    const image = await sink.addImageFromBlobs({ manifestDigest, refs: [ref] });
    return { id: image.id, ref };
  } finally {
    rmSync(raw, { force: true });
    rmSync(plain, { force: true });
  }
}
