// Idmapped mounts: the kernel shows a directory's files with their owners moved through a user
// namespace's mapping, without copying or chowning anything (mount_setattr(2), MOUNT_ATTR_IDMAP).
//
//   fd = open_tree(AT_FDCWD, layer, OPEN_TREE_CLONE)         a private copy of the mount, detached
//   mount_setattr(fd, "", AT_EMPTY_PATH, { attr_set: MOUNT_ATTR_IDMAP, userns_fd })
//   move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)   attach it where overlayfs can see it
//
// With the container's mapping "0 165536 65536", a layer file owned by host uid 0 appears owned by
// 165536 through the idmapped mount; inside the container (whose root is 165536) it is root's.
// overlayfs takes idmapped lower layers since Linux 5.19.
import koffi from 'koffi';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readlinkSync, writeFileSync } from 'node:fs';
import { SyscallError } from '../../../native/libc.js';
import type { IdMapping } from '../types.js';

const libc = koffi.load('libc.so.6');
const errnoLocation = libc.func('int *__errno_location(void)');
const _openTree = libc.func('long syscall(long number, int dfd, const char *path, unsigned int flags)');
const _mountSetattr = libc.func('long syscall(long number, int dfd, const char *path, unsigned int flags, void *attr, size_t size)');
const _moveMount = libc.func('long syscall(long number, int fromDfd, const char *fromPath, int toDfd, const char *toPath, unsigned int flags)');

// The new mount API has one syscall number on every architecture (asm-generic numbering).
const SYS = { open_tree: 428, move_mount: 429, mount_setattr: 442 };
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = 0o2000000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
export const MOUNT_ATTR_IDMAP = 0x00100000;

function check(ret: number | bigint, call: string, target: string): number {
  if (Number(ret) < 0) throw new SyscallError(call, target, koffi.decode(errnoLocation(), 'int') as number);
  return Number(ret);
}

/** A detached copy of the mount at path (open_tree OPEN_TREE_CLONE), as a descriptor. */
export function openTreeClone(path: string): number {
  return check(_openTree(SYS.open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE), 'open_tree(OPEN_TREE_CLONE)', path);
}

/** Marks a detached mount idmapped through the user namespace usernsFd. */
export function setIdmap(treeFd: number, usernsFd: number, what: string): void {
  // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
  const attr = Buffer.alloc(32);
  attr.writeBigUInt64LE(BigInt(MOUNT_ATTR_IDMAP), 0);
  attr.writeBigUInt64LE(BigInt(usernsFd), 24);
  check(_mountSetattr(SYS.mount_setattr, treeFd, '', AT_EMPTY_PATH, attr, attr.length), 'mount_setattr(MOUNT_ATTR_IDMAP)', what);
}

export function moveMount(treeFd: number, target: string): void {
  check(_moveMount(SYS.move_mount, treeFd, '', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH), 'move_mount', target);
}

/**
 * A user namespace with the given maps, held by a descriptor. The kernel needs a namespace (not a
 * map) for MOUNT_ATTR_IDMAP; the container's own does not exist yet when its rootfs is mounted,
 * so a throw-away process unshares one, we (root) write its maps, open /proc/PID/ns/user and let
 * the process go: the descriptor keeps the namespace alive until closed.
 */
export async function userNamespaceFd(uidMap: IdMapping[], gidMap: IdMapping[]): Promise<number> {
  const self = readlinkSync('/proc/self/ns/user');
  const child = spawn('unshare', ['--user', '--', 'sleep', '30'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const pid = child.pid;
    if (!pid) throw new Error('unshare --user: could not start (util-linux unshare is needed for idmapped layers)');
    for (let i = 0; ; i++) {
      let ns = self;
      try {
        ns = readlinkSync(`/proc/${pid}/ns/user`);
      } catch {
        /* not there yet */
      }
      if (ns !== self) break;
      if (child.exitCode !== null || i > 500) throw new Error('unshare --user: the process never entered a new user namespace');
      await new Promise((r) => setTimeout(r, 2));
    }
    const line = (m: IdMapping[]) => m.map((x) => `${x.containerId} ${x.hostId} ${x.size}`).join('\n') + '\n';
    writeFileSync(`/proc/${pid}/uid_map`, line(uidMap));
    writeFileSync(`/proc/${pid}/gid_map`, line(gidMap));
    return openSync(`/proc/${pid}/ns/user`, 'r');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The same, kept for the next container with the same maps: a range is freed at rm and leased
 * again, so most starts find their namespace here instead of spawning a process for it (about
 * 8 ms). The descriptors are close-on-exec, so no helper or container inherits them; at most
 * MAX_CACHED are kept (the oldest is closed first).
 */
const MAX_CACHED = 64;
const cached = new Map<string, number>();

export async function sharedUserNamespaceFd(uidMap: IdMapping[], gidMap: IdMapping[]): Promise<number> {
  const key = JSON.stringify([uidMap, gidMap]);
  const hit = cached.get(key);
  if (hit !== undefined) {
    cached.delete(key); // re-inserted below: the Map's order is the eviction order
    cached.set(key, hit);
    return hit;
  }
  const fd = await userNamespaceFd(uidMap, gidMap);
  cached.set(key, fd);
  if (cached.size > MAX_CACHED) {
    const [oldKey, oldFd] = cached.entries().next().value as [string, number];
    cached.delete(oldKey);
    closeSync(oldFd);
  }
  return fd;
}

/** Attaches an idmapped view of source at target (an existing empty directory). */
export function mountIdmapped(source: string, target: string, usernsFd: number): void {
  const fd = openTreeClone(source);
  try {
    setIdmap(fd, usernsFd, source);
    moveMount(fd, target);
  } finally {
    closeSync(fd);
  }
}
