// OverlayFS: the image's layers, read-only, under the container's own writable layer.
//   mount -t overlay overlay -o lowerdir=TOP:...:BOTTOM,upperdir=UPPER,workdir=WORK MERGED
// A write to a lower file copies it up whole into UPPER first; a delete leaves a whiteout there.
import { isMountRoot } from '../util/mount-root.js';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MNT_DETACH, mount, SyscallError, umount2, umount2Async } from '../../../native/libc.js';

export interface OverlayMount {
  /** bottom first, as the image lists them */
  lowers: string[];
  upper: string;
  work: string;
  target: string;
}

/** overlayfs splits options at ',' and layers at ':'; a backslash escapes either. */
const esc = (p: string) => p.replace(/[\\:,]/g, (c) => `\\${c}`);

/** The option string: overlayfs wants the top layer first in lowerdir. */
export function overlayOptions(o: Omit<OverlayMount, 'target'>): string {
  return `lowerdir=${[...o.lowers].reverse().map(esc).join(':')},upperdir=${esc(o.upper)},workdir=${esc(o.work)}`;
}

/** mount(2) copies at most one page of options, the terminating NUL included. */
const OPTIONS_MAX = 4095;

/**
 * Mount the overlay. With many layers (or long paths) the option string outgrows the page
 * mount(2) copies. Docker's overlay2 then chdir()s to a directory of short symlinks ("l/ABC…")
 * and passes relative paths; a chdir is process-wide, which a server with a thread pool should
 * not do. Instead each layer directory is opened and named by its descriptor, /proc/self/fd/N
 * (about 17 bytes a layer, whatever the path; the kernel resolves the magic link at mount time,
 * as LXC does). The descriptors are closed right after; the mount keeps its own references.
 */
export function mountOverlay(o: OverlayMount): void {
  mkdirSync(o.target, { recursive: true });
  let data = overlayOptions(o);
  if (data.length <= OPTIONS_MAX) {
    mount('overlay', o.target, 'overlay', 0, data);
    return;
  }
  const fds: number[] = [];
  try {
    const byFd = (p: string) => {
      const fd = openSync(p, 'r'); // O_RDONLY on a directory: enough to name it
      fds.push(fd);
      return `/proc/self/fd/${fd}`;
    };
    const lowers = o.lowers.map(byFd);
    data = overlayOptions({ lowers, upper: byFd(o.upper), work: byFd(o.work) });
    if (data.length > OPTIONS_MAX) {
      throw new Error(`overlay options too long even by descriptor (${data.length} bytes for ${o.lowers.length} layers; overlayfs takes at most 500 lower layers)`);
    }
    mount('overlay', o.target, 'overlay', 0, data);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** Unmount; a busy mount is detached lazily. Not mounted is not an error. */
/**
 * Unmount the container's root; not mounted (EINVAL: not a mount point) or gone (ENOENT) is fine.
 * No mountinfo look-up first: reading /proc/self/mountinfo costs O(mounts), so 500 removals that
 * each checked it spent O(N²) on the event loop; umount2 itself answers in O(1).
 */
export function unmountOverlay(target: string): void {
  try {
    umount2(target, 0);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'EBUSY') umount2(target, MNT_DETACH);
    else if (!(e instanceof SyscallError && (e.code === 'EINVAL' || e.code === 'ENOENT'))) throw e;
  }
}

/**
 * unmountOverlay with the kernel's wait off the event loop: the usual unmount runs on a worker
 * thread; one that fails there (not mounted, busy) is repeated here for its errno and handled as
 * unmountOverlay does.
 */
export async function unmountOverlayAsync(target: string): Promise<void> {
  if ((await umount2Async(target, 0)) === 0) return;
  unmountOverlay(target);
}

/** /proc/self/mountinfo's mount point field escapes space, tab, newline and backslash in octal. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function isMounted(target: string): boolean {
  // one statx where the kernel says (the mount table holds a line per running container)
  const quick = isMountRoot(target);
  if (quick !== null) return quick;
  // mountinfo names the mount point by its real path: /var/run/x is /run/x there
  let t = resolve(target);
  try {
    t = realpathSync(t);
  } catch {
    /* gone: compare as given */
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && unescapeMountPath(mp) === t) return true;
  }
  return false;
}

/**
 * The container's own layer: upper/ (its changes), work/ (overlayfs' scratch space) and merged/
 * (the mount point, the container's rootfs). With a user namespace, root inside is uidShift
 * outside: it must own upper/ (the root of what merged/ shows once mounted, since overlayfs
 * takes the root directory's owner from the upper dir) to write anything in its own rootfs.
 */
export function prepareContainerLayer(
  containerDir: string,
  opts: { uidShift?: number; gidShift?: number; /** the mount point; default <containerDir>/merged */ merged?: string } = {},
): { upper: string; work: string; merged: string } {
  const upper = join(containerDir, 'upper');
  const work = join(containerDir, 'work');
  const merged = opts.merged ?? join(containerDir, 'merged');
  mkdirSync(containerDir, { recursive: true });
  if (!existsSync(upper)) mkdirSync(upper, { mode: 0o755 });
  if (!existsSync(work)) mkdirSync(work, { mode: 0o700 });
  if (!existsSync(merged)) mkdirSync(merged, { recursive: true, mode: 0o755 });
  if (opts.uidShift !== undefined) {
    const gid = opts.gidShift ?? opts.uidShift;
    chownSync(upper, opts.uidShift, gid);
    chownSync(merged, opts.uidShift, gid); // the mount point, seen before the mount or after it goes
  }
  return { upper, work, merged };
}
