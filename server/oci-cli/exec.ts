// `exec`: one more process in a container: gb-helper exec joins init's namespaces and cgroups
// (native/PROTOCOL.md "exec"). By default it runs as config.json's process does (user, caps,
// seccomp, no_new_privs, env, cwd); the flags change what runc's flags change.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capabilityMask } from '../engine/runtime/capabilities.js';
import { compileSeccomp } from '../engine/runtime/seccomp-bpf.js';
import { execSpec } from '../engine/runtime/helper-spec.js';
import { helperPath } from '../engine/runtime/builtin.js';
import { ociSeccompProfile, type OciConfig } from '../engine/runtime/bundle.js';
import { bool, checkId, list, parseFlags, str, UsageError } from './args.js';
import type { Context } from './context.js';

const EXEC_FLAGS = [
  { name: 'cwd', value: true },
  { name: 'env', short: 'e', value: true, repeat: true },
  { name: 'tty', short: 't' },
  { name: 'user', short: 'u', value: true },
  { name: 'additional-gids', short: 'g', value: true, repeat: true },
  { name: 'process', short: 'p', value: true },
  { name: 'detach', short: 'd' },
  { name: 'pid-file', value: true },
  { name: 'cap', short: 'c', value: true, repeat: true },
  { name: 'no-new-privs' },
  { name: 'console-socket', value: true },
  { name: 'preserve-fds', value: true },
  { name: 'ignore-paused' },
];

export async function execCommand(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, EXEC_FLAGS, 'exec');
  const id = checkId(p.rest[0], 'exec');
  if (bool(p, 'tty')) throw new UsageError('exec: --tty is not supported by Glassbox\'s runtime yet');
  const c = ctx.store.load(id);
  const status = ctx.store.status(c);
  if (status === 'stopped') throw new UsageError(`cannot exec in a stopped container: ${id}`);
  const config = ctx.store.config(id);
  let proc: NonNullable<OciConfig['process']> = { ...config.process, args: p.rest.slice(1) };
  const processFile = str(p, 'process');
  if (processFile) {
    try {
      proc = JSON.parse(readFileSync(processFile, 'utf8'));
    } catch (e) {
      throw new UsageError(`exec: --process ${processFile}: ${(e as Error).message}`);
    }
  }
  if (!proc.args?.length) throw new UsageError('exec: no command given (usage: glassbox-runtime exec <container-id> <command> [args...])');
  if (proc.terminal) throw new UsageError('exec: process.terminal is not supported by Glassbox\'s runtime yet');
  const user = str(p, 'user');
  let uid = proc.user?.uid ?? 0;
  let gid = proc.user?.gid ?? 0;
  if (user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (!m) throw new UsageError(`exec: --user ${JSON.stringify(user)}: give uid[:gid] as numbers`);
    uid = Number(m[1]);
    gid = m[2] !== undefined ? Number(m[2]) : 0;
  }
  const gids = list(p, 'additional-gids').map((g) => {
    if (!/^\d+$/.test(g)) throw new UsageError(`exec: --additional-gids ${JSON.stringify(g)}: must be a number`);
    return Number(g);
  });
  const caps = proc.capabilities ?? {};
  const extra = list(p, 'cap');
  const mask = (names: string[] | undefined, add: boolean) => {
    try {
      return capabilityMask([...(names ?? []), ...(add ? extra : [])]);
    } catch (e) {
      throw new UsageError(`exec: --cap: ${(e as Error).message}`);
    }
  };
  const dir = ctx.store.dir(id);
  const stamp = `${process.pid}-${Date.now()}`;
  let seccompBpf: string | null = null;
  if (config.linux?.seccomp) {
    seccompBpf = join(dir, `exec-${stamp}.bpf`);
    writeFileSync(seccompBpf, compileSeccomp(ociSeccompProfile(config.linux.seccomp), []), { mode: 0o600 });
  }
  const env = [...(proc.env ?? []), ...list(p, 'env')];
  const spec = execSpec({
    targetPid: c.pid,
    targetStart: c.pidStart,
    cgroupProcs: c.cgroupProcs,
    // ambient only where inheritable and permitted allow it, as in create (bundle.ts)
    capabilityMasks: {
      bounding: mask(caps.bounding, true),
      effective: mask(caps.effective, true),
      permitted: mask(caps.permitted, true),
      inheritable: mask(caps.inheritable, true),
      ambient: mask(caps.ambient, false) & mask(caps.inheritable, true) & mask(caps.permitted, true),
    },
    noNewPrivileges: bool(p, 'no-new-privs') || proc.noNewPrivileges === true,
    seccompBpf,
    user: { uid, gid, additionalGids: gids.length ? gids : (user === undefined ? (proc.user?.additionalGids ?? []) : []) },
    cwd: str(p, 'cwd') ?? proc.cwd ?? '/',
    env,
    args: proc.args,
  });
  const specFile = join(dir, `exec-${stamp}.spec`);
  const statusFile = join(dir, `exec-${stamp}.status`);
  writeFileSync(specFile, spec, { mode: 0o600 });
  const child = spawn(helperPath(), ['exec', specFile, statusFile], { stdio: 'inherit', detached: bool(p, 'detach') });
  const pidFile = str(p, 'pid-file');
  if (pidFile && child.pid) writeFileSync(pidFile, String(child.pid));
  const cleanup = () => {
    for (const f of [specFile, statusFile, ...(seccompBpf ? [seccompBpf] : [])]) rmSync(f, { force: true });
  };
  if (bool(p, 'detach')) {
    child.unref();
    return 0;
  }
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) process.on(s, forward);
  const code = await new Promise<number>((r) => child.on('close', (code, signal) => r(code ?? (signal ? 128 : 255))));
  let failure = '';
  try {
    failure = readFileSync(statusFile, 'utf8').trim();
  } catch {
    /* none: the command ran */
  }
  cleanup();
  if (failure) {
    let msg = failure;
    try {
      const j = JSON.parse(failure) as { error?: string; step?: string };
      msg = `${j.step ? `${j.step}: ` : ''}${j.error ?? failure}`;
    } catch {
      /* not JSON */
    }
    process.stderr.write(`glassbox-runtime: exec failed: ${msg}\n`);
  }
  return code;
}
