// One owner for a prefix's host objects. An engine takes flock(LOCK_EX) on
// /run/glassbox/owner[-<prefix>].lock when it opens and holds the descriptor until it closes (or
// dies: the kernel drops the lock with the process). Its pid is written in the file, so the engine
// that is refused can say who owns the host. flock, not a pid file alone: a pid file outlives a
// SIGKILLed server, a lock does not. The descriptor is O_CLOEXEC (Node opens every file so), so
// monitors and helpers spawned later never inherit it and never keep the lock after the server.
import koffi from 'koffi';
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SyscallError } from '../../../native/libc.js';
import { Conflict } from '../types.js';
import type { HostNames } from './naming.js';

const libc = koffi.load('libc.so.6');
const errnoLocation = libc.func('int *__errno_location(void)');
const _flock = libc.func('int flock(int fd, int operation)');
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

/** Another process holds the prefix: nothing was changed on the host. */
export class HostOwned extends Conflict {
  constructor(
    readonly pid: number | null,
    readonly names: HostNames,
  ) {
    const who = pid ? `another Glassbox (pid ${pid})` : 'another Glassbox';
    const parent = names.cgroupParent;
    const chains = names.isDefault ? 'GLASSBOX-*' : names.chains.forward.replace(/FORWARD$/, '*');
    super(`${who} owns this host's ${names.bridge}, ${chains} chains and ${parent}/ cgroups; stop it, or give this one its own GLASSBOX_PREFIX`);
    this.name = 'HostOwned';
  }
}

export class OwnerLock {
  private constructor(
    private fd: number | null,
    readonly file: string,
  ) {}

  /** Takes the lock or throws HostOwned naming the holder's pid. */
  static acquire(names: HostNames): OwnerLock {
    mkdirSync(dirname(names.lockFile), { recursive: true, mode: 0o700 });
    for (;;) {
      const fd = openSync(names.lockFile, 'a+', 0o600);
      if (Number(_flock(fd, LOCK_EX | LOCK_NB)) < 0) {
        const errno = koffi.decode(errnoLocation(), 'int') as number;
        closeSync(fd);
        if (errno !== EWOULDBLOCK) throw new SyscallError('flock(LOCK_EX)', names.lockFile, errno);
        throw new HostOwned(readOwnerPid(names.lockFile), names);
      }
      // the holder we waited behind may have unlinked the file on release: then this lock is on
      // an inode nobody else will open; take the one at the path instead
      let current = -1;
      try {
        current = statSync(names.lockFile).ino;
      } catch {
        /* unlinked */
      }
      if (current !== fstatSync(fd).ino) {
        closeSync(fd);
        continue;
      }
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`);
      return new OwnerLock(fd, names.lockFile);
    }
  }

  get held(): boolean {
    return this.fd !== null;
  }

  /** Removes the file, then drops the lock (a taker that opened the old file sees it unlinked and retries). */
  release(): void {
    if (this.fd === null) return;
    try {
      unlinkSync(this.file);
    } catch {
      /* the lock goes with the descriptor anyway */
    }
    closeSync(this.fd);
    this.fd = null;
  }
}

/** The pid written in a lock file, or null when it is empty (the holder is just starting). */
export function readOwnerPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
