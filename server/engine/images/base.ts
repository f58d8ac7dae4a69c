// The built-in image "base", made at first start with no network: busybox and its applets when
// the host has busybox, otherwise the host's own binaries with their shared libraries. Either way
// a shell with ps, hostname, id, mount, ip, free, top, uptime, dd, ipcs, ipcmk, sleep, kill for the lessons.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import tar from 'tar-stream';
import { sharedLibraryClosure } from './elf.js';
import type { ImageStore } from './store.js';

const FIXED_TIME = new Date('2026-01-01T00:00:00Z');
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const HOST_TOOLS = [
  'sh', 'bash', 'ls', 'cat', 'ps', 'ip', 'mount', 'umount', 'hostname', 'id', 'sleep', 'top', 'free', 'dd', 'ipcs', 'ipcmk',
  'uptime', 'kill', 'echo', 'grep', 'sed', 'awk', 'head', 'tail', 'wc', 'touch', 'mkdir', 'rm', 'cp', 'mv', 'ln', 'chmod',
  'chown', 'whoami', 'uname', 'date', 'env', 'df', 'du', 'stat', 'yes', 'seq', 'tty', 'stty', 'true', 'false', 'readlink',
  'tr', 'cut', 'sort', 'clear', 'reset', 'nproc', 'printf', 'test', 'expr', 'basename', 'dirname', 'find', 'xargs',
];

/** What the seed's lessons type: the base image must have each of them. */
const LESSON_TOOLS = ['ps', 'hostname', 'id', 'mount', 'ip', 'free', 'top', 'uptime', 'dd', 'ipcs', 'ipcmk', 'sleep', 'kill'];

/** One entry of the rootfs being built: a file's content, a directory, or a symlink. */
type Entry =
  | { type: 'dir'; mode: number }
  | { type: 'file'; mode: number; data: Buffer }
  | { type: 'symlink'; target: string };

class RootfsBuilder {
  readonly entries = new Map<string, Entry>();

  dir(path: string, mode = 0o755): void {
    const parts = path.replace(/^\/+/, '').split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!this.entries.has(p)) this.entries.set(p, { type: 'dir', mode: i === parts.length ? mode : 0o755 });
    }
  }

  file(path: string, data: Buffer | string, mode = 0o644): void {
    const rel = path.replace(/^\/+/, '');
    this.dir(posix.dirname(rel));
    this.entries.set(rel, { type: 'file', mode, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  }

  symlink(path: string, target: string): void {
    const rel = path.replace(/^\/+/, '');
    this.dir(posix.dirname(rel));
    if (!this.entries.has(rel)) this.entries.set(rel, { type: 'symlink', target });
  }

  /** Copy a host file into the same path, following the host's symlinks as symlinks. */
  copyHost(path: string): void {
    const rel = path.replace(/^\/+/, '');
    if (this.entries.has(rel)) return;
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(path);
      this.symlink(rel, target);
      this.copyHost(posix.resolve(posix.dirname(path), target));
    } else if (st.isFile()) {
      this.file(rel, readFileSync(path), st.mode & 0o7777);
    } else if (st.isDirectory()) {
      this.dir(rel, st.mode & 0o7777);
    }
  }

  /** A deterministic tar: sorted, fixed times, owned by root. Same input, same digest. */
  async tar(): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    const done = new Promise<void>((resolve, reject) => {
      pack.on('end', resolve);
      pack.on('error', reject);
    });
    for (const name of [...this.entries.keys()].sort()) {
      const e = this.entries.get(name)!;
      const common = { name, mtime: FIXED_TIME, uid: 0, gid: 0, uname: 'root', gname: 'root' };
      if (e.type === 'dir') pack.entry({ ...common, type: 'directory', mode: e.mode });
      else if (e.type === 'symlink') pack.entry({ ...common, type: 'symlink', linkname: e.target, mode: 0o777 });
      else pack.entry({ ...common, type: 'file', mode: e.mode }, e.data);
    }
    pack.finalize();
    await done;
    return Buffer.concat(chunks);
  }
}

function findBusybox(): string | null {
  return ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? null;
}

/**
 * The shared libraries a host binary needs, with its dynamic loader: read from the ELF file
 * (PT_INTERP, DT_NEEDED, RUNPATH; elf.ts), or from `ldd` for what is not plain ELF to us.
 */
function sharedLibraries(binary: string): string[] {
  const fromElf = sharedLibraryClosure(binary);
  if (fromElf) return fromElf;
  let out = '';
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  } catch {
    return []; // static binary, or not an ELF file
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    if (arrow) libs.push(arrow[1]);
    else if (bare) libs.push(bare[1]);
  }
  return libs;
}

function addEtc(b: RootfsBuilder, source: string): void {
  b.file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nlearner:x:1000:1000:Glassbox learner:/home/learner:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  b.file('etc/group', 'root:x:0:\ntty:x:5:learner\nlearner:x:1000:\nnogroup:x:65534:\n');
  b.file('etc/hostname', 'glassbox\n');
  b.file('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  b.file('etc/os-release', `NAME="Glassbox base"\nID=glassbox\nPRETTY_NAME="Glassbox base (${source})"\nHOME_URL="https://github.com/"\n`);
  b.file('etc/profile', 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1=\'\\u@\\h:\\w\\$ \'\n');
  b.file('etc/shells', '/bin/sh\n');
  for (const d of ['proc', 'sys', 'dev', 'root', 'home/learner', 'var/log', 'run', 'mnt', 'usr/local/bin']) b.dir(d, d === 'root' ? 0o700 : 0o755);
  b.dir('tmp', 0o1777);
}

function buildFromBusybox(b: RootfsBuilder, busybox: string): string {
  b.file('bin/busybox', readFileSync(busybox), 0o755);
  const version = /BusyBox v([\d.]+)/.exec(execFileSync(busybox, ['--help'], { encoding: 'utf8' }).split('\n')[0] ?? '')?.[1] ?? '';
  const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const full of applets) {
    if (full === 'bin/busybox') continue;
    b.symlink(full, '/bin/busybox');
  }
  // A lesson tool this busybox lacks (Debian's has no ipcs or ipcmk) comes from the host with its libraries.
  const extra: string[] = [];
  for (const tool of LESSON_TOOLS) {
    if (applets.some((a) => posix.basename(a) === tool)) continue;
    if (copyHostTool(b, tool)) extra.push(tool);
  }
  return `busybox ${version} applets (${applets.length})${extra.length ? ` + host ${extra.join(', ')}` : ''}`;
}

/** Copy one host tool with its libraries; false when the host has no such program. */
function copyHostTool(b: RootfsBuilder, tool: string): boolean {
  let path: string;
  try {
    path = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
  } catch {
    return false;
  }
  if (!path.startsWith('/')) return false; // a shell builtin
  const real = realpathSync(path);
  b.copyHost(real);
  // the short names a learner types: /bin/ls and /usr/bin/ls both work (usrmerge or not)
  const name = posix.basename(path);
  for (const dir of ['bin', 'usr/bin']) b.symlink(`${dir}/${name}`, real);
  for (const lib of sharedLibraries(real)) b.copyHost(lib);
  return true;
}

function buildFromHost(b: RootfsBuilder): string {
  const copied: string[] = [];
  for (const tool of HOST_TOOLS) if (copyHostTool(b, tool)) copied.push(tool);
  // top needs a terminal description (procps' top -b with no tty asks for "dumb"); ps reads /proc only
  for (const dir of ['/usr/share/terminfo', '/lib/terminfo']) {
    for (const name of ['x/xterm', 'x/xterm-256color', 'x/xterm-color', 'd/dumb', 'l/linux', 'v/vt100', 's/screen']) {
      const p = `${dir}/${name}`;
      if (existsSync(p)) b.copyHost(p);
    }
  }
  if (!b.entries.has('bin/sh')) throw new Error('cannot build the base image: the host has neither busybox nor /bin/sh');
  return `host binaries (${copied.length}: ${copied.slice(0, 8).join(' ')} …)`;
}

/** The base image's one layer (a tar), without an image store: the OCI CLI's tests unpack it into a bundle's rootfs. */
export async function baseImageLayer(): Promise<Buffer> {
  const b = new RootfsBuilder();
  const busybox = findBusybox();
  const createdBy = busybox ? buildFromBusybox(b, busybox) : buildFromHost(b);
  addEtc(b, createdBy);
  return b.tar();
}

/** Make `base:latest` if it is not there yet. */
export async function ensureBaseImage(store: ImageStore, opts: { source?: 'auto' | 'busybox' | 'host'; ref?: string } = {}): Promise<void> {
  const ref = opts.ref ?? 'base:latest';
  try {
    store.resolve(ref);
    return;
  } catch {
    /* not built yet */
  }
  const b = new RootfsBuilder();
  const busybox = findBusybox();
  const source = opts.source ?? 'auto';
  if (source === 'busybox' && !busybox) throw new Error('no busybox on this host (apt-get install busybox-static)');
  let createdBy: string;
  if (busybox && source !== 'host') createdBy = `glassbox base: ${buildFromBusybox(b, busybox)}`;
  else createdBy = `glassbox base: ${buildFromHost(b)}`;
  addEtc(b, createdBy.replace('glassbox base: ', ''));
  const layer = await b.tar();
  await store.addImage({
    ref,
    layers: [layer],
    config: {
      created: FIXED_TIME.toISOString(),
      config: { Env: [PATH_ENV, 'TERM=xterm', 'HOME=/root'], Cmd: ['/bin/sh'], WorkingDir: '/' },
    },
    history: [{ created: FIXED_TIME.toISOString(), created_by: createdBy }],
  });
}

