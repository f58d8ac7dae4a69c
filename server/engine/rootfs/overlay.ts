// OverlayFS: the image's layers, read-only, under the container's own writable layer.
//   mount -t overlay overlay -o lowerdir=TOP:...:BOTTOM,upperdir=UPPER,workdir=WORK MERGED
// A write to a lower file copies it up whole into UPPER first; a delete leaves a whiteout there.
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MNT_DETACH, mount, SyscallError, umount2 } from '../../../native/libc.js';

export interface OverlayMount {
  /** bottom first, as the image lists them */
  lowers: string[];
  upper: string;
  work: string;
  target: string;
}

/** The option string: overlayfs wants the top layer first in lowerdir. */
export function overlayOptions(o: Omit<OverlayMount, 'target'>): string {
  return `lowerdir=${[...o.lowers].reverse().join(':')},upperdir=${o.upper},workdir=${o.work}`;
}

export function mountOverlay(o: OverlayMount): void {
  const data = overlayOptions(o);
  // mount(2) takes at most a page of options; with very many layers, mount from short relative
  // paths would be next — a base image has one layer, so say so clearly instead.
  if (data.length > 4000) throw new Error(`overlay options too long (${data.length} bytes, ${o.lowers.length} layers)`);
  mkdirSync(o.target, { recursive: true });
  mount('overlay', o.target, 'overlay', 0, data);
}

/** Unmount; a busy mount is detached lazily. Not mounted is not an error. */
export function unmountOverlay(target: string): void {
  if (!isMounted(target)) return;
  try {
    umount2(target, 0);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'EBUSY') umount2(target, MNT_DETACH);
    else if (!(e instanceof SyscallError && (e.code === 'EINVAL' || e.code === 'ENOENT'))) throw e;
  }
}

/** /proc/self/mountinfo's mount point field escapes space, tab, newline and backslash in octal. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function isMounted(target: string): boolean {
  const t = resolve(target);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && unescapeMountPath(mp) === t) return true;
  }
  return false;
}

/**
 * The container's own layer: upper/ (its changes) and work/ (overlayfs' scratch space). With a
 * user namespace, root inside is uidShift outside, and must own upper/ to write anything.
 */
export function prepareContainerLayer(containerDir: string, opts: { uidShift?: number } = {}): { upper: string; work: string } {
  const upper = join(containerDir, 'upper');
  const work = join(containerDir, 'work');
  if (!existsSync(upper)) mkdirSync(upper, { mode: 0o755 });
  if (!existsSync(work)) mkdirSync(work, { mode: 0o700 });
  if (opts.uidShift !== undefined) chownSync(upper, opts.uidShift, opts.uidShift);
  return { upper, work };
}
