// `npm run test:kernels`: the engine, cgroup, network and security integration tests on every
// kernel and cgroup layout we can reach from here: the host's own kernel (this CI host: 6.18,
// hybrid) and User-mode Linux 6.1 booted with pure cgroup v2 (scripts/uml/boot.ts). Prints one
// line per kernel/layout, "host 6.18 hybrid: N passed, N failed", and lists apart the tests that
// cannot work on a kernel for a stated reason (requireKernelFeature in test/helpers.ts: e.g. no
// time namespace in UML's 6.1), so that none is skipped silently. Exit 1 on any other failure.
//
//   GBT_KERNELS=uml        only the guest (GBT_KERNELS=host: only the host)
//   GBT_KERNEL_TESTS=a,b   another selection of test files (both targets)
//   GLASSBOX_TEST_LOCK=/tmp/gb-test.lock   hold this flock(1) lock while the host's tests run
//                          (a shared machine; the guest touches no host cgroup, link or chain)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectLayout } from '../../server/engine/cgroups/detect.js';
import { bootUml, needsFpregsFallback } from './boot.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KERNEL_LACKS_TAG = '[kernel lacks]';

// The selection: what touches the kernel (namespaces, cgroups, overlayfs, veth/bridge/iptables,
// seccomp, the helper) and the security attacks. Left out in the guest run, and why:
//   test/e2e, test/security/web-csrf, dangerous-options: Chromium and the docker CLI against a
//     server (a Next.js build first), not the kernel; the host runs them in `npm test`
//   image/registry/unpack tests: file formats and a local registry, the same on every kernel
// Measured on 2 cores: see README "Kernels".
const COMMON = [
  'test/integration/engine.test.ts',
  'test/integration/helper.test.ts',
  'test/integration/inspect.test.ts',
  'test/integration/network.test.ts',
  'test/integration/network-engine.test.ts',
  'test/integration/overlay.test.ts',
  'test/integration/restore.test.ts',
  'test/integration/seccomp-kernel.test.ts',
  'test/security/descriptors.test.ts',
  'test/security/devices.test.ts',
  'test/security/helper-exe.test.ts',
  'test/security/host-owner.test.ts',
  'test/security/limits.test.ts',
  'test/security/learner-quotas.test.ts',
  'test/security/rootfs-paths.test.ts',
  'test/security/userns-ranges.test.ts',
];
/** each driver's real-kernel tests run where that layout is */
const BY_LAYOUT: Record<string, string[]> = {
  v1: ['test/integration/cgroups-v1.test.ts'],
  hybrid: ['test/integration/cgroups-v1.test.ts'],
  v2: ['test/kernels/cgroups-v2.test.ts'],
};

interface Counts {
  label: string;
  passed: number;
  failed: string[];
  lacking: string[];
  note?: string;
}

interface JsonReport {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { status: string; fullName: string; failureMessages: string[] }[];
  }[];
}

function selection(layout: string): string[] {
  const given = process.env.GBT_KERNEL_TESTS?.split(',').map((s) => s.trim()).filter(Boolean);
  return given ?? [...COMMON, ...(BY_LAYOUT[layout] ?? [])];
}

function countReport(label: string, text: string | undefined, note?: string): Counts {
  const c: Counts = { label, passed: 0, failed: [], lacking: [], note };
  if (!text) {
    c.failed.push('(no test report: the run did not finish)');
    return c;
  }
  const report = JSON.parse(text) as JsonReport;
  for (const file of report.testResults) {
    const rel = file.name.replace(`${repo}/`, '');
    if (file.status === 'failed' && file.assertionResults.every((a) => a.status !== 'failed')) {
      // the file failed outside its tests (an import, a beforeAll, the leak check)
      c.failed.push(`${rel}: ${(file.message ?? '').split('\n')[0]}`);
    }
    for (const a of file.assertionResults) {
      if (a.status === 'passed') c.passed++;
      else if (a.status === 'failed') {
        const msg = a.failureMessages.join('\n');
        const lack = msg.indexOf(KERNEL_LACKS_TAG);
        if (lack >= 0) c.lacking.push(`${rel} > ${a.fullName}: ${msg.slice(lack + KERNEL_LACKS_TAG.length).split('\n')[0].trim()}`);
        else c.failed.push(`${rel} > ${a.fullName}: ${msg.split('\n')[0]}`);
      } else c.failed.push(`${rel} > ${a.fullName}: ${a.status} (a test that cannot run must fail with its reason)`);
    }
  }
  return c;
}

function vitestArgs(files: string[], reportFile: string, extra: string[] = []): string[] {
  return ['run', ...files, '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...extra];
}

// Every process start costs a UML guest some tens of milliseconds (each is a host process and
// every page-table change a host syscall): the tests' timeouts, made for the host, get 4x
const GUEST_TIMEOUTS = ['--testTimeout=240000', '--hookTimeout=480000'];

function runHost(): Counts {
  const layout = detectLayout();
  const [maj, min] = release().split('.');
  const label = `host ${maj}.${min} ${layout === 'v2' ? 'pure v2' : layout}`;
  const dir = mkdtempSync(join(tmpdir(), 'gbk-'));
  const report = join(dir, 'report.json');
  const vitest = [join(repo, 'node_modules/.bin/vitest'), ...vitestArgs(selection(layout), report)];
  const lock = process.env.GLASSBOX_TEST_LOCK;
  const cmd = lock ? ['flock', lock, ...vitest] : vitest;
  console.log(`\n=== ${label}: ${cmd.join(' ')}`);
  spawnSync(cmd[0], cmd.slice(1), { cwd: repo, stdio: 'inherit' });
  let text: string | undefined;
  try {
    text = readFileSync(report, 'utf8');
  } catch {
    text = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  return countReport(label, text);
}

/**
 * On an AMX host UML 6.1 runs its guests on the x87/SSE register fallback (boot.ts), and there a
 * plain static glibc program (what containers run) segfaults unless told to stay off AVX, which a
 * container's own environment does not say. Tried first, in a guest of its own: when even that
 * fails, the suite is not booted (it would only time out) and the reason is listed as what this
 * kernel lacks, with the evidence, for every file. When it works, the suite runs as anywhere.
 */
async function umlCannotRunContainers(): Promise<string | null> {
  if (!needsFpregsFallback()) return null;
  const r = await bootUml({ command: 'env -u GLIBC_TUNABLES -u GODEBUG /bin/busybox true; echo $? > /run/gbt-host/probe-rc', timeoutMs: 120_000, keepFiles: ['probe-rc'] });
  const rc = r.files['probe-rc']?.trim();
  if (rc === '0') return null;
  return `linux.uml 6.1 on this AMX CPU keeps only the x87/SSE registers of its guests' processes (the host's XSTATE regset is larger than UML 6.1 can pass: native/uml/xstate-filter.h), and a static glibc program left on AVX dies there (busybox true in a guest: exit ${rc ?? 'none'}); containers cannot run in this guest`;
}

async function runUml(): Promise<Counts> {
  const files = selection('v2');
  const cannot = await umlCannotRunContainers();
  if (cannot) return { label: 'uml 6.1 pure v2', passed: 0, failed: [], lacking: [`all ${files.length} files: ${cannot}`], note: 'not booted: AMX host' };
  const command = [
    `cd ${repo}`,
    // what the guest is, for the summary line
    `uname -r > /run/gbt-host/kernel`,
    `stat -fc %T /sys/fs/cgroup > /run/gbt-host/cgroupfs`,
    `node_modules/.bin/vitest ${vitestArgs(files, '/run/gbt-host/report.json', GUEST_TIMEOUTS).join(' ')}`,
  ].join('\n');
  console.log(`\n=== uml: booting ${files.length} files`);
  const r = await bootUml({
    command,
    writable: [repo],
    memMiB: 2048,
    diskMiB: 512,
    timeoutMs: 20 * 60_000,
    env: {
      HOME: '/tmp',
      TMPDIR: '/tmp',
      GLASSBOX_ROOT: '/run/glassbox-state',
      // the guest's block device (ubd, a sparse file on the host) for the io.max tests
      GBT_BLOCK_DEVICE: '/dev/ubda',
      CI: process.env.CI ?? '',
    },
    keepFiles: ['report.json', 'kernel', 'cgroupfs'],
    onOutput: (l) => process.stdout.write(l),
  });
  const [maj, min] = (r.files.kernel ?? '?.?').trim().split('.');
  const fs = (r.files.cgroupfs ?? '').trim();
  const label = `uml ${maj}.${min} ${fs === 'cgroup2fs' ? 'pure v2' : `cgroup fs ${fs || '?'}`}`;
  // an AMX host runs UML with only x87/SSE register state for its guests (boot.ts): said, since
  // a failure there may be that and not Glassbox
  const amx = needsFpregsFallback() ? ', AMX host: UML on its x87/SSE register fallback' : '';
  const note = `boot ${(r.bootMs / 1000).toFixed(1)} s, whole run ${(r.totalMs / 1000).toFixed(0)} s${r.timedOut ? ', TIMED OUT' : ''}${amx}`;
  if (r.exitCode === null) process.stderr.write(r.console.slice(-4000));
  return countReport(label, r.files['report.json'], note);
}

const which = process.env.GBT_KERNELS ?? 'host,uml';
const results: Counts[] = [];
if (which.includes('host')) results.push(runHost());
if (which.includes('uml')) results.push(await runUml());

console.log('\n=== kernels');
for (const c of results) {
  console.log(`${c.label}: ${c.passed} passed, ${c.failed.length} failed${c.lacking.length ? `, ${c.lacking.length} need what this kernel lacks` : ''}${c.note ? ` (${c.note})` : ''}`);
  for (const l of c.lacking) console.log(`  kernel lacks: ${l}`);
  for (const f of c.failed) console.log(`  FAILED: ${f}`);
}
process.exit(results.some((c) => c.failed.length) ? 1 : 0);
