// The builder's file writing, on plain directories (no mount, no container): a hostile context
// tar cannot write outside its directory, COPY sources resolve inside the context, and a
// destination symlink resolves inside the target root. The canary directory must stay as it was.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumSources, closeSources, copySource, resolveSources } from '../../server/engine/build/copy.js';
import { InRoot } from '../../server/engine/build/in-root.js';
import { extractTar } from '../../server/engine/build/tar-extract.js';

let base = '';
let canary = '';

async function tarOf(entries: { name: string; type?: 'file' | 'symlink' | 'directory' | 'link'; body?: string; linkname?: string }[]): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink' || e.type === 'link') pack.entry({ name: e.name, type: e.type, linkname: e.linkname });
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: 0o755 });
    else pack.entry({ name: e.name, mode: 0o644 }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Readable.from([Buffer.concat(chunks)]);
}

async function extractInto(dir: string, entries: Parameters<typeof tarOf>[0], strict = true): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const root = new InRoot(dir, !strict);
  try {
    await extractTar(await tarOf(entries), root, { strictNames: strict, what: 'the build context' });
  } finally {
    root.close();
  }
}

beforeAll(() => {
  base = mkdtempSync('/tmp/gbtc1-');
  canary = join(base, 'canary');
  mkdirSync(canary);
  writeFileSync(join(canary, 'secret'), 'host secret\n');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const canaryIntact = () => {
  expect(readdirSync(canary)).toEqual(['secret']);
  expect(readFileSync(join(canary, 'secret'), 'utf8')).toBe('host secret\n');
};

describe('a hostile build context', () => {
  it('an entry named ../ or /abs is refused, naming it', async () => {
    await expect(extractInto(join(base, 'c1'), [{ name: '../canary/pwned', body: 'x' }])).rejects.toThrow(/the entry "\.\.\/canary\/pwned" leads out of its root/);
    await expect(extractInto(join(base, 'c2'), [{ name: `${canary}/pwned`, body: 'x' }])).rejects.toThrow(/is an absolute path/);
    canaryIntact();
  });

  it('a file written through a symlinked directory is refused', async () => {
    await expect(
      extractInto(join(base, 'c3'), [
        { name: 'out', type: 'symlink', linkname: canary },
        { name: 'out/pwned', body: 'x' },
      ]),
    ).rejects.toThrow(/out: leads through a symlink out of its root/);
    canaryIntact();
  });

  it('a symlink entry replaced by a file is a new file, not a write through the link', async () => {
    const dir = join(base, 'c4');
    await extractInto(dir, [
      { name: 'secret', type: 'symlink', linkname: join(canary, 'secret') },
      { name: 'secret', body: 'overwritten?' },
    ]);
    canaryIntact();
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('overwritten?');
  });

  it('a hard link to a host file is not followed', async () => {
    await expect(extractInto(join(base, 'c5'), [{ name: 'hl', type: 'link', linkname: join(canary, 'secret') }])).rejects.toThrow(/absolute path|no such file earlier/);
    canaryIntact();
  });

  it('ADD-style extraction (not strict) keeps ../ inside the root', async () => {
    const dir = join(base, 'c6');
    await extractInto(dir, [{ name: '../../../etc/evil', body: 'x' }], false);
    expect(readFileSync(join(dir, 'etc/evil'), 'utf8')).toBe('x');
    canaryIntact();
  });
});

describe('COPY sources and destinations', () => {
  it('a source symlink to a host file resolves inside the context: not found', () => {
    const ctx = join(base, 's1');
    mkdirSync(ctx);
    symlinkSync(join(canary, 'secret'), join(ctx, 'link'));
    symlinkSync('../../../../../../..' + canary, join(ctx, 'up'));
    const root = new InRoot(ctx, true);
    try {
      expect(() => resolveSources(root, ['link'], 'COPY')).toThrow(/file not found in build context/);
      expect(() => resolveSources(root, ['up/secret'], 'COPY')).toThrow(/file not found in build context/);
    } finally {
      root.close();
    }
  });

  it('a destination through an absolute or relative symlink lands inside the target root', async () => {
    const ctx = join(base, 's2');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'f.txt'), 'copied\n');
    const target = join(base, 't2');
    mkdirSync(target);
    symlinkSync(canary, join(target, 'abs'));
    symlinkSync('../../../../../../..' + canary, join(target, 'rel'));
    const src = new InRoot(ctx, true);
    const dst = new InRoot(target, true);
    try {
      const srcs = resolveSources(src, ['f.txt'], 'COPY');
      expect(checksumSources(srcs, false)).toMatch(/^[0-9a-f]{64}$/);
      await copySource(srcs[0], dst, '/abs/f.txt', { keepOwner: false });
      await copySource(srcs[0], dst, '/rel/g.txt', { keepOwner: false });
      await copySource(srcs[0], dst, '/abs/secret', { keepOwner: false });
      closeSources(srcs);
    } finally {
      src.close();
      dst.close();
    }
    canaryIntact();
    expect(readdirSync(join(target, canary.slice(1))).sort()).toEqual(['f.txt', 'g.txt', 'secret']);
  });

  it('globs and directories: contents copied, symlinks kept as links', async () => {
    const ctx = join(base, 's3');
    mkdirSync(join(ctx, 'd/sub'), { recursive: true });
    writeFileSync(join(ctx, 'a.txt'), 'a');
    writeFileSync(join(ctx, 'b.txt'), 'b');
    writeFileSync(join(ctx, 'd/sub/c'), 'c');
    symlinkSync('/etc/passwd', join(ctx, 'd/l'));
    const target = join(base, 't3');
    mkdirSync(target);
    const src = new InRoot(ctx, true);
    const dst = new InRoot(target, true);
    try {
      const globbed = resolveSources(src, ['*.txt'], 'COPY');
      expect(globbed.map((s) => s.path)).toEqual(['a.txt', 'b.txt']);
      for (const s of globbed) await copySource(s, dst, `/out/${s.base}`, { keepOwner: false });
      const [d] = resolveSources(src, ['d'], 'COPY');
      await copySource(d, dst, '/tree', { keepOwner: false });
      closeSources([...globbed, d]);
    } finally {
      src.close();
      dst.close();
    }
    expect(readdirSync(join(target, 'out')).sort()).toEqual(['a.txt', 'b.txt']);
    expect(readFileSync(join(target, 'tree/sub/c'), 'utf8')).toBe('c');
    expect(readdirSync(join(target, 'tree')).sort()).toEqual(['l', 'sub']);
  });
});
