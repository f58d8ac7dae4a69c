// A corpus of hostile layer tars, made here, fed to the unpacker the way a pull or a load would:
// each is rejected (and leaves no directory, no scratch files) or contained (what it wrote stays
// inside the layer). A sentinel directory beside the store must never change.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreContent } from '../../server/engine/images/content.js';
import { ImageStore } from '../../server/engine/images/store.js';
import { unpackLayer } from '../../server/engine/images/unpack.js';
import { makeTar, sha256, type TarEntry } from './image-fixtures.js';

let base: string;
let outside: string;
let tmpRoot: string;
let n = 0;

/** Everything under a directory, with modes, so any write there shows. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${p} ${st.mode.toString(8)} ${st.uid} ${st.size} ${st.isFile() ? readFileSync(p, 'utf8') : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  out.push(`${dir} ${statSync(dir).mode.toString(8)}`);
  walk(dir);
  return out;
}

let before: string[];

beforeAll(() => {
  base = mkdtempSync('/tmp/gbmal-');
  chmodSync(base, 0o711);
  // work dirs are <base>/tmp/unpack-XXXX: "../../outside" from one is <base>/outside
  outside = join(base, 'outside');
  mkdirSync(outside, { mode: 0o755 });
  writeFileSync(join(outside, 'victim'), 'untouched\n', { mode: 0o644 });
  tmpRoot = join(base, 'tmp');
  before = snapshot(outside);
});

afterEach(() => {
  expect(snapshot(outside)).toEqual(before);
  expect(existsSync(tmpRoot) ? readdirSync(tmpRoot) : []).toEqual([]);
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

async function unpack(entries: TarEntry[], limits?: { maxEntries: number; maxBytes: number }): Promise<string> {
  const dest = join(base, 'layers', `l${n++}`);
  await unpackLayer(await makeTar(entries), dest, tmpRoot, limits);
  return dest;
}

const rejected: [string, () => TarEntry[], RegExp][] = [
  ['path traversal with ..', () => [{ name: '../../outside/victim', data: 'pwned' }], /climbs out/],
  ['traversal hidden mid-path', () => [{ name: 'a/b/../../../../outside/victim', data: 'pwned' }], /climbs out/],
  ['an absolute path', () => [{ name: `${base}/outside/victim`, data: 'pwned' }], /absolute path/],
  ['a symlink to an absolute dir, then a file through it', () => [{ name: 'esc', type: 'symlink', linkname: outside }, { name: 'esc/victim', data: 'pwned' }], /through the symlink/],
  ['a relative symlink climbing out, then a file through it', () => [{ name: 'esc', type: 'symlink', linkname: '../../outside' }, { name: 'esc/new', data: 'pwned' }], /through the symlink/],
  [
    'a directory swapped for a symlink (symlinked parent dir), then a file in it',
    () => [
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc', type: 'symlink', linkname: outside },
      { name: 'etc/victim', data: 'pwned' },
    ],
    /through the symlink/,
  ],
  ['a symlink chain out, then a file through it', () => [{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: outside }, { name: 'a/new', data: 'x' }], /through the symlink/],
  ['an opaque marker through a symlink', () => [{ name: 'esc', type: 'symlink', linkname: outside }, { name: 'esc/.wh..wh..opq', data: '' }], /through the symlink/],
  ['a whiteout through a symlink', () => [{ name: 'esc', type: 'symlink', linkname: outside }, { name: 'esc/.wh.victim', data: '' }], /through the symlink/],
  ['a whiteout of ".."', () => [{ name: 'd/.wh...', data: '' }], /bad whiteout/],
  ['a hardlink to an absolute host file', () => [{ name: 'h', type: 'link', linkname: `${base}/outside/victim` }], /absolute path/],
  ['a hardlink climbing out', () => [{ name: 'h', type: 'link', linkname: '../../outside/victim' }], /climbs out/],
  ['a hardlink to a file the layer does not have', () => [{ name: 'h', type: 'link', linkname: 'etc/shadow' }], /not in this layer/],
  ['a hardlink through a symlinked parent', () => [{ name: 'esc', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 'esc/victim' }], /not in this layer/],
  ['a character device (/dev/mem 1:1)', () => [{ name: 'mem', type: 'character-device', devmajor: 1, devminor: 1, mode: 0o666 }], /device node/],
  ['a block device', () => [{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 }], /device node/],
];

describe('malicious layers: rejected, nothing written outside, no partial directory', () => {
  it.each(rejected)('%s', async (_what, entries, msg) => {
    const dest = join(base, 'layers', `r${n++}`);
    await expect(unpackLayer(await makeTar(entries()), dest, tmpRoot)).rejects.toThrow(msg);
    expect(existsSync(dest)).toBe(false);
  });

  it('a huge entry count is refused at the cap, and so is a size over the cap', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ name: `f${i}`, data: '' }));
    const dest = join(base, 'layers', 'many');
    await expect(unpackLayer(await makeTar(many), dest, tmpRoot, { maxEntries: 1000, maxBytes: 1 << 30 })).rejects.toThrow(/more than 1000 entries/);
    expect(existsSync(dest)).toBe(false);
    await expect(unpackLayer(await makeTar([{ name: 'big', data: Buffer.alloc(64 * 1024) }]), dest, tmpRoot, { maxEntries: 10, maxBytes: 4096 })).rejects.toThrow(/more than 4096 bytes/);
    expect(existsSync(dest)).toBe(false);
  });

  it('a header claiming a huge size is refused before any data is read', async () => {
    const tar = await makeTar([{ name: 'big', data: 'x' }]);
    // rewrite the size field (12 octal digits at offset 124) to 077777777777 (8 GiB) and fix the checksum
    tar.write('77777777777\0', 124, 'ascii');
    tar.write('        ', 148, 'ascii');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += tar[i];
    tar.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    const dest = join(base, 'layers', 'huge');
    await expect(unpackLayer(tar, dest, tmpRoot, { maxEntries: 10, maxBytes: 1 << 30 })).rejects.toThrow(/more than 1073741824 bytes/);
    expect(existsSync(dest)).toBe(false);
  });

  it('a truncated tar, and gzip garbage, leave nothing', async () => {
    const t = await makeTar([{ name: 'a', data: Buffer.alloc(10_000, 1) }]);
    const dest = join(base, 'layers', 'trunc');
    await expect(unpackLayer(t.subarray(0, 3000), dest, tmpRoot)).rejects.toThrow(/rejected/);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('malicious layers that are contained', () => {
  it('a file written over a symlink of the same name replaces the link, not its target', async () => {
    const d = await unpack([
      { name: 'victim', type: 'symlink', linkname: join(outside, 'victim') },
      { name: 'victim', data: 'inside\n' },
    ]);
    expect(lstatSync(join(d, 'victim')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'victim'), 'utf8')).toBe('inside\n');
  });

  it('a directory entry over a symlink to a host dir: the link goes, the host dir keeps its mode (CVE-2021-32760)', async () => {
    const d = await unpack([
      { name: 'd', type: 'symlink', linkname: outside },
      { name: 'd/', type: 'directory', mode: 0o777 },
    ]);
    expect(lstatSync(join(d, 'd')).isDirectory()).toBe(true);
    expect(lstatSync(join(d, 'd')).mode & 0o7777).toBe(0o777);
  });

  it('the root entry turned into a symlink is refused or ignored, never followed (CVE-2021-29136)', async () => {
    const dest = join(base, 'layers', 'rootlink');
    const r = await unpackLayer(await makeTar([{ name: './', type: 'symlink', linkname: outside }, { name: 'file', data: 'in\n' }]), dest, tmpRoot).catch((e: Error) => e);
    if (r instanceof Error) {
      expect(r.message).toMatch(/root entry/);
      expect(existsSync(dest)).toBe(false);
    } else {
      expect(lstatSync(dest).isDirectory()).toBe(true);
      expect(readFileSync(join(dest, 'file'), 'utf8')).toBe('in\n');
    }
  });

  it('symlinks pointing out are stored as links, never followed at unpack time', async () => {
    const d = await unpack([
      { name: 'abs', type: 'symlink', linkname: join(outside, 'victim') },
      { name: 'rel', type: 'symlink', linkname: '../../../../outside/victim' },
      { name: 'hl', type: 'link', linkname: 'abs' },
    ]);
    expect(lstatSync(join(d, 'abs')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(d, 'hl')).isSymbolicLink()).toBe(true); // a hardlink to the link itself
  });

  it('setuid file kept with its owner (chown before chmod), xattrs kept, trusted.* dropped', async () => {
    const d = await unpack([
      { name: 'bin/', type: 'directory', mode: 0o755 },
      { name: 'bin/su', data: '#!/bin/sh\n', mode: 0o4755, uid: 1000, gid: 1000 },
      { name: 'bin/sg', data: '#!/bin/sh\n', mode: 0o2755, uid: 0, gid: 50 },
      { name: 'bin/x', data: 'x', pax: { 'SCHILY.xattr.user.k': 'v', 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
    ]);
    const su = lstatSync(join(d, 'bin/su'));
    expect([su.uid, su.gid, su.mode & 0o7777]).toEqual([1000, 1000, 0o4755]);
    const sg = lstatSync(join(d, 'bin/sg'));
    expect([sg.gid, sg.mode & 0o7777]).toEqual([50, 0o2755]);
    const { lgetxattr } = await import('../../native/libc.js');
    expect(lgetxattr(join(d, 'bin/x'), 'user.k')?.toString()).toBe('v');
    expect(lgetxattr(join(d, 'bin/x'), 'trusted.overlay.opaque')).toBeNull();
  });
});

describe('through the pull/import path (compressed blob, diff_id check, store caps)', () => {
  it('a gzip layer with a traversal is rejected and leaves no layer dir; a layer lying about its diff_id too', async () => {
    const store = new ImageStore(join(base, 'store'));
    const content = new StoreContent(store, { maxEntries: 100, maxBytes: 1 << 20 });
    const evil = gzipSync(await makeTar([{ name: '../../../outside/victim', data: 'pwned' }]));
    const digest = content.putBlob(evil);
    await expect(content.ensureLayer(digest, sha256(await makeTar([{ name: 'ok', data: '' }])))).rejects.toThrow(/climbs out/);
    const good = await makeTar([{ name: 'ok', data: 'fine' }]);
    const goodDigest = content.putBlob(gzipSync(good));
    const lie = sha256('not this');
    await expect(content.ensureLayer(goodDigest, lie)).rejects.toThrow(/its uncompressed content has digest/);
    expect(readdirSync(join(store.dir, 'layers', 'sha256'))).toEqual([]);
    const many = content.putBlob(gzipSync(await makeTar(Array.from({ length: 200 }, (_, i) => ({ name: `f${i}` })))));
    await expect(content.ensureLayer(many, sha256('x'))).rejects.toThrow(/more than 100 entries/);
    expect(readdirSync(join(store.dir, 'tmp'))).toEqual([]);
    expect(await content.ensureLayer(goodDigest, sha256(good))).toBe('extracted');
    expect(readFileSync(join(store.layerDir(sha256(good)), 'ok'), 'utf8')).toBe('fine');
  });
});
