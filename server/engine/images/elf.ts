// What a host program needs to run in another root: its dynamic loader (PT_INTERP) and the
// shared libraries it names (DT_NEEDED), then theirs, found the way ld.so finds them. Read from
// the ELF file itself rather than from `ldd`, which runs the loader on the program.
//
//   ELF header ──e_phoff──▶ program headers: PT_INTERP "/lib64/ld-linux-x86-64.so.2"
//                                            PT_DYNAMIC ──▶ (tag, value) pairs:
//                                               DT_NEEDED  "libc.so.6"   (offsets into DT_STRTAB)
//                                               DT_RUNPATH "$ORIGIN/../lib"
//                                            PT_LOAD     maps DT_STRTAB's address to a file offset
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

export interface ElfInfo {
  bits: 32 | 64;
  machine: number;
  interp?: string;
  needed: string[];
  /** DT_RUNPATH, or DT_RPATH when there is no RUNPATH, with $ORIGIN expanded */
  searchPath: string[];
}

/** Parse a little-endian ELF file; null when it is not one (a script, a text file). */
export function readElf(path: string): ElfInfo | null {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch {
    return null;
  }
  if (b.length < 52 || b.readUInt32BE(0) !== 0x7f454c46) return null; // "\x7fELF"
  const bits = b[4] === 2 ? 64 : b[4] === 1 ? 32 : 0;
  if (!bits || b[5] !== 1) return null; // little-endian only: the hosts this runs on
  const is64 = bits === 64;
  const num = (off: number, wide: boolean) => (wide ? Number(b.readBigUInt64LE(off)) : b.readUInt32LE(off));
  const machine = b.readUInt16LE(18);
  const phoff = num(is64 ? 32 : 28, is64);
  const phentsize = b.readUInt16LE(is64 ? 54 : 42);
  const phnum = b.readUInt16LE(is64 ? 56 : 44);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let interp: string | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + phentsize > b.length) return null;
    const type = b.readUInt32LE(p);
    const offset = num(p + (is64 ? 8 : 4), is64);
    const vaddr = num(p + (is64 ? 16 : 8), is64);
    const filesz = num(p + (is64 ? 32 : 16), is64);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_INTERP) interp = b.toString('latin1', offset, offset + filesz).replace(/\0.*$/s, '');
    else if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
  }
  const info: ElfInfo = { bits, machine, interp, needed: [], searchPath: [] };
  if (!dynamic) return info; // a static program
  const entries: [number, number][] = [];
  const dsize = is64 ? 16 : 8;
  for (let p = dynamic.offset; p + dsize <= Math.min(b.length, dynamic.offset + dynamic.size); p += dsize) {
    const tag = num(p, is64);
    if (tag === DT_NULL) break;
    entries.push([tag, num(p + dsize / 2, is64)]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  const seg = strtabAddr === undefined ? undefined : loads.find((l) => strtabAddr >= l.vaddr && strtabAddr < l.vaddr + l.filesz);
  if (!seg || strtabAddr === undefined) return info;
  const strtab = strtabAddr - seg.vaddr + seg.offset;
  const str = (off: number) => {
    const start = strtab + off;
    const end = b.indexOf(0, start);
    return b.toString('latin1', start, end < 0 ? b.length : end);
  };
  const origin = posix.dirname(realpathSync(path));
  const paths = (tag: number) =>
    entries
      .filter(([t]) => t === tag)
      .flatMap(([, v]) => str(v).split(':'))
      .filter(Boolean)
      .map((d) => d.replace(/\$(\{ORIGIN\}|ORIGIN)/g, origin));
  info.needed = entries.filter(([t]) => t === DT_NEEDED).map(([, v]) => str(v));
  const runpath = paths(DT_RUNPATH);
  info.searchPath = runpath.length ? runpath : paths(DT_RPATH);
  return info;
}

/** The directories ld.so searches after a program's own RUNPATH: ld.so.conf (with includes), then the defaults. */
export function systemLibraryDirs(): string[] {
  const dirs: string[] = [];
  const readConf = (file: string, depth: number) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const inc = /^include\s+(.+)$/.exec(line);
      if (inc && depth < 4) {
        // "include /etc/ld.so.conf.d/*.conf": a directory and a suffix are all glob we need
        const pat = inc[1].trim();
        const dir = posix.dirname(pat);
        const re = new RegExp('^' + posix.basename(pat).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
        let names: string[] = [];
        try {
          names = readdirSync(dir).filter((n) => re.test(n)).sort();
        } catch {
          /* no such directory */
        }
        for (const n of names) readConf(posix.join(dir, n), depth + 1);
      } else if (line.startsWith('/')) dirs.push(line);
    }
  };
  readConf('/etc/ld.so.conf', 0);
  dirs.push('/lib64', '/usr/lib64', '/lib', '/usr/lib');
  return [...new Set(dirs)];
}

/**
 * Every file a dynamic program needs besides itself, as host paths: the loader first, then the
 * libraries, breadth first. null when `binary` is not an ELF file (the caller may fall back on
 * ldd). A library that cannot be found is an error: the copy would not run.
 */
export function sharedLibraryClosure(binary: string, sysDirs = systemLibraryDirs()): string[] | null {
  const top = readElf(binary);
  if (!top) return null;
  const out: string[] = [];
  if (top.interp) out.push(top.interp);
  const seen = new Set<string>();
  const queue: ElfInfo[] = [top];
  while (queue.length) {
    const elf = queue.shift()!;
    for (const name of elf.needed) {
      if (seen.has(name)) continue;
      seen.add(name);
      let found: string | null = null;
      for (const dir of name.includes('/') ? [''] : [...elf.searchPath, ...sysDirs]) {
        const cand = dir ? posix.join(dir, name) : name;
        if (!existsSync(cand)) continue;
        const lib = readElf(cand);
        // the same class and machine: /usr/lib may hold a 32-bit libc next to the 64-bit one's directory
        if (lib && lib.bits === top.bits && lib.machine === top.machine) {
          found = cand;
          queue.push(lib);
          break;
        }
      }
      if (!found) throw new Error(`${binary} needs ${name}, which is in none of the library directories`);
      out.push(found);
    }
  }
  return out;
}
