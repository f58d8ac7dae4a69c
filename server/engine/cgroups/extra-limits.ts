// The limits of issue #18 that are set once, at create: --cpuset-cpus/-mems, --memory-reservation,
// --blkio-weight, and on v1 --memory-swappiness and --oom-kill-disable (v2 has neither: the
// engine refuses them there before anything is made). Each driver hands in where its files are.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, type ResourceLimits } from '../types.js';
import type { WriteLog } from './util.js';

/** runc's conversion of Docker's blkio weight (10..1000) to cgroup v2's io.weight (1..10000). */
export const blkioToIoWeight = (w: number): number => Math.round(1 + ((w - 10) * 9999) / 990);

/**
 * One of these writes, refused by the kernel (a cpu or node this host does not have, a kernel
 * without the controller): an error naming the option, not a 500 about a cgroup file.
 */
function writeOption(log: WriteLog, flag: string, file: string, value: string): void {
  if (!existsSync(file)) throw new InvalidArgument(`${flag} ${value}: this host's kernel has no ${file.split('/').pop()} for the container's cgroup`);
  try {
    log.write(file, value);
  } catch (e) {
    throw new InvalidArgument(`${flag} ${value}: the kernel refused it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message} writing ${file.split('/').pop()})`);
  }
}

export function writeExtraLimitsV2(dir: string, l: Partial<ResourceLimits>, log: WriteLog): void {
  if (l.cpusetCpus) writeOption(log, '--cpuset-cpus', join(dir, 'cpuset.cpus'), l.cpusetCpus);
  if (l.cpusetMems) writeOption(log, '--cpuset-mems', join(dir, 'cpuset.mems'), l.cpusetMems);
  // memory.low: protected from reclaim up to this much, the v2 form of a soft limit (runc's mapping)
  if (l.memoryReservation) log.write(join(dir, 'memory.low'), String(l.memoryReservation));
  if (l.blkioWeight) {
    if (existsSync(join(dir, 'io.bfq.weight'))) log.write(join(dir, 'io.bfq.weight'), String(l.blkioWeight));
    else if (existsSync(join(dir, 'io.weight'))) log.write(join(dir, 'io.weight'), `default ${blkioToIoWeight(l.blkioWeight)}`);
    else throw new InvalidArgument('--blkio-weight: this host has no weight-based I/O control (neither io.bfq.weight nor io.weight)');
  }
}

export function writeExtraLimitsV1(dirs: { cpuset: string | null; memory: string | null; blkio: string | null }, l: Partial<ResourceLimits>, log: WriteLog): void {
  const need = (d: string | null, flag: string, ctrl: string) => {
    if (!d) throw new InvalidArgument(`${flag}: the ${ctrl} cgroup hierarchy is not mounted on this host`);
    return d;
  };
  if (l.cpusetCpus) writeOption(log, '--cpuset-cpus', join(need(dirs.cpuset, '--cpuset-cpus', 'cpuset'), 'cpuset.cpus'), l.cpusetCpus);
  if (l.cpusetMems) writeOption(log, '--cpuset-mems', join(need(dirs.cpuset, '--cpuset-mems', 'cpuset'), 'cpuset.mems'), l.cpusetMems);
  if (l.memoryReservation) log.write(join(need(dirs.memory, '--memory-reservation', 'memory'), 'memory.soft_limit_in_bytes'), String(l.memoryReservation));
  if (l.memorySwappiness != null) log.write(join(need(dirs.memory, '--memory-swappiness', 'memory'), 'memory.swappiness'), String(l.memorySwappiness));
  if (l.oomKillDisable) log.write(join(need(dirs.memory, '--oom-kill-disable', 'memory'), 'memory.oom_control'), '1');
  if (l.blkioWeight) {
    const d = need(dirs.blkio, '--blkio-weight', 'blkio');
    if (existsSync(join(d, 'blkio.bfq.weight'))) log.write(join(d, 'blkio.bfq.weight'), String(l.blkioWeight));
    else if (existsSync(join(d, 'blkio.weight'))) log.write(join(d, 'blkio.weight'), String(l.blkioWeight));
    else throw new InvalidArgument('--blkio-weight: this host has no weight-based I/O control (neither blkio.bfq.weight nor blkio.weight)');
  }
}
