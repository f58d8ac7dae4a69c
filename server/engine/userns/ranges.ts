// A host uid/gid range of its own for every user-namespaced container (podman's --userns=auto).
// With one shared range, root in every container is the same host uid: a file root writes in one
// container on a shared bind mount is root's in all of them, and a process escaping one container
// could signal or ptrace the others. Here container k gets "0 <base_k> 65536", base_k disjoint.
//
// The pool: root's entries in /etc/subuid and /etc/subgid when they exist (cut into 65536 slots),
// else 100000, 165536, ... for `count` slots (GLASSBOX_USERNS_POOL="start:count" changes it).
// Every engine on the host (a server, a test run beside it) takes slots from the same pool, so a
// slot is leased host-wide: an O_EXCL file /run/glassbox/userns/<base> naming the state root and
// the container. The record keeps the range too; on open the engine re-claims each record's lease
// (/run is emptied at boot), and a lease whose container record no longer exists is stale.
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidArgument, type IdMapping } from '../types.js';

export const RANGE_SIZE = 65536;
export const DEFAULT_POOL = { start: 100000, count: 1024 };

export interface UsernsRange {
  /** first host uid (and gid) of the range: container uid 0 */
  uid: number;
  gid: number;
  size: number;
}

interface Slot {
  uid: number;
  gid: number;
}

interface Lease {
  root: string;
  containerId: string;
}

/** root's ranges in a subuid/subgid file ("root:100000:65536" or "0:100000:65536"), in file order. */
export function parseSubIdFile(text: string, user = 'root'): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const [name, start, count] = line.trim().split(':');
    if ((name !== user && name !== '0') || !/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) continue;
    out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

function slotsOf(ranges: { start: number; count: number }[]): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let b = r.start; b + RANGE_SIZE <= r.start + r.count; b += RANGE_SIZE) out.push(b);
  return out;
}

/** Parses "start:count" (GLASSBOX_USERNS_POOL), with the option named in the error. */
export function parsePool(text: string, from = 'GLASSBOX_USERNS_POOL'): { start: number; count: number } {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  const start = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || start < 1 || count < 1 || start + count * RANGE_SIZE > 2 ** 32 - 1) {
    throw new InvalidArgument(`${from} ${JSON.stringify(text)}: use START:COUNT, COUNT ranges of ${RANGE_SIZE} ids from host uid START (START >= 1, ending below 2^32 - 1), e.g. 100000:1024`);
  }
  return { start, count };
}

export function poolSlots(opts: { pool?: { start: number; count: number }; subuid?: string; subgid?: string } = {}): Slot[] {
  if (!opts.pool) {
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    const uids = slotsOf(parseSubIdFile(opts.subuid ?? read('/etc/subuid')));
    const gids = slotsOf(parseSubIdFile(opts.subgid ?? read('/etc/subgid')));
    if (uids.length) return uids.map((uid, i) => ({ uid, gid: gids[i] ?? uid })).filter((_, i) => !gids.length || i < gids.length);
  }
  const p = opts.pool ?? DEFAULT_POOL;
  return Array.from({ length: p.count }, (_, k) => ({ uid: p.start + k * RANGE_SIZE, gid: p.start + k * RANGE_SIZE }));
}

export class UsernsRanges {
  private readonly slots: Slot[];

  constructor(
    /** host-wide lease directory, /run/glassbox/userns */
    readonly leaseDir: string,
    /** this engine's state root: a lease names it with the container id */
    readonly root: string,
    opts: { pool?: { start: number; count: number }; subuid?: string; subgid?: string } = {},
  ) {
    this.slots = poolSlots(opts);
    mkdirSync(leaseDir, { recursive: true, mode: 0o700 });
  }

  private file(uid: number): string {
    return join(this.leaseDir, String(uid));
  }

  private readLease(uid: number): Lease | null {
    try {
      return JSON.parse(readFileSync(this.file(uid), 'utf8')) as Lease;
    } catch {
      return null;
    }
  }

  /** A lease whose container no longer has a record anywhere (its engine removed it, or the lease is half-written). */
  private stale(l: Lease | null): boolean {
    if (!l || typeof l.root !== 'string' || typeof l.containerId !== 'string') return true;
    return !existsSync(join(l.root, 'containers', l.containerId, 'record.json')) && !existsSync(join(l.root, 'containers', l.containerId));
  }

  private tryLease(slot: Slot, containerId: string): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.file(slot.uid), 'wx', 0o600);
        writeSync(fd, JSON.stringify({ root: this.root, containerId } satisfies Lease));
        closeSync(fd);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const l = this.readLease(slot.uid);
        if (l && l.root === this.root && l.containerId === containerId) return true;
        if (!this.stale(l)) return false;
        rmSync(this.file(slot.uid), { force: true });
      }
    }
    return false;
  }

  /** A free range for a new container, leased host-wide. */
  allocate(containerId: string): UsernsRange {
    for (const s of this.slots) if (this.tryLease(s, containerId)) return { uid: s.uid, gid: s.gid, size: RANGE_SIZE };
    throw new Conflict(`no free user namespace range: all ${this.slots.length} ranges of ${RANGE_SIZE} ids are leased (remove user-namespaced containers, or widen GLASSBOX_USERNS_POOL)`);
  }

  /** At engine open: the record's range is leased to it again; false when someone else holds it now. */
  reclaim(containerId: string, r: UsernsRange): boolean {
    return this.tryLease({ uid: r.uid, gid: r.gid }, containerId);
  }

  release(containerId: string, r: UsernsRange): void {
    const l = this.readLease(r.uid);
    if (l && l.root === this.root && l.containerId === containerId) rmSync(this.file(r.uid), { force: true });
  }

  /** Who holds a lease overlapping [uid, uid+size) (for a container that asks for an explicit map). */
  holderOverlapping(uid: number, size: number): Lease | null {
    let names: string[] = [];
    try {
      names = readdirSync(this.leaseDir);
    } catch {
      return null;
    }
    for (const n of names) {
      if (!/^\d+$/.test(n)) continue;
      const base = Number(n);
      if (base < uid + size && uid < base + RANGE_SIZE) {
        const l = this.readLease(base);
        if (!this.stale(l)) return l;
      }
    }
    return null;
  }
}

export function mapsFor(r: UsernsRange): { uidMap: IdMapping[]; gidMap: IdMapping[] } {
  return { uidMap: [{ containerId: 0, hostId: r.uid, size: r.size }], gidMap: [{ containerId: 0, hostId: r.gid, size: r.size }] };
}
