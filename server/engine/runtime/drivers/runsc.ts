// runsc: gVisor's runtime (Debian's 2022-12-19 release). The container's system calls are served
// by the Sentry, a kernel in user space (a Go program on the host), not by the host's kernel:
// inside, `dmesg` says "Starting gVisor..." and `uname -r` 4.4.0.
//
// Run like runc (oci.ts): `runsc run --bundle B ID` in the foreground under the monitor's shim.
// Choices forced by this host, checked by hand:
//   --platform=ptrace  the default; --platform=kvm hangs here and systrap is not in this release.
//   --network=host     gVisor's own netstack (--network=sandbox) refuses to start here ("cannot run
//                      with network enabled in root network namespace", even in a fresh network
//                      namespace). With host, the Sentry serves socket calls with host sockets in
//                      the namespace it runs in: the shim's, into which the engine wired the veth.
//                      So the container has its own address and ports as with runc; the
//                      difference is that the TCP/IP stack is the host kernel's, not gVisor's.
// runsc's control socket is an abstract unix socket of the sandbox's network namespace: `runsc
// state|exec|kill` reach it only from inside that namespace, so they run under `nsenter --net` into
// the shim's (the runsc run process's) namespace, whose pid initPid keeps in the run dir.
// Exec cannot setns into the Sentry (the container's processes are not host processes): it goes
// through `runsc exec`. runsc ignores config.json's seccomp profile (the Sentry is the boundary;
// it runs itself under a seccomp filter of its own).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleCgroupsPath, findBinary, lastError, missing, removeCgroupPath, removeForeignCgroups, runCli, runtimeCliEnvList, statePid, versionOf, writeProbeBundle } from './cli.js';
import { ociAdjust, shimWantsNetns } from './oci.js';
import type { Availability, ProbeEnv, RuntimeDriver } from './types.js';

const CANDIDATES = ['/usr/bin/runsc', '/usr/sbin/runsc', '/usr/local/bin/runsc'];
const bin = () => findBinary(CANDIDATES);
const global = (stateRoot: string) => ['--root', stateRoot, '--platform=ptrace'];
/** The capabilities config.json gave the container's process: an exec gets the same. */
function bundleCapabilities(bundle: string): unknown {
  return (JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process?: { capabilities?: unknown } }).process?.capabilities;
}
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NSENTER = '/usr/bin/nsenter';
const shimPidFile = (runDir: string) => join(runDir, 'runsc-shim.pid');

/** Is pid a live runsc process (the shim, exec'd into `runsc run`), not a reused pid? */
function liveRunsc(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === bin();
  } catch {
    return false;
  }
}

/** The command line prefix that runs a runsc CLI call in the sandbox's network namespace. */
function inSandboxNetns(runDir: string, shimPid?: number): string[] {
  let pid = shimPid ?? 0;
  if (!pid) {
    try {
      pid = Number(readFileSync(shimPidFile(runDir), 'utf8'));
    } catch {
      return [];
    }
  }
  return pid > 0 && liveRunsc(pid) ? [NSENTER, `--net=/proc/${pid}/ns/net`, '--'] : [];
}

/** `runsc ARGS` from the sandbox's network namespace: file + args for execFile. */
function runscCall(runDir: string, args: string[], shimPid?: number): { file: string; args: string[] } {
  const argv = [...inSandboxNetns(runDir, shimPid), bin(), ...args];
  return { file: argv[0], args: argv.slice(1) };
}

export const runscDriver: RuntimeDriver = {
  name: 'runsc',
  description: "gVisor's runsc (Debian, ptrace platform): the container's system calls are served by a kernel in user space",
  launch: 'shim',
  async probe(env: ProbeEnv): Promise<Availability> {
    const path = bin();
    if (!path) return missing('runsc', CANDIDATES);
    const version = await versionOf(path);
    const { bundle, id, cgroup } = writeProbeBundle(env, 'runsc');
    const r = await runCli(path, [...global(env.stateRoot), '--network=none', 'run', '--bundle', bundle, id], 30_000);
    await runCli(path, [...global(env.stateRoot), 'delete', '--force', id], 10_000);
    removeCgroupPath(cgroup);
    removeForeignCgroups(cgroup);
    if (r.code === 0) return { available: true, path, version, error: null };
    return { available: false, path, version, error: `runsc cannot run a container on this host: ${lastError(r.stderr) || `exit ${r.code}`}` };
  },
  adjustConfig: (config, ctx) => ociAdjust(config, ctx, shimWantsNetns(ctx)),
  shimCommand: (ctx) => ({
    argv: [bin(), ...global(ctx.stateRoot), '--network=host', 'run', '--bundle', ctx.bundle, ctx.id],
    env: runtimeCliEnvList(),
    cwd: ctx.bundle,
    netns: shimWantsNetns(ctx),
    joinCgroup: false, // runsc puts the sandbox into linux.cgroupsPath itself
  }),
  async initPid(ctx, shimPid) {
    writeFileSync(shimPidFile(ctx.runDir), String(shimPid), { mode: 0o600 });
    // the sandbox process (the Sentry) is what the host's kernel sees of the container
    for (let i = 0; i < 500; i++) {
      if (!liveRunsc(shimPid)) break; // done already: runsc run stood for it
      const c = runscCall(ctx.runDir, ['--root', ctx.stateRoot], shimPid);
      const s = await statePid(c.file, c.args, ctx.id);
      if (s.pid > 0 && s.status === 'running') return s.pid;
      await delay(i < 20 ? 5 : 20);
    }
    return shimPid;
  },
  exec: {
    mode: 'cli',
    argv(ctx, req) {
      // the whole process in one file (runsc exec --process), so nothing is parsed from flags
      const file = join(ctx.runDir, `runsc-exec-${randomBytes(6).toString('hex')}.json`);
      writeFileSync(
        file,
        JSON.stringify({ terminal: req.tty, user: { uid: req.user.uid, gid: req.user.gid }, args: req.args, env: req.env, cwd: req.cwd, capabilities: bundleCapabilities(ctx.bundle) }),
        { mode: 0o600 },
      );
      const c = runscCall(ctx.runDir, ['--root', ctx.stateRoot, 'exec', '--process', file, ctx.id]);
      return [c.file, ...c.args];
    },
  },
  async signal(ctx, signal) {
    const c = runscCall(ctx.runDir, ['--root', ctx.stateRoot, 'kill', ctx.id, String(signal)]);
    const r = await runCli(c.file, c.args, 10_000);
    if (r.code !== 0 && !/not running|does not exist|no such|stopped/i.test(r.stderr)) throw new Error(`runsc kill: ${lastError(r.stderr)}`);
  },
  async cleanup(ctx) {
    const path = bin();
    if (path) await runCli(path, ['--root', ctx.stateRoot, 'delete', '--force', ctx.id], 10_000);
    removeForeignCgroups(bundleCgroupsPath(ctx.bundle));
  },
  refuses: {
    sysctls: "runsc: --sysctl is not supported: the Sentry is the container's kernel, and it takes no sysctls from Glassbox",
    userns: 'runsc: --userns is not supported with gVisor here (the Sentry has its own user namespace)',
  },
};
