// Resolving "-u name" or "-u uid:gid" against the container's own /etc/passwd and /etc/group,
// as Docker does at start (the names are the image's, not the host's). The files are read inside
// the container's root (rootfs/resolve.ts): an image's /etc/group may be a symlink to the host's,
// or a FIFO that would block the server.
import { readFileInRoot } from '../rootfs/resolve.js';
import { InvalidArgument } from '../types.js';

/**
 * The lines of a file of the image; none when it has no such file, or when something else is in
 * its place (a FIFO, a directory): then `problem` says what, for the lookup that needed a name
 * from it. A numeric -u needs neither file, so a broken one does not stop `docker exec`.
 */
function imageFileLines(rootfs: string, path: string): { lines: string[]; problem?: string } {
  try {
    return { lines: (readFileInRoot(rootfs, path)?.toString('utf8') ?? '').split('\n') };
  } catch (e) {
    if (e instanceof InvalidArgument) return { lines: [], problem: e.message };
    throw e;
  }
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }

function readPasswd(rootfs: string): PasswdEntry[] & { problem?: string } {
  const { lines, problem } = imageFileLines(rootfs, '/etc/passwd');
  const entries = lines
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] }));
  return Object.assign(entries, { problem });
}

function readGroups(rootfs: string): { name: string; gid: number; members: string[] }[] & { problem?: string } {
  const { lines, problem } = imageFileLines(rootfs, '/etc/group');
  const entries = lines
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }));
  return Object.assign(entries, { problem });
}

/** What the helper's `user` line takes (native/src/spec.c). */
export const MAX_ADDITIONAL_GROUPS = 64;

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

/** "" → root; "1000" ; "1000:1000" ; "learner" ; "learner:staff". */
export function resolveUser(rootfs: string, spec: string | undefined, groupAdd: string[] = []): ResolvedUser {
  const passwd = readPasswd(rootfs);
  const groups = readGroups(rootfs);
  const [userPart, groupPart] = (spec ?? '').split(':', 2);
  let uid = 0;
  let gid = 0;
  let home = '/root';
  let name: string | undefined;
  if (userPart) {
    if (/^\d+$/.test(userPart)) {
      uid = Number(userPart);
      const e = passwd.find((p) => p.uid === uid);
      gid = e?.gid ?? 0;
      home = e?.home ?? '/';
      name = e?.name;
    } else {
      const e = passwd.find((p) => p.name === userPart);
      if (!e) throw new InvalidArgument(passwd.problem ?? `unable to find user ${userPart}: no matching entries in passwd file`);
      uid = e.uid;
      gid = e.gid;
      home = e.home;
      name = e.name;
    }
  } else {
    name = passwd.find((p) => p.uid === 0)?.name ?? 'root';
  }
  if (groupPart) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new InvalidArgument(groups.problem ?? `unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  if (uid > 2 ** 31 - 1 || gid > 2 ** 31 - 1) throw new InvalidArgument(`uid/gid out of range: ${spec}`);
  const memberOf = name ? groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid) : [];
  // --group-add: a number as is, a name looked up in the image's /etc/group (as Docker does)
  const added = groupAdd.map((g) => {
    if (/^\d+$/.test(g)) {
      const n = Number(g);
      if (n > 2 ** 31 - 1) throw new InvalidArgument(`--group-add ${g}: gid out of range`);
      return n;
    }
    const found = groups.find((x) => x.name === g);
    if (!found) throw new InvalidArgument(`--group-add ${g}: unable to find group ${g}: no matching entries in group file`);
    return found.gid;
  });
  const additionalGids = [...new Set([...memberOf, ...added])];
  // the helper takes at most 64 (native/PROTOCOL.md): say so here, before anything is started
  if (additionalGids.length > MAX_ADDITIONAL_GROUPS) {
    throw new InvalidArgument(`user ${name} is a member of ${additionalGids.length} groups in the container's /etc/group: at most ${MAX_ADDITIONAL_GROUPS} are supported`);
  }
  return { uid, gid, additionalGids, home };
}
