// Groups: a level between the parent and the containers. A class shares one host, so each
// learner's containers live in a cgroup of their own, <parent>/learners/<lid>/<container id>,
// and the learner's quota is written on learners/<lid>: cgroup limits are hierarchical, so the
// kernel holds all of the learner's containers together under it (memory beyond the quota is
// reclaimed, then OOM-killed, inside that learner's group only; a fork bomb meets its pids.max).
//
// The drivers keep an id -> group map: create() records it, and a container made by an earlier
// server (restore after a restart or SIGKILL) is found by looking where its directory is.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument } from '../types.js';

/** The directory under the parent that holds the learners' groups. */
export const GROUPS_DIR = 'learners';

/** A learner id as a directory name: no '/', no '.', nothing the shell or the kernel reads twice. */
const GROUP_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

/** 'learners/<lid>' for a learner id; InvalidArgument naming the id when it cannot be a directory name. */
export function learnerGroup(learnerId: string): string {
  if (typeof learnerId !== 'string' || !GROUP_NAME_RE.test(learnerId)) {
    throw new InvalidArgument(`invalid learner id ${JSON.stringify(learnerId)}: use 1-64 letters, digits, '_' and '-' (it names the cgroup ${GROUPS_DIR}/<id>)`);
  }
  return `${GROUPS_DIR}/${learnerId}`;
}

/** Check a group path as the drivers take it: '' (no group) or 'learners/<name>'. */
export function checkGroup(group: string): void {
  if (group === '') return;
  const [dir, name, ...rest] = group.split('/');
  if (dir !== GROUPS_DIR || rest.length || !GROUP_NAME_RE.test(name ?? '')) {
    throw new InvalidArgument(`invalid cgroup group ${JSON.stringify(group)}: want ${GROUPS_DIR}/<name> with letters, digits, '_' and '-'`);
  }
}

/** Subdirectory names of dir (none when it is missing). */
export function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/**
 * Where each container's directory is, relative to the parent. `bases` are the parent directories
 * to look in: one per v1 hierarchy, or the one v2 parent.
 */
export class GroupIndex {
  private readonly known = new Map<string, string>();

  constructor(private readonly bases: () => string[]) {}

  set(id: string, group: string): void {
    this.known.set(id, group);
  }

  forget(id: string): void {
    this.known.delete(id);
  }

  /** The container's group: recorded, else found on disk, else '' (directly under the parent). */
  of(id: string): string {
    const g = this.known.get(id);
    if (g !== undefined) return g;
    for (const base of this.bases()) if (existsSync(join(base, id))) return '';
    for (const base of this.bases()) {
      for (const name of subdirs(join(base, GROUPS_DIR))) {
        if (existsSync(join(base, GROUPS_DIR, name, id))) {
          const group = `${GROUPS_DIR}/${name}`;
          this.known.set(id, group);
          return group;
        }
      }
    }
    return '';
  }

  /** The container's path relative to the parent: <id> or learners/<lid>/<id>. */
  rel(id: string): string {
    const g = this.of(id);
    return g ? `${g}/${id}` : id;
  }

  /** Every container directory there is, at both levels, with its group (recorded on the way). */
  scan(): Map<string, string> {
    const out = new Map<string, string>();
    for (const base of this.bases()) {
      for (const name of subdirs(base)) if (name !== GROUPS_DIR) out.set(name, '');
      for (const lid of subdirs(join(base, GROUPS_DIR))) {
        for (const id of subdirs(join(base, GROUPS_DIR, lid))) out.set(id, `${GROUPS_DIR}/${lid}`);
      }
    }
    for (const [id, g] of out) this.known.set(id, g);
    return out;
  }

  /** The groups that exist (learners/<lid>), in any base. */
  groups(): string[] {
    const out = new Set<string>();
    for (const base of this.bases()) for (const lid of subdirs(join(base, GROUPS_DIR))) out.add(`${GROUPS_DIR}/${lid}`);
    return [...out].sort();
  }
}
