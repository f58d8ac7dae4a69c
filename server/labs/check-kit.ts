// Small building blocks the labs' checks share, re-exported by format.ts (a lab imports only
// format.ts). Every check built from them reads kernel state through LabKernel (the engine's
// inspectors, /proc read by the server): none looks at what a terminal printed.
import type { CheckOutcome, LabKernel } from './format.js';
import type { NsProcess } from '../engine/index.js';
import * as fs from 'node:fs';
import { capabilityNames } from '../../common/capabilities.js';

export const MiB = 1024 * 1024;

/** The role's processes whose argv, joined with spaces, is exactly `cmdline` (a probe the step started). */
export async function probe(k: LabKernel, role: string, cmdline: string): Promise<NsProcess | undefined> {
  return (await k.processes(role)).find((p) => p.cmdline.trim() === cmdline);
}

/** The role's processes whose comm (the kernel's 15-character name) is `comm`. */
export async function byComm(k: LabKernel, role: string, comm: string): Promise<NsProcess[]> {
  return (await k.processes(role)).filter((p) => p.comm === comm);
}

export function fail(detail: string): CheckOutcome {
  return { passed: false, detail };
}

export function pass(detail: string): CheckOutcome {
  return { passed: true, detail };
}

/** A host file's text; the lab format's optional reader, required by the labs that use it. */
export async function readHost(k: LabKernel, path: string): Promise<string | null> {
  if (!k.host.read) throw new Error('this lab needs LabKernel.host.read (server/labs/kernel.ts)');
  return k.host.read(path);
}

/** One "Key:\tvalue" field of /proc/PID/status, as the kernel wrote it. */
export async function statusField(k: LabKernel, pid: number, field: string): Promise<string | null> {
  const text = await readHost(k, `/proc/${pid}/status`);
  const line = text?.split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? line.slice(field.length + 1).trim() : null;
}

/** A CapEff hex mask → capability names without their CAP_ prefix (the table is common/capabilities.ts). */
export function decodeCaps(hex: string): string[] {
  return capabilityNames(hex).map((n) => (/^CAP_\d+$/.test(n) ? `cap${n.slice(4)}` : n.slice(4)));
}

/**
 * The block device (MAJ:MIN of the whole disk, not a partition) that holds a path: blkio/io.max
 * throttles name disks. Read from the host's sysfs when the lab module loads.
 */
export function diskOf(path: string): { major: number; minor: number } {
  let p = path;
  while (!fs.existsSync(p) && p !== '/') p = p.slice(0, p.lastIndexOf('/')) || '/';
  const dev = fs.statSync(p).dev;
  let major = Math.floor(dev / 256) & 0xfff;
  let minor = (dev & 0xff) | ((Math.floor(dev / 1048576) & 0xfff) << 8);
  // a partition's sysfs entry has a "partition" file; its parent directory is the disk
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (fs.existsSync(`${sys}/partition`)) {
    const parent = fs.readFileSync(`${fs.realpathSync(sys)}/../dev`, 'utf8').trim().split(':').map(Number);
    [major, minor] = parent;
  }
  return { major, minor };
}
