// How a uml container is started: the guest spec the guest init reads, and the command line of
// gb-uml-launch + linux.uml (native/uml/*.c say what each does and why).
import { encodeField } from '../helper-spec.js';
import type { RuntimePlan } from '../plan.js';

/** Guest memory when the container has no -m (MiB). */
export const DEFAULT_MEM_MIB = 256;
/** linux.uml's own floor: below it the guest kernel does not boot. */
export const MIN_MEM_MIB = 32;

/** `-m` as the guest's mem= (MiB), from the plan's OCI resources. */
export function guestMemMiB(plan: RuntimePlan): number {
  const limit = (plan.resources as { memory?: { limit?: number } }).memory?.limit;
  if (!limit || limit <= 0) return DEFAULT_MEM_MIB;
  return Math.max(MIN_MEM_MIB, Math.floor(limit / (1024 * 1024)));
}

/** The guest spec (gb-uml-init.c): the container's process, as the guest runs it. */
export function guestSpec(plan: RuntimePlan): string {
  const out = ['# gb-uml-init spec, written by the Glassbox engine (native/uml/gb-uml-init.c)'];
  for (const a of plan.args) out.push(`arg ${encodeField(a)}`);
  for (const e of plan.env) out.push(`env ${encodeField(e)}`);
  out.push(`cwd ${encodeField(plan.cwd)}`);
  out.push(['user', plan.user.uid, plan.user.gid, ...plan.user.additionalGids].join(' '));
  if (plan.hostname) out.push(`hostname ${encodeField(plan.hostname)}`);
  out.push(`terminal ${plan.terminal ? 1 : 0}`);
  return out.join('\n') + '\n';
}

/** linux.uml's command line: the image through hostfs, the guest init, the console on stdio. */
export function kernelArgs(plan: RuntimePlan): string[] {
  const interactive = plan.terminal || plan.stdin;
  return [
    `mem=${guestMemMiB(plan)}M`,
    'root=/dev/root',
    'rootfstype=hostfs',
    'rootflags=/', // the UML process's / is the container's rootfs (gb-uml-launch pivoted into it)
    plan.readOnlyRoot ? 'ro' : 'rw',
    'init=/dev/.gb-uml/init',
    // the kernel must not cover /dev (where the init and its spec are) before the init runs
    'devtmpfs.mount=0',
    'con=null',
    'ssl=null',
    // the console is the container's terminal (or its stdout); with no terminal, the guest's
    // ttyS0 is stderr, so docker logs keeps the two streams apart
    `con0=${interactive ? 'fd:0' : 'null'},fd:1`,
    ...(plan.terminal ? [] : ['ssl0=null,fd:2']),
    'uml_dir=/dev/uml',
    'umid=gb',
    // the kernel's own messages stay out of the container's log (a panic still prints)
    'quiet',
    'loglevel=0',
    // passed to the guest init as environment: the init is a static glibc program too
    'GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX_Fast_Unaligned_Load',
    'GODEBUG=cpu.avx=off,cpu.avx2=off',
  ];
}
