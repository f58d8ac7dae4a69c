// The seed's two tables as data: the OCI runtimes and the hardware VMs beside them, and the
// containers-versus-VMs claims. The /runtimes page draws each claim beside the figure measured
// here, and says so where this machine cannot give a figure (no youki package, no VT-x).
import type { RuntimeComparison, RuntimeResult } from '../../server/engine/compare/types';

/** How a runtime relates to the host's kernel: the column it fills in the second table. */
export type KernelKind = 'shared' | 'user-space kernel' | 'own kernel';

export interface RuntimeRow {
  /** the row's name in the seed's table */
  title: string;
  /** the name the engine lists it by, when Glassbox has a driver for it */
  engineName?: string;
  written: string;
  claim: string;
  /** why no figure can be measured on this machine, when none can */
  cannot?: string;
  kernel: KernelKind;
}

const NO_HW_VIRT =
  'needs hardware virtualization (Intel VT-x or AMD-V): this machine has neither, and its /dev/kvm is a paravirtual kind that boots no stock guest kernel, so no figure is shown rather than a made-up one';

export const RUNTIME_ROWS: RuntimeRow[] = [
  {
    title: 'Glassbox (builtin)',
    engineName: 'builtin',
    written: 'C helper, TypeScript engine',
    claim: "This playground's own runtime: a small C program makes the namespaces, joins the cgroup, sets up seccomp and execs the command; the engine writes the config.json the OCI runtimes below read.",
    kernel: 'shared',
  },
  {
    title: 'runc',
    engineName: 'runc',
    written: 'Go',
    claim: 'The reference implementation of the OCI runtime spec; what Docker and containerd run by default.',
    kernel: 'shared',
  },
  {
    title: 'crun',
    engineName: 'crun',
    written: 'C',
    claim: 'The same job done in C: it starts a container faster than runc and needs less memory while doing it.',
    kernel: 'shared',
  },
  {
    title: 'youki',
    written: 'Rust',
    claim: 'The OCI runtime spec once more, in Rust: memory safety without a garbage collector, start times near crun’s.',
    cannot: 'not installed here: Debian has no youki package, so Glassbox has no driver for it',
    kernel: 'shared',
  },
  {
    title: 'gVisor (runsc)',
    engineName: 'runsc',
    written: 'Go',
    claim: 'A kernel in user space: its Sentry answers the container’s system calls itself, and only a small set of calls from the Sentry reaches the host’s kernel.',
    kernel: 'user-space kernel',
  },
  {
    title: 'Kata Containers',
    written: 'Go, with a guest kernel',
    claim: 'Each pod in a lightweight virtual machine with its own kernel, driven through the same OCI interface as a container.',
    cannot: NO_HW_VIRT,
    kernel: 'own kernel',
  },
  {
    title: 'Firecracker',
    written: 'Rust',
    claim: 'MicroVMs for serverless work: a very small device model, so a guest boots in about 125 ms.',
    cannot: NO_HW_VIRT,
    kernel: 'own kernel',
  },
  {
    title: 'User-mode Linux',
    engineName: 'uml',
    written: 'C (the Linux kernel itself)',
    claim: 'Not in the seed’s table: a Linux kernel built to run as an ordinary host process. It gives a kernel of its own without hardware virtualization, which this machine lacks.',
    kernel: 'own kernel',
  },
];

/** How the engine's runtimes sit against the host's kernel (anything else: by its uname -r). */
export function kernelKind(r: RuntimeResult, hostKernel: string): KernelKind {
  const row = RUNTIME_ROWS.find((x) => x.engineName === r.runtime);
  if (row) return row.kernel;
  return !r.inside || r.inside.kernel === hostKernel ? 'shared' : 'own kernel';
}

export interface VmClaim {
  aspect: string;
  containers: string;
  vms: string;
  /** what is measured for it, from a comparison (per runtime) */
  measure: 'isolation' | 'kernel' | 'start' | 'memory' | 'density';
}

export const VM_CLAIMS: VmClaim[] = [
  { aspect: 'Isolation', containers: 'Namespaces and cgroups fence a process tree off on the host’s own kernel', vms: 'The processor’s virtualization fences off a whole machine', measure: 'isolation' },
  { aspect: 'Kernel', containers: 'Shared with the host', vms: 'Each guest boots its own', measure: 'kernel' },
  { aspect: 'Startup', containers: '100 ms–1 s', vms: '30 s–2 min', measure: 'start' },
  { aspect: 'Memory overhead', containers: 'MBs per container', vms: 'GBs per VM', measure: 'memory' },
  { aspect: 'Density', containers: 'Hundreds to thousands per host', vms: 'Tens per host', measure: 'density' },
];

/** The comparison's result for an engine runtime name, if it was ticked. */
export function resultFor(c: RuntimeComparison | null, name: string | undefined): RuntimeResult | undefined {
  return name ? c?.results.find((r) => r.runtime === name) : undefined;
}
