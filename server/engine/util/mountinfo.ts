// /proc/PID/mountinfo, one row per mount (proc(5)):
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)   (4)   (5)      (6)      (7)     (8) (9)   (10)       (11)
// The optional fields (7) are the propagation: shared:N (a peer group), master:N (a slave of group N),
// propagate_from:N, unbindable. The cgroup driver, the overlay code, the mount view and the labs
// all read it through this one parser.
import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountId: number;
  parentId: number;
  /** major:minor of the filesystem (field 3): two mounts with the same one show the same filesystem */
  dev: string;
  /** the path inside the source filesystem that is mounted here (a bind mount's source) */
  root: string;
  /** where it is mounted, as the reading process sees it */
  mountPoint: string;
  /** per-mount options: rw/ro, nosuid, nodev, noexec, relatime… */
  options: string[];
  propagation: { shared?: number; master?: number; propagateFrom?: number; unbindable?: boolean };
  fsType: string;
  source: string;
  /** per-superblock options (overlay's lowerdir=…,upperdir=…) */
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \040 \011 \012 \134. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function parsePropagation(fields: string[]): MountEntry['propagation'] {
  const p: MountEntry['propagation'] = {};
  for (const f of fields) {
    const [k, v] = f.split(':');
    if (k === 'shared') p.shared = Number(v);
    else if (k === 'master') p.master = Number(v);
    else if (k === 'propagate_from') p.propagateFrom = Number(v);
    else if (k === 'unbindable') p.unbindable = true;
  }
  return p;
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    if (pre.length < 6 || post.length < 3) continue;
    out.push({
      mountId: Number(pre[0]),
      parentId: Number(pre[1]),
      dev: pre[2],
      root: unescapeMountField(pre[3]),
      mountPoint: unescapeMountField(pre[4]),
      options: pre[5].split(','),
      propagation: parsePropagation(pre.slice(6)),
      fsType: post[0],
      source: unescapeMountField(post[1]),
      superOptions: post[2].split(','),
    });
  }
  return out;
}

/** The mount tree a process sees (its mount namespace, relative to its root). */
export async function readMounts(pid: number | 'self'): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(`/proc/${pid}/mountinfo`, 'utf8'));
}
