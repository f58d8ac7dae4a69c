// Small helpers the test files share.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { version as osVersion } from 'node:os';

/** A TCP port nothing listens on now, on `host` ('0.0.0.0': free on every address). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Retry fn until it resolves, for at most ms; its last error is thrown after that. */
export async function until<T>(fn: () => Promise<T>, ms = 5000, stepMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

/** The first child of pid (e.g. the process `unshare --fork` made), waiting for it to appear. */
export async function childOf(pid: number, attempts = 300): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    try {
      const c = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (c) return Number(c.split(' ')[0]);
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no child under ${pid}`);
}

/** What a test file needs of the host (runc's `requires`). */
export interface HostNeeds {
  root?: boolean;
  /** absolute paths of programs (the docker CLI, busybox, skopeo, chromium …) */
  binaries?: string[];
  /** programs looked up in PATH (cc, ip, iptables-save …) */
  commands?: string[];
  arch?: NodeJS.Architecture;
  /** a precondition of the file's own (no leftovers of an earlier crashed run …): the reason it fails, or null */
  check?: () => string | null;
}

/**
 * A test that cannot run fails, it is not skipped: call at the top of a test file, and the file
 * fails at once with every missing precondition named (and what installs it).
 */
export function requireHost(what: string, needs: HostNeeds): void {
  const missing: string[] = [];
  if (needs.root && process.getuid?.() !== 0) missing.push('root');
  if (needs.arch && process.arch !== needs.arch) missing.push(`a ${needs.arch} machine (this is ${process.arch})`);
  for (const b of needs.binaries ?? []) if (!existsSync(b)) missing.push(b);
  for (const c of needs.commands ?? []) if (spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status !== 0) missing.push(`${c} in PATH`);
  const own = missing.length ? null : needs.check?.();
  if (own) throw new Error(`${what} cannot run here, and a test that cannot run fails: ${own}`);
  if (missing.length) throw new Error(`${what} cannot run here, and a test that cannot run fails: missing ${missing.join(', ')} (.ci/run installs what the tests need)`);
}

/** Kernel features a test may need that a supported kernel can lack (CONFIG_* off). */
export const KERNEL_FEATURES = {
  'time-namespace': { config: 'CONFIG_TIME_NS', present: () => existsSync('/proc/self/ns/time') },
  'cgroup-v2': { config: 'a pure cgroup v2 host (cgroup2 at /sys/fs/cgroup)', present: () => existsSync('/sys/fs/cgroup/cgroup.subtree_control') },
  // a kernel that cannot preempt a task running in the kernel (User-mode Linux is ARCH_NO_PREEMPT)
  // lets one learner's fork storm hold the CPU until its next scheduling point
  preemption: { config: 'CONFIG_PREEMPT or PREEMPT_DYNAMIC (uname -v says PREEMPT)', present: () => /\bPREEMPT/.test(osVersion()) },
} as const;
export type KernelFeature = keyof typeof KERNEL_FEATURES;

/** The tag `npm run test:kernels` looks for to list a failure as "this kernel cannot", with its reason. */
export const KERNEL_LACKS_TAG = '[kernel lacks]';

/**
 * A test that needs a kernel feature fails, with the reason, on a kernel without it (User-mode
 * Linux 6.1 has no time namespace): never skipped. `npm run test:kernels` lists these failures
 * apart, by their reason, instead of counting them as bugs.
 */
export function requireKernelFeature(feature: KernelFeature, what: string, hint = ''): void {
  const f = KERNEL_FEATURES[feature];
  if (!f.present()) throw new Error(`${KERNEL_LACKS_TAG} ${what} needs ${feature} (${f.config}), which this kernel does not have${hint ? `: ${hint}` : ''}`);
}
