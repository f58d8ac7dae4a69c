// What the container changed: its upper dir read against the image's layers. This is docker
// diff, with the detail the layer diagram needs: how big a copy-up was (a one-byte append to a
// 1 GB file copies the whole gigabyte up), whiteouts, opaque directories.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr } from '../../../native/libc.js';
import type { LayerChange } from '../types.js';
import { RootDir } from './resolve.js';

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function isOpaque(path: string): boolean {
  const v = lgetxattr(path, 'trusted.overlay.opaque') ?? lgetxattr(path, 'user.overlay.opaque');
  return v !== null && v.toString() === 'y';
}

/**
 * The entry at rel as the lower layers alone show it (the topmost copy), or null. A layer hides
 * everything below it at a path when it has a whiteout or a file on the way there, or an opaque
 * directory.
 */
function inLowers(rel: string, lowersTopFirst: string[]): Stats | null {
  const parts = rel.split('/');
  for (const dir of lowersTopFirst) {
    let cur = dir;
    let underOpaque = false;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]);
      const st = lstatSync(cur, { throwIfNoEntry: false });
      if (!st) {
        if (underOpaque) return null;
        break; // not in this layer: look further down
      }
      if (isWhiteout(st)) return null;
      if (i === parts.length - 1) return st;
      if (!st.isDirectory()) return null;
      underOpaque ||= isOpaque(cur);
    }
  }
  return null;
}

/**
 * Changes in upper relative to lowers (bottom first), sorted by path. The upper dir is the
 * container's, live while it runs: each directory is held open (RootDir) and its entries are
 * looked at through it with lstat, so nothing it holds is opened or followed (a FIFO, a symlink
 * to a host path, a directory swapped for a symlink after it was listed).
 */
export function listChanges(upper: string, lowers: string[]): LayerChange[] {
  const top = [...lowers].reverse();
  const out: LayerChange[] = [];
  const walk = (rel: string) => {
    const dir = RootDir.open(upper, rel);
    if (!dir) return;
    try {
      let names: string[];
      try {
        names = readdirSync(dir.path());
      } catch {
        return;
      }
      for (const name of names) {
        const r = rel ? `${rel}/${name}` : name;
        const p = dir.path(name);
        const st = lstatSync(p, { throwIfNoEntry: false });
        if (!st) continue; // gone since the listing
        const lower = inLowers(r, top);
        if (isWhiteout(st)) {
          out.push({ path: `/${r}`, kind: 'deleted', lowerSize: lower?.size });
          continue;
        }
        if (st.isDirectory()) {
          if (isOpaque(p) && lower) out.push({ path: `/${r}`, kind: 'opaque', isDir: true });
          else if (!lower) out.push({ path: `/${r}`, kind: 'added', isDir: true });
          else out.push({ path: `/${r}`, kind: 'modified', isDir: true });
          walk(r);
          continue;
        }
        out.push(lower ? { path: `/${r}`, kind: 'modified', size: st.size, lowerSize: lower.size } : { path: `/${r}`, kind: 'added', size: st.size });
      }
    } finally {
      dir.close();
    }
  };
  walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** docker diff's form: Kind 0 = changed, 1 = added, 2 = deleted. */
export function dockerDiff(changes: LayerChange[]): { Path: string; Kind: 0 | 1 | 2 }[] {
  return changes.map((c) => ({ Path: c.path, Kind: c.kind === 'added' ? 1 : c.kind === 'deleted' ? 2 : 0 }));
}
