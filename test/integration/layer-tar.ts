// Layer tars for the image tests, written with tar-stream like any tool would write them.
import tar from 'tar-stream';

export type TarEntry = {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  /** PAX records, e.g. SCHILY.xattr.user.x */
  pax?: Record<string, string>;
};

/** A tar of the entries; `mtime` and the default mode of directories can be set for all of them. */
export async function makeTar(entries: TarEntry[], opts: { mtime?: Date; dirMode?: number } = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const { data, ...h } of entries) {
    const mode = h.type === 'directory' ? (opts.dirMode ?? 0o755) : 0o644;
    const header = { type: 'file' as const, mode, mtime: opts.mtime ?? new Date(0), uid: 0, gid: 0, ...h };
    if (header.type === 'file') pack.entry(header, data ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
