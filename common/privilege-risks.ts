// What --privileged and --cap-add SYS_ADMIN give away, in plain words, for the dashboard's form,
// the container page and `docker info`. Pure data (no node: imports): the browser bundles it too.
//
// Docker leans on AppArmor (its docker-default profile denies mount and writes to /proc/sys) to
// keep SYS_ADMIN from being root on the host. This engine has no AppArmor/SELinux profile, and
// on a host without those modules nothing stands behind the capability: a fresh /proc mounted in
// the container has a writable /proc/sys, so kernel.core_pattern can run a program as host root.
import type { ContainerConfig } from '../server/engine/types.js';

export interface PrivilegeRisk {
  option: '--privileged' | '--cap-add SYS_ADMIN' | '--cap-add ALL';
  /** one line: what it amounts to */
  summary: string;
  /** what exactly it hands the container */
  givesAway: string[];
}

export const NO_LSM_NOTE =
  'Glassbox applies no AppArmor or SELinux profile (and this kernel may have neither): unlike Docker on Ubuntu, nothing blocks mount(2) or writes to /proc/sys once these are granted.';

export const PRIVILEGED_RISK: PrivilegeRisk = {
  option: '--privileged',
  summary: '--privileged is root on the host: the container can take the host over.',
  givesAway: [
    'all capabilities (CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_RAWIO, …): mount anything, load kernel modules',
    "every host device in /dev: the host's disks can be mounted and rewritten",
    'no seccomp filter: every system call is allowed',
    '/proc and /sys are neither masked nor read-only: /proc/sys is writable, and kernel.core_pattern runs a program of its choice as root on the host',
  ],
};

export const SYS_ADMIN_RISK: PrivilegeRisk = {
  option: '--cap-add SYS_ADMIN',
  summary: '--cap-add SYS_ADMIN is close to root on the host here.',
  givesAway: [
    'mount(2): a fresh /proc mount has a writable /proc/sys (kernel.core_pattern runs a program as root on the host), and masked /proc paths can be unmounted',
    'on cgroup v1, mounting a cgroup hierarchy exposes release_agent: another way to run a program as root on the host',
    'unshare/setns, sethostname, swapon, quotactl and the other calls seccomp only allows with this capability',
  ],
};

const ALL_CAPS_RISK: PrivilegeRisk = { ...SYS_ADMIN_RISK, option: '--cap-add ALL', summary: '--cap-add ALL includes SYS_ADMIN: close to root on the host here.' };

/** The dangerous options a config asks for (empty for an ordinary container). */
export function privilegeRisks(c: Pick<ContainerConfig, 'privileged' | 'capAdd' | 'capDrop'>): PrivilegeRisk[] {
  if (c.privileged) return [PRIVILEGED_RISK];
  const norm = (s: string) => s.toUpperCase().replace(/^CAP_/, '');
  const added = new Set((c.capAdd ?? []).map(norm));
  const dropped = new Set((c.capDrop ?? []).map(norm));
  // adds win over --cap-drop ALL (Docker's order); naming SYS_ADMIN in both is a drop
  if (dropped.has('SYS_ADMIN')) return [];
  if (added.has('SYS_ADMIN')) return [SYS_ADMIN_RISK];
  if (added.has('ALL')) return [ALL_CAPS_RISK];
  return [];
}

/** The same as plain text lines (docker info's Warnings, logs). */
export function riskLines(r: PrivilegeRisk): string[] {
  return [r.summary, ...r.givesAway.map((g) => `  - ${g}`)];
}
