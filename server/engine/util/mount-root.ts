// "Is this path a mount point?" in one statx(2): STATX_ATTR_MOUNT_ROOT (Linux 5.8). Reading
// /proc/self/mountinfo instead costs a line per mount on the host, and every running container
// adds an overlay mount (and its /dev, /proc ... binds in its own namespace do not count, but a
// start, an exit and a removal each asked): O(containers) per call.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const _statx = libc.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ uint8_t *buf)');
const errnoLocation = libc.func('int *__errno_location(void)');
const ENOENT = 2;
const ENOTDIR = 20;
const AT_FDCWD = -100;
const STATX_ATTR_MOUNT_ROOT = 0x2000n;
// struct statx: stx_attributes at byte 8, stx_attributes_mask at byte 56 (both u64)
const STATX_SIZE = 256;

/**
 * true / false when the kernel can say; null when it cannot (statx failed otherwise than with
 * "no such path", or the kernel does not report the attribute): the caller asks mountinfo then.
 * A path that does not exist is no mount point (mountinfo names a mount whose directory was
 * removed "<path> (deleted)", which no caller's path matches either).
 */
export function isMountRoot(path: string): boolean | null {
  const buf = Buffer.alloc(STATX_SIZE);
  if ((_statx(AT_FDCWD, path, 0, 0, buf) as number) !== 0) {
    const errno = koffi.decode(errnoLocation(), 'int') as number;
    return errno === ENOENT || errno === ENOTDIR ? false : null;
  }
  const attrs = buf.readBigUInt64LE(8);
  const known = buf.readBigUInt64LE(56);
  if (!(known & STATX_ATTR_MOUNT_ROOT)) return null;
  return (attrs & STATX_ATTR_MOUNT_ROOT) !== 0n;
}
