// The helper spec: the runtime plan written in the line format gb-helper reads
// (native/PROTOCOL.md). One directive a line, fields percent-encoded so any byte but NUL survives.
import { mountFlags } from './spec.js';
import type { RuntimePlan } from './plan.js';

/** Percent-encode '%', space and every control byte, so that fields split on spaces and lines on '\n'. */
export function encodeField(value: string | number | bigint): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('a helper spec field cannot hold a NUL byte');
  const out: number[] = [];
  for (const byte of Buffer.from(s, 'utf8')) {
    // Only ASCII bytes are replaced, so multi-byte UTF-8 sequences pass through whole.
    if (byte === 0x25 || byte <= 0x20 || byte === 0x7f) out.push(...Buffer.from('%' + byte.toString(16).toUpperCase().padStart(2, '0')));
    else out.push(byte);
  }
  return Buffer.from(out).toString('utf8');
}

export function decodeField(field: string): string {
  const bytes = Buffer.from(field, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25 && i + 2 < bytes.length && /^[0-9A-Fa-f]{2}$/.test(bytes.subarray(i + 1, i + 3).toString('latin1'))) {
      out.push(parseInt(bytes.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else out.push(bytes[i]);
  }
  return Buffer.from(out).toString('utf8');
}

function line(key: string, ...fields: (string | number | bigint)[]): string {
  return [key, ...fields.map(encodeField)].join(' ');
}

const hex = (n: bigint) => n.toString(16).padStart(16, '0');

/** Lines for `gb-helper run`. */
export function runSpec(plan: RuntimePlan, opts: { createBarrier: boolean }): string {
  const out: string[] = ['# gb-helper run spec, written by the Glassbox engine (see native/PROTOCOL.md)'];
  if (plan.namespaces.length) out.push(line('namespaces', ...plan.namespaces));
  for (const [ns, path] of Object.entries(plan.joinNamespaces)) out.push(line('join', ns, path));
  for (const m of plan.uidMap) out.push(line('uidmap', m.containerId, m.hostId, m.size));
  for (const m of plan.gidMap) out.push(line('gidmap', m.containerId, m.hostId, m.size));
  if (plan.timeOffsets) out.push(line('timens', plan.timeOffsets.monotonic, plan.timeOffsets.boottime));
  for (const f of plan.cgroupProcs) out.push(line('cgroup', f));
  out.push(line('oom_score_adj', plan.oomScoreAdj));
  out.push(line('rootfs', plan.rootfs));
  out.push(line('root_mode', plan.rootMode));
  out.push(line('readonly_root', plan.readOnlyRoot ? 1 : 0));
  if (plan.rootPropagation) out.push(line('root_propagation', plan.rootPropagation));
  for (const m of plan.mounts) {
    const { flags, data } = mountFlags(m.options);
    const type = m.type === 'bind' || m.type === 'remount' ? 'none' : m.type;
    out.push(line('mount', type, m.source, m.destination, flags, data || '-'));
  }
  for (const d of plan.devices) {
    const owner = d.uid !== undefined || d.gid !== undefined ? [d.uid ?? -1, d.gid ?? -1] : [];
    out.push(line('device', d.path, d.type, d.major, d.minor, d.mode.toString(8), ...owner));
  }
  for (const s of plan.symlinks) out.push(line('symlink', s.target, s.link));
  for (const p of plan.maskedPaths) out.push(line('masked', p));
  for (const p of plan.readonlyPaths) out.push(line('readonly', p));
  if (plan.hostname) out.push(line('hostname', plan.hostname));
  for (const r of plan.rlimits) out.push(line('rlimit', r.type.replace(/^RLIMIT_/, ''), r.soft, r.hard));
  out.push(commonProcessLines(plan).join('\n'));
  out.push(...monitorLines(plan, plan.init, opts.createBarrier));
  return out.join('\n') + '\n';
}

function commonProcessLines(p: Pick<RuntimePlan, 'capabilityMasks' | 'noNewPrivileges' | 'seccompBpf' | 'user' | 'cwd' | 'env' | 'args'>): string[] {
  const c = p.capabilityMasks;
  const out = [
    line('caps', hex(c.bounding), hex(c.effective), hex(c.permitted), hex(c.inheritable), hex(c.ambient)),
    line('no_new_privs', p.noNewPrivileges ? 1 : 0),
  ];
  if (p.seccompBpf) out.push(line('seccomp', p.seccompBpf));
  out.push(line('user', p.user.uid, p.user.gid, ...p.user.additionalGids));
  out.push(line('cwd', p.cwd));
  for (const e of p.env) out.push(line('env', e));
  for (const a of p.args) out.push(line('arg', a));
  return out;
}

export interface ExecPlan {
  targetPid: number;
  targetStart: string;
  cgroupProcs: string[];
  capabilityMasks: RuntimePlan['capabilityMasks'];
  noNewPrivileges: boolean;
  seccompBpf: string | null;
  user: RuntimePlan['user'];
  cwd: string;
  env: string[];
  args: string[];
}

/** Lines for `gb-helper exec`. */
export function execSpec(plan: ExecPlan): string {
  const out = ['# gb-helper exec spec, written by the Glassbox engine (see native/PROTOCOL.md)'];
  out.push(line('target_pid', plan.targetPid));
  out.push(line('target_start', plan.targetStart));
  for (const f of plan.cgroupProcs) out.push(line('cgroup', f));
  out.push(...commonProcessLines(plan));
  return out.join('\n') + '\n';
}

/** What a shim needs from the driver (drivers/types.ts ShimCommand). */
export interface ShimLines {
  argv: string[];
  env: string[];
  cwd: string;
  netns: boolean;
  joinCgroup: boolean;
}

const ALL_CAPS = (1n << 64n) - 1n;

/**
 * Lines for `gb-helper run` with a shim (launch 'shim' drivers: runc, crun, runsc, uml): the
 * monitor is the same (log, terminal, exit.json, monitor.sock, create barrier), but its child
 * makes no root, mounts nor namespaces (a new network namespace at most, for the engine's veth)
 * and execs the runtime on the host as root, with the helper's capabilities and no seccomp
 * filter: the runtime applies the container's own, from config.json.
 */
export function shimSpec(plan: RuntimePlan, cmd: ShimLines, opts: { createBarrier: boolean }): string {
  const out: string[] = ['# gb-helper run spec (shim: the child execs an OCI runtime), written by the Glassbox engine (see native/PROTOCOL.md)'];
  out.push(line('shim', 1));
  if (cmd.netns) out.push(line('namespaces', 'net'));
  if (cmd.joinCgroup) for (const f of plan.cgroupProcs) out.push(line('cgroup', f));
  out.push(line('caps', hex(ALL_CAPS), hex(ALL_CAPS), hex(ALL_CAPS), hex(0n), hex(0n)));
  out.push(line('no_new_privs', 0));
  out.push(line('user', 0, 0));
  out.push(line('cwd', cmd.cwd));
  for (const e of cmd.env) out.push(line('env', e));
  for (const a of cmd.argv) out.push(line('arg', a));
  out.push(...monitorLines(plan, false, opts.createBarrier));
  return out.join('\n') + '\n';
}

/** What the monitor keeps for any container: its stdio, init, state, log, own cgroup, barrier. */
function monitorLines(plan: RuntimePlan, init: boolean, createBarrier: boolean): string[] {
  const out = [line('terminal', plan.terminal ? 1 : 0), line('stdin', plan.stdin ? 1 : 0), line('init', init ? 1 : 0), line('state_dir', plan.stateDir)];
  if (plan.logPath) out.push(line('log', plan.logPath));
  if (plan.logPath && plan.logRotate) out.push(line('log_rotate', plan.logRotate.maxSize, plan.logRotate.maxFiles));
  for (const f of plan.monitorCgroupProcs) out.push(line('monitor_cgroup', f));
  out.push(line('create_barrier', createBarrier ? 1 : 0));
  return out;
}
