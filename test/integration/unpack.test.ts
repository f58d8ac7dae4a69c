// Unpacking a layer must not write one byte outside its directory, and must leave nothing behind
// when it refuses a layer; the whiteout markers of the tar become what overlayfs reads.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lgetxattr } from '../../native/libc.js';
import { unpackLayer } from '../../server/engine/images/unpack.js';
import { InvalidArgument } from '../../server/engine/types.js';
import { makeTar, type TarEntry } from './layer-tar.js';

let dir: string;
let outside: string; // a directory a malicious layer tries to reach
beforeEach(() => {
  dir = mkdtempSync('/tmp/gbu-');
  outside = mkdtempSync('/tmp/gbu-outside-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('unpack refuses', () => {
  const cases: [string, () => TarEntry[], RegExp][] = [
    ['a path with ..', () => [{ name: 'ok', data: 'fine' }, { name: '../x', data: 'x' }], /climbs out with "\.\."/],
    ['a path with .. in the middle', () => [{ name: `a/../../${outside.slice(5)}/x`, data: 'x' }], /climbs out/],
    ['an absolute path', () => [{ name: `${outside}/x`, data: 'x' }], /absolute path/],
    ['a write through a symlink to /tmp', () => [{ name: 'a', type: 'symlink', linkname: outside }, { name: 'a/x', data: 'x' }], /through the symlink "a"/],
    ['a relative symlink climbing out', () => [{ name: 'd', type: 'symlink', linkname: '../../..' + outside }, { name: 'd/x', data: 'x' }], /through the symlink/],
    ['a directory entry through a symlink', () => [{ name: 'a', type: 'symlink', linkname: outside }, { name: 'a/sub/', type: 'directory' }], /through the symlink/],
    ['a whiteout through a symlink', () => [{ name: 'a', type: 'symlink', linkname: outside }, { name: 'a/.wh.x' }], /through the symlink/],
    ['a hardlink to a host file', () => [{ name: 'h', type: 'link', linkname: '/etc/passwd' }], /absolute path/],
    ['a hardlink to a path not in the layer', () => [{ name: 'h', type: 'link', linkname: 'etc/passwd' }], /not in this layer/],
    [
      'a hardlink to an earlier entry now behind a symlink',
      () => [
        { name: 'd/passwd', data: 'mine' },
        { name: 'd', type: 'symlink', linkname: '/etc' },
        { name: 'stolen', type: 'link', linkname: 'd/passwd' }, // d/passwd was in the layer; now it is /etc/passwd
      ],
      /not in this layer/,
    ],
    ['a character device', () => [{ name: 'dev/sda', type: 'character-device', devmajor: 8, devminor: 0 }], /device node "dev\/sda" \(8:0\)/],
    ['a block device', () => [{ name: 'disk', type: 'block-device', devmajor: 8, devminor: 0 }], /device node/],
    ['a whiteout of ..', () => [{ name: 'a/.wh..', data: '' }], /bad whiteout/],
    ['a root entry that is a symlink', () => [{ name: './', type: 'symlink', linkname: outside }, { name: 'x', data: 'x' }], /root entry .* is a symlink/],
    ['a hardlink to a whiteout', () => [{ name: '.wh.gone' }, { name: 'h', type: 'link', linkname: 'gone' }], /hardlink "h" to a whiteout/],
  ];

  it.each(cases)('%s', async (_what, entries, message) => {
    const dest = join(dir, 'layers', 'L');
    const tmp = join(dir, 'tmp');
    const err = await unpackLayer(await makeTar(entries()), dest, tmp).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as Error).message).toMatch(/^layer rejected: /);
    expect((err as Error).message).toMatch(message);
    expect(existsSync(dest)).toBe(false); // no partial layer
    expect(readdirSync(tmp)).toEqual([]); // and no leftover work dir
    expect(readdirSync(outside)).toEqual([]); // nothing written outside
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('a layer over the entry or size cap, saying which', async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: 'abc' }));
    await expect(unpackLayer(await makeTar(many), join(dir, 'a'), join(dir, 'tmp'), { maxEntries: 5, maxBytes: 1e9 })).rejects.toThrow(/more than 5 entries/);
    await expect(unpackLayer(await makeTar(many), join(dir, 'b'), join(dir, 'tmp'), { maxEntries: 100, maxBytes: 10 })).rejects.toThrow(/more than 10 bytes/);
    expect(existsSync(join(dir, 'a')) || existsSync(join(dir, 'b'))).toBe(false);
  });

  it('a file that is not a tar', async () => {
    await expect(unpackLayer(Buffer.alloc(1024, 7), join(dir, 'c'), join(dir, 'tmp'))).rejects.toThrow(/layer rejected: not a readable tar/);
    const truncated = (await makeTar([{ name: 'f', data: 'y'.repeat(5000) }])).subarray(0, 2048);
    await expect(unpackLayer(truncated, join(dir, 'c'), join(dir, 'tmp'))).rejects.toThrow(InvalidArgument);
    expect(existsSync(join(dir, 'c'))).toBe(false);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });
});

describe('unpack keeps', () => {
  it("xattrs from PAX headers (user.*, security.capability), never trusted.*; whiteouts owned as the entry; the root entry's mode", async () => {
    const dest = join(dir, 'layer');
    await unpackLayer(
      await makeTar([
        { name: './', type: 'directory', mode: 0o750 },
        { name: 'f', data: 'f', pax: { 'SCHILY.xattr.user.note': 'hello', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
        { name: 'ping', data: 'p', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': '\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' } },
        { name: 'l', type: 'symlink', linkname: 'f', pax: { 'SCHILY.xattr.user.note': 'on a link' } },
        { name: 'etc/.wh.old', uid: 1000, gid: 1000 },
      ]),
      dest,
      join(dir, 'tmp'),
    );
    expect(lgetxattr(join(dest, 'f'), 'user.note')?.toString()).toBe('hello');
    expect(lgetxattr(join(dest, 'f'), 'trusted.overlay.redirect')).toBeNull(); // a layer may not speak for overlayfs
    expect(lgetxattr(join(dest, 'ping'), 'security.capability')?.length).toBe(20);
    expect(readlinkSync(join(dest, 'l'))).toBe('f');
    expect(lstatSync(join(dest, 'etc/old'))).toMatchObject({ uid: 1000, gid: 1000, rdev: 0 });
    expect(lstatSync(dest).mode & 0o7777).toBe(0o750);
  });

  it('contents, owners, modes (setuid), symlinks, hardlinks, mtimes; converts whiteout markers', async () => {
    const dest = join(dir, 'layer');
    mkdirSync(join(dir, 'tmp'));
    await unpackLayer(
      await makeTar([
        { name: './', type: 'directory' },
        { name: './usr/bin/passwd', data: 'pw', mode: 0o4755 },
        { name: 'usr/bin/passwd2', type: 'link', linkname: 'usr/bin/passwd' },
        { name: 'usr/bin/sh', type: 'symlink', linkname: '/bin/busybox' },
        { name: 'home/learner/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
        { name: 'home/learner/x', data: 'x', uid: 1000, gid: 1000, mode: 0o600 },
        { name: 'tmp/', type: 'directory', mode: 0o1777 },
        { name: 'var/.wh.cache' },
        { name: 'srv/.wh..wh..opq' },
        { name: 'srv/kept', data: 'k' },
      ]),
      dest,
      join(dir, 'tmp'),
    );
    expect(readFileSync(join(dest, 'usr/bin/passwd'), 'utf8')).toBe('pw');
    expect(lstatSync(join(dest, 'usr/bin/passwd')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(dest, 'usr/bin/passwd2')).ino).toBe(lstatSync(join(dest, 'usr/bin/passwd')).ino);
    expect(readlinkSync(join(dest, 'usr/bin/sh'))).toBe('/bin/busybox');
    expect(lstatSync(join(dest, 'home/learner'))).toMatchObject({ uid: 1000, gid: 1000 });
    expect(lstatSync(join(dest, 'home/learner')).mode & 0o7777).toBe(0o700);
    expect(lstatSync(join(dest, 'home/learner/x')).uid).toBe(1000);
    expect(lstatSync(join(dest, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(join(dest, 'usr/bin/passwd')).mtimeMs).toBe(0);
    expect(lstatSync(join(dest, 'home/learner')).mtimeMs).toBe(0); // set after its contents
    const wh = lstatSync(join(dest, 'var/cache'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(existsSync(join(dest, 'var/.wh.cache'))).toBe(false);
    expect(lgetxattr(join(dest, 'srv'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(existsSync(join(dest, 'srv/.wh..wh..opq'))).toBe(false);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });
});
