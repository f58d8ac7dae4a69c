// User namespaces and image layers. With uid_map "0 100000 65536", root inside is uid 100000 on
// the host, so files owned by host uid 0 would show as "nobody" inside. Like Docker's
// userns-remap, each layer is copied once with every owner moved up by the base (0 → 100000),
// and the copy is shared by every container with that mapping. Since every container now has a
// range of its own (userns/ranges.ts), this is the fallback: the engine prefers idmapped layers
// (rootfs/userns-layers.ts), which copy nothing, and copies only where the kernel refuses them.
import { randomBytes } from 'node:crypto';
import { chmodSync, constants, copyFileSync, existsSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr, llistxattr, lsetxattr, mknod, S_IFCHR, S_IFBLK } from '../../../native/libc.js';
import type { ImageStore } from '../images/store.js';

const S_IFIFO = 0o010000;

/**
 * Copy the tree under src into dst (which exists) with every owner moved by (uid, gid): up for a
 * layer shifted into a range, down (negative) for a volume seeded from a user-namespaced rootfs.
 * Symlinks are copied as symlinks, never followed.
 */
export function copyShifted(src: string, dst: string, uid: number, gid: number, inodes: Map<string, string> = new Map()): void {
  for (const name of readdirSync(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    const st = lstatSync(s);
    const key = `${st.dev}:${st.ino}`;
    if (!st.isDirectory() && st.nlink > 1 && inodes.has(key)) {
      linkSync(inodes.get(key)!, d); // a hardlink stays a hardlink
      continue;
    }
    if (st.isDirectory()) mkdirSync(d, { mode: 0o700 });
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
    else if (st.isFile()) copyFileSync(s, d, constants.COPYFILE_EXCL);
    else if (st.isCharacterDevice()) mknod(d, S_IFCHR | (st.mode & 0o7777), Math.floor(st.rdev / 256), st.rdev % 256);
    else if (st.isBlockDevice()) mknod(d, S_IFBLK | (st.mode & 0o7777), Math.floor(st.rdev / 256), st.rdev % 256);
    else if (st.isFIFO()) mknod(d, S_IFIFO | (st.mode & 0o7777));
    else continue; // sockets are not layer content
    if (!st.isDirectory() && st.nlink > 1) inodes.set(key, d);
    lchownSync(d, Math.max(0, st.uid + uid), Math.max(0, st.gid + gid));
    if (!st.isSymbolicLink()) chmodSync(d, st.mode & 0o7777); // after chown, which clears setuid
    for (const attr of llistxattr(s)) {
      const v = lgetxattr(s, attr);
      if (v) lsetxattr(d, attr, v);
    }
    if (st.isDirectory()) copyShifted(s, d, uid, gid, inodes);
    lutimesSync(d, st.atime, st.mtime);
  }
}

/** The layer's directory with owners moved up by (uidBase, gidBase); made once, then reused. */
export async function shiftedLayerDir(store: ImageStore, diffId: string, uidBase: number, gidBase: number): Promise<string> {
  const hex = diffId.replace(/^sha256:/, '');
  const base = join(store.dir, 'layers-shifted', `${uidBase}-${gidBase}`, 'sha256');
  const dest = join(base, hex);
  if (existsSync(dest)) return dest;
  mkdirSync(base, { recursive: true, mode: 0o711 });
  const work = join(base, `.tmp-${randomBytes(6).toString('hex')}`);
  const src = store.layerDir(diffId);
  try {
    mkdirSync(work);
    copyShifted(src, work, uidBase, gidBase, new Map());
    // the layer's root, like every entry below it: owner, mode, xattrs, times
    const st = lstatSync(src);
    lchownSync(work, st.uid + uidBase, st.gid + gidBase);
    chmodSync(work, st.mode & 0o7777);
    for (const attr of llistxattr(src)) {
      const v = lgetxattr(src, attr);
      if (v) lsetxattr(work, attr, v);
    }
    lutimesSync(work, st.atime, st.mtime);
    renameSync(work, dest);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(dest)) throw e;
  }
  return dest;
}
