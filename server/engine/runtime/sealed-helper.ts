// The helper is run from a sealed in-memory copy of native/build/gb-helper, never from the file.
//
// A container's process can open /proc/PID/exe of every process it can see with its own
// credentials (gb-init, the helper while it execs a command: a command that starts with
// `#!/proc/self/exe` makes the kernel run that as its interpreter). Were that the host's
// gb-helper, a write through the descriptor would replace the program every later container
// starts as root on the host (CVE-2019-5736, runc). So the server copies the file once into a
// memfd, seals it (no write, no resize, no unsealing) and starts every helper from it, through a
// symlink named gb-helper (so `ps` and /proc/PID/comm still say gb-helper) that points at
// /proc/<server pid>/fd/<memfd>. The helper checks the seals when it starts and copies itself
// into a sealed memfd of its own when someone started it from the file (native/src/selfexe.c).
import { fstatSync, lstatSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { addSeals, closeFd, F_SEAL, MFD, memfdCreate, SyscallError } from '../../../native/libc.js';

const REQUIRED = F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE;

interface Sealed {
  fd: number;
  /** identity of the file it was copied from: a rebuilt helper is copied again */
  from: string;
}
let sealed: Sealed | null = null;

function identity(path: string): string {
  const st = statSync(path);
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

function createMemfd(): number {
  try {
    // MFD_EXEC: since Linux 6.3 a memfd may be non-executable by default (vm.memfd_noexec)
    return memfdCreate('gb-helper', MFD.CLOEXEC | MFD.ALLOW_SEALING | MFD.EXEC);
  } catch (e) {
    if (!(e instanceof SyscallError && e.code === 'EINVAL')) throw e;
    return memfdCreate('gb-helper', MFD.CLOEXEC | MFD.ALLOW_SEALING);
  }
}

/** Copy `source` into a new sealed memfd; returns its descriptor (close-on-exec). */
export function sealCopy(source: string): number {
  const bytes = readFileSync(source);
  const fd = createMemfd();
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    try {
      addSeals(fd, F_SEAL.EXEC); // Linux 6.3+: the mode bits cannot change either
    } catch {
      /* older kernel: the other seals are what matters */
    }
    addSeals(fd, REQUIRED);
    if (fstatSync(fd).size !== bytes.length) throw new Error(`sealed copy of ${source} has the wrong size`);
    return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/** The sealed copy of `source`, made once per server process (again if the file changed). */
export function sealedHelperFd(source: string): number {
  const from = identity(source);
  if (sealed?.from === from) return sealed.fd;
  const fd = sealCopy(source);
  // a helper being spawned has exec'd already (spawn is synchronous): the old copy can go
  if (sealed) closeFd(sealed.fd);
  sealed = { fd, from };
  return fd;
}

/**
 * The path to exec for `gb-helper run|exec`: dir/gb-helper, a symlink to the sealed copy.
 * Re-pointed when it is stale (a previous server's pid, a rebuilt helper).
 */
export function sealedHelperPath(source: string, dir: string): string {
  const target = `/proc/${process.pid}/fd/${sealedHelperFd(source)}`;
  const link = join(dir, 'gb-helper');
  let current: string | null = null;
  try {
    if (lstatSync(link).isSymbolicLink()) current = readlinkSync(link);
  } catch {
    /* not there yet */
  }
  if (current !== target) {
    const tmp = `${link}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(target, tmp);
    renameSync(tmp, link); // atomic: a concurrent spawn sees the old link or the new one
  }
  return link;
}
