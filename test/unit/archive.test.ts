// docker cp's tar handling against a plain directory standing for a container's root (no mounts):
// stat, a tar out, a tar in, and hostile tars that must not leave the root.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivePath, extractArchive, statPath } from '../../server/engine/files/archive.js';
import { makeTar } from '../integration/image-fixtures.js';

let dir = '';
let root = '';
let outside = '';

async function entriesOf(path: string): Promise<{ name: string; type: string; body: string }[]> {
  const out = new PassThrough();
  const ex = tar.extract();
  const got: { name: string; type: string; body: string }[] = [];
  const reading = (async () => {
    for await (const e of ex) {
      let body = '';
      for await (const c of e) body += c;
      got.push({ name: e.header.name, type: e.header.type, body });
    }
  })();
  out.pipe(ex as unknown as NodeJS.WritableStream);
  await archivePath(root, path, out);
  await reading;
  return got;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'archive-unit-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host\n');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'dest'));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\n');
  symlinkSync(outside, join(root, 'abs'));
  symlinkSync('../../../../../../../..' + outside, join(root, 'rel'));
  symlinkSync('/etc', join(root, 'etclink'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('archive paths inside a root', () => {
  it('stat: the last component not followed, dir/ followed inside the root', () => {
    expect(statPath(root, '/etc/passwd')).toMatchObject({ name: 'passwd', size: 22, linkTarget: '' });
    const l = statPath(root, '/etclink');
    expect(l.linkTarget).toBe('/etc');
    expect(l.mode >= 2 ** 27).toBe(true);
    const d = statPath(root, '/etclink/');
    expect(d.name).toBe('etclink');
    expect(d.mode >= 2 ** 31).toBe(true);
    expect(statPath(root, '/').name).toBe('/');
    expect(() => statPath(root, '/abs/secret')).toThrow(/Could not find the file/);
    expect(() => statPath(root, '/rel/secret')).toThrow(/Could not find the file/);
  });

  it('a tar out names the entry by its last component and never reads through a link out', async () => {
    expect(await entriesOf('/etc')).toEqual([
      { name: 'etc/', type: 'directory', body: '' },
      { name: 'etc/passwd', type: 'file', body: 'root:x:0:0::/:/bin/sh\n' },
    ]);
    expect((await entriesOf('/etclink/.')).map((e) => e.name)).toEqual(['./', './passwd']); // Docker's "dir/.": the contents
    expect(await entriesOf('/abs')).toEqual([{ name: 'abs', type: 'symlink', body: '' }]);
    await expect(entriesOf('/abs/.')).rejects.toThrow(/Could not find the file/);
  });

  it('a tar in: files, dirs, links; ../ refused; / dropped; a link then a file stays inside', async () => {
    const t = await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750 },
      { name: 'd/f', data: 'f\n', mode: 0o600 },
      { name: `/${outside.slice(1)}/abs`, data: 'a\n' },
      { name: 'hop', type: 'symlink', linkname: outside },
      { name: 'hop/through', data: 't\n' },
      { name: 'up', type: 'symlink', linkname: '../../../../../../..' },
      { name: `up${outside}/through-up`, data: 'u\n' },
      { name: 'hard', type: 'link', linkname: 'd/f' },
    ]);
    // a link to a path missing in the root: a clear error, nothing made outside
    const dangling = await makeTar([{ name: 'hop', type: 'symlink', linkname: outside }, { name: 'hop/through', data: 't\n' }]);
    await expect(extractArchive(root, '/dest', Readable.from([dangling]))).rejects.toThrow(/cannot make \/dest\/hop/);
    expect(readdirSync(outside)).toEqual(['secret']);
    mkdirSync(join(root, outside), { recursive: true }); // the same path, inside the root: the file lands there
    await extractArchive(root, '/dest', Readable.from([t]));
    expect(readFileSync(join(root, 'dest/d/f'), 'utf8')).toBe('f\n');
    expect(statSync(join(root, 'dest/d')).mode & 0o777).toBe(0o750);
    expect(readFileSync(join(root, 'dest', outside, 'abs'), 'utf8')).toBe('a\n');
    expect(readFileSync(join(root, outside, 'through'), 'utf8')).toBe('t\n');
    expect(readFileSync(join(root, outside, 'through-up'), 'utf8')).toBe('u\n');
    expect(readFileSync(join(root, 'dest/hard'), 'utf8')).toBe('f\n');
    expect(readdirSync(outside)).toEqual(['secret']);
    const dots = await makeTar([{ name: `../../../../..${outside}/dots`, data: 'x' }]);
    await expect(extractArchive(root, '/dest', Readable.from([dots]))).rejects.toThrow(/climbs out of the destination/);
    const dev = await makeTar([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]);
    await expect(extractArchive(root, '/dest', Readable.from([dev]))).rejects.toThrow(/device node: refused/);
    const overDir = await makeTar([{ name: 'etc', data: 'x' }]);
    await expect(extractArchive(root, '/', Readable.from([overDir]))).rejects.toThrow(/cannot overwrite directory \/etc/);
    await expect(extractArchive(root, '/nope', Readable.from([dots]))).rejects.toThrow(/Could not find the file \/nope/);
    await expect(extractArchive(root, '/etc/passwd', Readable.from([dots]))).rejects.toThrow(/not a directory/);
    expect(readdirSync(outside)).toEqual(['secret']);
  });
});
