// A typed wrapper over iproute2 (`ip -json`), nsenter and iptables-restore: execFile only, never a
// shell string, and every command made can be timed and recorded for the creation timeline.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ExecError, execProcess } from '../util/spawner.js';

/** One command the network manager made, timed, for the creation timeline. */
export interface NetStep {
  step: string;
  ms: number;
  /** when it began (performance.now()), so the timeline can place it */
  started: number;
  call?: string;
  detail?: string;
}

export type Recorder = (s: NetStep) => void;

export class CommandError extends Error {
  constructor(
    readonly call: string,
    readonly stderr: string,
    readonly code: number | null,
  ) {
    super(`${call}: ${stderr.trim() || `exit ${code}`}`);
    this.name = 'CommandError';
  }
}

/** How a learner would type it: arguments with spaces or shell characters quoted. */
export function formatCall(file: string, args: string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./!-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function run(file: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  // execProcess, not execFile: a spawn's cost must not grow with the server (util/spawner.ts)
  return execProcess(file, args, { timeoutMs: opts.timeoutMs ?? 15_000, maxBuffer: 64 * 1024 * 1024, input: opts.input }).catch((err: Error) => {
    const code = err instanceof ExecError && typeof err.code === 'number' ? err.code : null;
    throw new CommandError(formatCall(file, args), (err instanceof ExecError && err.stderr) || err.message, code);
  });
}

export interface IpOptions {
  /** run inside the network namespace of this process (nsenter --net=/proc/PID/ns/net) */
  pid?: number;
  /** record the command under this step name */
  step?: string;
  rec?: Recorder;
  detail?: string;
}

/** The program and arguments of `ip ARGS`, run through nsenter in the network namespace of `pid`. */
function ipCommand(args: string[], pid?: number): [string, string[]] {
  return pid ? ['nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', ...args]] : ['ip', args];
}

/** `ip ARGS`, or `nsenter --net=/proc/PID/ns/net ip ARGS` for a container's namespace. */
export async function ip(args: string[], o: IpOptions = {}): Promise<string> {
  const [file, argv] = ipCommand(args, o.pid);
  const t = performance.now();
  const { stdout } = await run(file, argv);
  if (o.rec && o.step) o.rec({ step: o.step, ms: performance.now() - t, started: t, call: formatCall(file, argv), ...(o.detail ? { detail: o.detail } : {}) });
  return stdout;
}

/** One line of an `ip -batch` run: the arguments of one `ip` command and its timeline step. */
export interface BatchCommand {
  args: string[];
  step: string;
  detail?: string;
}

/**
 * Several `ip` commands in one process: `ip -batch -` reads them from stdin, one a line, and stops
 * at the first that fails ("Command failed -:N"). One spawn (about 5 ms, twice that through
 * nsenter) instead of one per command; the timeline still shows every command, each with its
 * share of the run's time.
 */
export async function ipBatch(cmds: BatchCommand[], o: { pid?: number; rec?: Recorder } = {}): Promise<void> {
  if (!cmds.length) return;
  for (const c of cmds) {
    // batch lines are split on blanks: an argument with a blank or a quote would be misread
    if (c.args.some((a) => !a || /[\s"'\\#]/.test(a))) throw new Error(`ip -batch cannot carry the argument list ${JSON.stringify(c.args)}`);
  }
  const [file, argv] = ipCommand(['-batch', '-'], o.pid);
  // each command as the learner would type it alone
  const callOf = (c: BatchCommand) => formatCall(...ipCommand(c.args, o.pid));
  const t = performance.now();
  try {
    await run(file, argv, { input: cmds.map((c) => c.args.join(' ')).join('\n') + '\n' });
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    // name the command that failed, as if it had been run alone
    const line = Number(/Command failed -:(\d+)/.exec(e.stderr)?.[1] ?? 0);
    const failed = cmds[line - 1];
    if (!failed) throw e;
    throw new CommandError(callOf(failed), e.stderr.replace(/\n?Command failed -:\d+\s*$/, ''), e.code);
  }
  const ms = performance.now() - t;
  if (!o.rec) return;
  const runNote = `one of ${cmds.length} commands of a single \`${formatCall(file, argv)}\` (${ms.toFixed(1)} ms in all)`;
  for (const [i, c] of cmds.entries()) {
    o.rec({ step: c.step, ms: ms / cmds.length, started: t + (i * ms) / cmds.length, call: callOf(c), detail: c.detail ? `${c.detail}; ${runNote}` : runNote });
  }
}

export async function ipJson<T>(args: string[], pid?: number): Promise<T> {
  const out = await ip(['-json', ...args], { pid });
  const text = out.trim();
  return (text ? JSON.parse(text) : []) as T;
}

// ----------------------------------------------------------------- shapes of `ip -json` output

export interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  address?: string;
  master?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string };
  addr_info?: IpAddrInfo[];
}

export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

export async function links(pid?: number): Promise<IpLink[]> {
  return ipJson<IpLink[]>(['-d', 'addr', 'show'], pid);
}

export async function routes(pid?: number): Promise<IpRoute[]> {
  return ipJson<IpRoute[]>(['route', 'show'], pid);
}

// ----------------------------------------------------------------- sysctl and counters

export function readSysctl(key: string): string | null {
  try {
    return readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return null;
  }
}

export function writeSysctl(key: string, value: string, rec?: Recorder): void {
  const t = performance.now();
  const file = `/proc/sys/${key.replace(/\./g, '/')}`;
  writeFileSync(file, value);
  rec?.({ step: 'sysctl', ms: performance.now() - t, started: t, call: `sysctl -w ${key}=${value}`, detail: `wrote ${value} to ${file}` });
}

export interface RawCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

export function readLinkCounters(name: string): RawCounters | null {
  const base = `/sys/class/net/${name}/statistics`;
  try {
    const n = (f: string) => Number(readFileSync(`${base}/${f}`, 'utf8').trim());
    return { rxBytes: n('rx_bytes'), txBytes: n('tx_bytes'), rxPackets: n('rx_packets'), txPackets: n('tx_packets') };
  } catch {
    return null;
  }
}
