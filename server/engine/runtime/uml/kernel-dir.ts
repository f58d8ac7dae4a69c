// The directory gb-uml-launch mounts read-only at /dev/.gb-uml inside a uml container: copies of
// linux.uml, its loader and libc, and the guest init. Copies, made once per state root, so that
// no host binary is reachable from the container (hostfs sees what the UML process sees); the
// mount is read-only, so a write through /proc/PID/exe gets EROFS.
//
// linux.uml is a dynamically linked ELF: the kernel looks its interpreter up at
// /lib64/ld-linux-x86-64.so.2 inside the container's root, where the image has its own (or
// none). The copy's PT_INTERP names /dev/.gb-uml/ld.so instead (running the loader by hand does
// not do: UML sizes its memory from the brk, which is then the loader's, "Too few physical
// memory"); LD_LIBRARY_PATH=/dev/.gb-uml finds the libc copy.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const UML_KERNEL = '/usr/bin/linux.uml';
const LOADER = '/lib64/ld-linux-x86-64.so.2';
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
export const GUEST_INTERP = '/dev/.gb-uml/ld.so';

/** Replace the PT_INTERP path of an x86-64 ELF executable (the new path no longer than the old). */
export function patchInterpreter(elf: Buffer, interp: string): Buffer {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) throw new Error('not a 64-bit ELF file');
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 3) continue; // PT_INTERP
    const off = Number(elf.readBigUInt64LE(ph + 8));
    const size = Number(elf.readBigUInt64LE(ph + 32));
    if (interp.length + 1 > size) throw new Error(`interpreter path ${interp} does not fit in ${size} bytes`);
    const out = Buffer.from(elf);
    out.fill(0, off, off + size);
    out.write(interp, off, 'latin1');
    return out;
  }
  throw new Error('the ELF file has no PT_INTERP');
}

/** The files a uml container needs, or the reason one is missing. */
export function missingFiles(guestInit: string, launcher: string): string | null {
  for (const [f, fix] of [
    [UML_KERNEL, 'apt-get install user-mode-linux'],
    [LOADER, 'the host has no x86-64 glibc loader'],
    [LIBC, 'the host has no x86-64 glibc'],
    [guestInit, 'npm run build:native (needs libc.a: libc6-dev)'],
    [launcher, 'npm run build:native'],
  ]) {
    if (!existsSync(f)) return `${f} is missing: ${fix}`;
  }
  return null;
}

/** Make (once) and return stateRoot/kernel: linux.uml (interp patched), ld.so, libc.so.6, init. */
export function ensureKernelDir(stateRoot: string, guestInit: string): string {
  const dir = join(stateRoot, 'kernel');
  if (existsSync(join(dir, 'linux.uml'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  copyFileSync(LOADER, join(tmp, 'ld.so'));
  copyFileSync(LIBC, join(tmp, 'libc.so.6'));
  copyFileSync(guestInit, join(tmp, 'init'));
  // linux.uml last: its presence says the directory is complete
  writeFileSync(join(tmp, 'linux.uml'), patchInterpreter(readFileSync(UML_KERNEL), GUEST_INTERP));
  for (const f of ['ld.so', 'libc.so.6', 'init', 'linux.uml']) chmodSync(join(tmp, f), 0o555);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** "6.1.176": the version string linux.uml carries ("Linux version 6.1.176 ..."). */
export function kernelVersion(kernel = UML_KERNEL): string {
  const m = /Linux version (\d+\.\d+\.\d+)/.exec(readFileSync(kernel).toString('latin1'));
  return m ? m[1] : '';
}
