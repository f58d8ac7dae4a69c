// The helper's step names: the contract between native/src/*.c and the engine. Each is a line of
// the creation timeline and the `step` of an error line (native/PROTOCOL.md, "Steps"). A unit test
// (test/unit/helper-steps.test.ts) reads the C sources and fails when the helper reports a step
// that is not listed here and in PROTOCOL.md, so a renamed step cannot silently break the timeline.

export const HELPER_STEPS = [
  // before anything else (main.c, spec.c, selfexe.c)
  'spec',
  'selfexe',
  // the monitor (monitor.c)
  'monitor',
  'monitor-cgroup',
  'monitor-socket',
  'log',
  'join',
  'timens',
  'timens_offsets',
  'pipes',
  'signalfd',
  'sync',
  'setup',
  'setns',
  'clone',
  'setgroups',
  'uid_map',
  'gid_map',
  'oom_score_adj',
  'rlimit',
  'stdio',
  'setsid',
  'barrier',
  // the container's side, in the cloned child (child.c, inroot.c)
  'cgroup-join',
  'cgroupns',
  'lo-up',
  'mount-propagation',
  'mount-rootfs',
  'mount',
  'devices',
  'device',
  'symlink',
  'pivot_root',
  'chroot',
  'masked-paths',
  'readonly-paths',
  'readonly-root',
  'hostname',
  'terminal',
  'close-fds',
  'cwd',
  'init',
  // credentials and the last steps before execve (creds.c), shared with exec
  'capabilities',
  'user',
  'no_new_privs',
  'seccomp',
  'exec',
  // exec mode only (exec.c)
  'target',
  'cgroup',
  'fork',
] as const;

/** A listed step, or `mount-<dest>` (one per mount line: mount-proc, mount-etc-hosts, …). */
export type HelperStep = (typeof HELPER_STEPS)[number] | `mount-${string}`;

export function isHelperStep(name: string): name is HelperStep {
  return (HELPER_STEPS as readonly string[]).includes(name) || /^mount-[a-z0-9._-]+$/.test(name);
}
