// Boot User-mode Linux (Debian's user-mode-linux: /usr/bin/linux.uml, a whole Linux kernel that
// runs as ordinary host processes), run one shell command in it, hand back its output and exit
// code, and halt. The guest's root is the host's root, read-only, through hostfs; it writes only
// to its own tmpfs and to a private work directory the host shares with it:
//
//   /tmp/gbt-uml-<pid>-<n>/          (removed when the guest is gone)
//     command.sh env modules         what to run, and the .ko files to load (written by the host)
//     output rc                      what it printed and its exit code (written by the guest)
//     tmp/                           TMPDIR of linux.uml: its memory file lives here
//     uml/                           uml_dir: the mconsole socket and pid file
//     disk0.img                      a sparse file, the guest's block device /dev/ubda (io.max)
//     disk1.img                      another, /dev/ubdb: the guest's /tmp (ext4)
//
// No network device is given (no eth=): the guest has its loopback and what its namespaces make.
// Every host process UML forks stays in the process group it was started in; on a timeout that
// whole group is killed, and after the guest halts the group is checked to be empty.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UML_KERNEL = '/usr/bin/linux.uml';
const GUEST_INIT = join(dirname(fileURLToPath(import.meta.url)), 'guest-init.sh');

export interface BootOptions {
  /** shell text run by /bin/sh in the guest, as root, after the modules are loaded */
  command: string;
  /** environment of the command (exported by the guest's init before it runs) */
  env?: Record<string, string>;
  /** guest memory in MiB (default 1536: node, vitest and a few containers) */
  memMiB?: number;
  /** size of the sparse block device /dev/ubda in MiB (default 256) */
  diskMiB?: number;
  /** size of /dev/ubdb, the guest's /tmp (ext4), in MiB (default 4096, sparse) */
  tmpDiskMiB?: number;
  /** kill the guest after this long (default 20 minutes) */
  timeoutMs?: number;
  /** called with the command's output as it arrives on the console */
  onOutput?: (text: string) => void;
  kernel?: string;
  /** host directories made writable in the guest (an overlay on the tmpfs; the host's copy is untouched) */
  writable?: string[];
}

export interface BootResult {
  /** the command's exit code; null when the guest did not get to write one (crash, timeout) */
  exitCode: number | null;
  output: string;
  /** ms from starting linux.uml to the command starting (modules loaded, cgroup2 ready) */
  bootMs: number;
  totalMs: number;
  timedOut: boolean;
  /** the guest kernel's messages and the init's own lines (for a boot that went wrong) */
  console: string;
  /** files the command left in the work directory (e.g. a test report), read before removal */
  files: Record<string, string>;
}

let counter = 0;

/** /usr/lib/uml/modules/<version>: the modules that match linux.uml (the package ships one set). */
export function umlModulesDir(base = '/usr/lib/uml/modules'): string {
  const versions = existsSync(base) ? readdirSync(base).sort() : [];
  if (!versions.length) throw new Error(`${base} has no module directory: apt-get install user-mode-linux`);
  return join(base, versions[versions.length - 1]);
}

/**
 * The .ko files to insmod, in order: each module of modules.list after its dependencies. In
 * modules.dep a module's line lists what it needs with the deepest dependency last.
 */
export function moduleLoadOrder(modDir = umlModulesDir(), listFile = join(dirname(GUEST_INIT), 'modules.list')): string[] {
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(modDir, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (mod && rest !== undefined) deps.set(basename(mod, '.ko').replace(/-/g, '_'), [mod, ...rest.trim().split(/\s+/).filter(Boolean)]);
  }
  const builtin = new Set(readFileSync(join(modDir, 'modules.builtin'), 'utf8').split('\n').map((l) => basename(l.trim(), '.ko').replace(/-/g, '_')));
  const order: string[] = [];
  for (const raw of readFileSync(listFile, 'utf8').split('\n')) {
    const name = raw.replace(/#.*/, '').trim().replace(/-/g, '_');
    if (!name || builtin.has(name)) continue;
    const entry = deps.get(name);
    if (!entry) throw new Error(`module ${name} (scripts/uml/modules.list) is neither in modules.dep nor built in: ${modDir}`);
    const [self, ...needs] = entry;
    for (const f of [...needs.reverse(), self]) if (!order.includes(f)) order.push(f);
  }
  return order.map((f) => join(modDir, f));
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kill the UML process group we started (by its id) until nothing is left in it. */
async function reapGroup(pgid: number): Promise<void> {
  for (let i = 0; i < 50 && groupAlive(pgid); i++) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone between the check and the kill */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (groupAlive(pgid)) throw new Error(`UML process group ${pgid} would not die`);
}

/** native/uml/xstate-filter.h's glibc and Go settings, for the guest's processes (guest-init.sh
 * keeps node's JIT off AVX as well) */
const GUEST_GLIBC_TUNABLES = 'glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX_Fast_Unaligned_Load';
const GUEST_GODEBUG = 'cpu.avx=off,cpu.avx2=off';

/**
 * A host CPU with AMX: its kernel sizes the XSTATE ptrace regset for the whole XSAVE area, which
 * linux.uml 6.1 cannot pass (native/uml/xstate-filter.h). Only there is UML started through
 * gb-uml-fpregs, with the guest's programs kept off AVX; anywhere else it runs as it always did.
 */
export function needsFpregsFallback(): boolean {
  return / amx_tile\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
}

function fpregsWrapper(): string {
  const bin = join(dirname(GUEST_INIT), '..', '..', 'native', 'build', 'gb-uml-fpregs');
  if (!existsSync(bin)) throw new Error(`${bin} is not built: run "npm run build:native"`);
  return bin;
}

/** Boot, run opts.command, halt. `keepFiles` names files in the work dir to read back. */
export async function bootUml(opts: BootOptions & { keepFiles?: string[] }): Promise<BootResult> {
  const kernel = opts.kernel ?? UML_KERNEL;
  if (!existsSync(kernel)) throw new Error(`${kernel} is missing: apt-get install user-mode-linux (.ci/run does)`);
  const work = `/tmp/gbt-uml-${process.pid}-${counter++}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'tmp'), { recursive: true });
  mkdirSync(join(work, 'uml'));
  const disk = join(work, 'disk0.img');
  const tmpDisk = join(work, 'disk1.img');
  for (const [file, mib] of [
    [disk, opts.diskMiB ?? 256],
    [tmpDisk, opts.tmpDiskMiB ?? 4096],
  ] as const) {
    const fd = openSync(file, 'w');
    ftruncateSync(fd, mib * 1024 * 1024); // sparse: the host's disk holds only what the guest writes
    closeSync(fd);
  }
  writeFileSync(join(work, 'command.sh'), opts.command + '\n');
  writeFileSync(join(work, 'modules'), moduleLoadOrder().join('\n') + '\n');
  writeFileSync(
    join(work, 'env'),
    Object.entries(opts.env ?? {})
      .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
      .join(''),
  );

  const args = [
    `mem=${opts.memMiB ?? 1536}M`,
    'root=/dev/root',
    'rootfstype=hostfs',
    'rootflags=/',
    'ro',
    `init=${GUEST_INIT}`,
    `ubd0=${disk}`,
    `ubd1=${tmpDisk}`,
    `uml_dir=${join(work, 'uml')}`,
    'umid=gbt',
    // every console and serial line off but the first, which is our stdout
    'con=null',
    'ssl=null',
    'con0=null,fd:1',
    'quiet',
    // kernel messages (an OOM kill's report) would interleave with the command's output
    'loglevel=1',
    `GBT_WORK=${work}`,
    `GBT_WRITABLE=${(opts.writable ?? []).join(':')}`,
  ];
  const fallback = needsFpregsFallback();
  // the guest's init and everything it starts: glibc, Go and node off AVX (guest-init.sh)
  if (fallback) args.push(`GLIBC_TUNABLES=${GUEST_GLIBC_TUNABLES}`, `GODEBUG=${GUEST_GODEBUG}`, 'GBT_FPREGS_FALLBACK=1');
  const t0 = Date.now();
  // detached: its own process group, so a timeout can kill UML and every process it forked
  // on an AMX host through gb-uml-fpregs: linux.uml 6.1 dies at its first process otherwise
  const [bin, argv] = fallback ? [fpregsWrapper(), [kernel, ...args]] : [kernel, args];
  const child = spawn(bin, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: join(work, 'tmp') } as unknown as NodeJS.ProcessEnv });
  const pgid = child.pid!;
  let consoleText = '';
  let bootMs = -1;
  let inCommand = false;
  let pending = '';
  const onText = (buf: Buffer) => {
    const text = buf.toString('utf8').replace(/\r/g, '');
    consoleText += text;
    pending += text;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      if (line.startsWith('@@gbt-uml-begin@@')) {
        inCommand = true;
        bootMs = Date.now() - t0;
      } else if (line.startsWith('@@gbt-uml-end')) inCommand = false;
      else if (inCommand) opts.onOutput?.(line);
    }
  };
  child.stdout!.on('data', onText);
  child.stderr!.on('data', onText);

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, opts.timeoutMs ?? 20 * 60_000);
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timer);
  await reapGroup(pgid);
  const totalMs = Date.now() - t0;

  const read = (name: string) => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : null);
  const rc = read('rc');
  const files: Record<string, string> = {};
  for (const f of opts.keepFiles ?? []) {
    const t = read(f);
    if (t !== null) files[f] = t;
  }
  const output = read('output') ?? '';
  rmSync(work, { recursive: true, force: true });
  return { exitCode: rc === null ? null : Number(rc.trim()), output, bootMs, totalMs, timedOut, console: consoleText, files };
}

// Run directly: `tsx scripts/uml/boot.ts 'command'` prints the command's output and exits with its code.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv.slice(2).join(' ') || 'uname -a; cat /sys/fs/cgroup/cgroup.subtree_control';
  const r = await bootUml({ command, writable: [process.cwd()], onOutput: (l) => process.stdout.write(l), env: { HOME: '/tmp' } });
  if (r.exitCode === null || process.env.GBT_UML_CONSOLE) process.stderr.write(r.console);
  process.stderr.write(`uml: boot ${r.bootMs} ms, total ${r.totalMs} ms, exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}\n`);
  process.exit(r.exitCode ?? 1);
}
