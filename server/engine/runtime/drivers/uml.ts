// uml: the container's image run under a Linux kernel of its own, User-mode Linux (Debian's
// user-mode-linux, 6.1): `uname -r` says 6.1.x inside while the host runs 6.18. The kernel is an
// ordinary host process; the image's root reaches it through hostfs; the command is run by a
// small guest init (native/uml/gb-uml-init.c), whose exit code linux.uml exits with.
//
// Confinement (native/uml/gb-uml-launch.c): hostfs lets the guest's root mount any path the UML
// process can open, so the UML process runs pivoted into the container's rootfs, in new mount,
// pid, ipc, uts and network namespaces, with four capabilities, no_new_privs and a seccomp
// filter, inside the container's cgroup (joinCgroup), from read-only copies of its binaries.
// There is no network: no eth= device is given and the launcher's network namespace is empty.
// Hardware VMs (Kata, Firecracker) are not offered: this host has no VT-x/AMD-V.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../project-root.js';
import { ensureKernelDir, kernelVersion, missingFiles, UML_KERNEL } from '../uml/kernel-dir.js';
import { guestMemMiB, guestSpec, kernelArgs } from '../uml/launch.js';
import { addUmlOverhead } from '../uml/memory.js';
import type { Availability, RuntimeDriver } from './types.js';

const BUILD = join(PROJECT_ROOT, 'native', 'build');
const LAUNCHER = join(BUILD, 'gb-uml-launch');
const GUEST_INIT = join(BUILD, 'gb-uml-init');

export const UML_EXEC_REFUSAL =
  'a uml container runs its own kernel: its processes are not host processes, so there is nothing to setns() into; run the command as the container\'s command (or a shell with -it)';

export const umlDriver: RuntimeDriver = {
  name: 'uml',
  description: 'User-mode Linux 6.1: the image under a Linux kernel of its own (a host process), its root through hostfs',
  launch: 'shim',
  async probe(): Promise<Availability> {
    const missing = missingFiles(GUEST_INIT, LAUNCHER);
    if (missing) return { available: false, path: UML_KERNEL, version: '', error: missing };
    return { available: true, path: UML_KERNEL, version: `Linux ${kernelVersion()} (User-mode Linux)`, error: null };
  },
  shimCommand(ctx) {
    const plan = ctx.plan;
    if (!plan) throw new Error('uml: no plan to start from');
    const kernelDir = ensureKernelDir(ctx.stateRoot, GUEST_INIT);
    const spec = join(ctx.runDir, 'uml-guest.spec');
    writeFileSync(spec, guestSpec(plan), { mode: 0o600 });
    // -m is the guest's mem=; the kernel process around it needs room of its own (memory.ts)
    addUmlOverhead(plan);
    return {
      argv: [LAUNCHER, plan.rootfs, kernelDir, spec, String(guestMemMiB(plan)), plan.readOnlyRoot ? 'ro' : 'rw', ...kernelArgs(plan)],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      // the engine wires the container's veth into the shim's namespace; the guest has no network
      // device, and gb-uml-launch puts linux.uml into an empty namespace of its own beneath it
      netns: true,
      joinCgroup: true, // UML's memory and processes count in the container's cgroup
    };
  },
  // the launcher forwards signals to linux.uml (SIGTERM: UML exits at once); SIGKILL takes the
  // launcher, whose children die with it (PR_SET_PDEATHSIG) and the pid namespace with them
  initPid: async (_ctx, shimPid) => shimPid,
  exec: { mode: 'none', refusal: UML_EXEC_REFUSAL },
  // everything UML makes (memory file, uml_dir) is on the tmpfs in the launcher's own mount
  // namespace: it goes with the last process; the guest spec is in the run dir the engine removes
  async cleanup() {},
  refuses: {
    userns: 'uml: --userns is not supported (the guest kernel has its own users; the UML process runs as root with four capabilities)',
    joinNamespaces: 'uml: cannot join another container\'s namespaces: the guest kernel has its own',
    sysctls: 'uml: --sysctl is not supported: the guest kernel is its own; set it inside',
    checkpoint: 'uml: checkpoint is not supported',
  },
};
