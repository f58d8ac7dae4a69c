// Vitest global setup: what the host looks like before the tests and after them must match.
// Every test cleans what it made; a veth, bridge, iptables chain, cgroup (glassbox/ or a test prefix's glassbox-t<x>/ itself too), mount, loop device or monitor left
// behind is a bug, and this makes it fail the run with a list of what was left.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function hostState(): string[] {
  const out: string[] = [];
  for (const l of readdirSync('/sys/class/net')) if (l.startsWith('gb')) out.push(`link ${l}`);
  try {
    for (const r of execFileSync('iptables-save', { encoding: 'utf8' }).split('\n')) if (r.includes('GLASSBOX')) out.push(`iptables ${r}`);
  } catch {
    /* no iptables: nothing of ours either */
  }
  // glassbox/ (a serving Glassbox) and every test prefix's glassbox-t<x>/ (host/naming.ts), in
  // each v1 hierarchy and, on a pure v2 host (the UML guest of test:kernels), at the root itself
  for (const h of ['', ...readdirSync('/sys/fs/cgroup')]) {
    let parents: string[] = [];
    try {
      parents = readdirSync(join('/sys/fs/cgroup', h)).filter((n) => /^glassbox(-t[a-z0-9]{1,2})?$/.test(n));
    } catch {
      continue; // a file, or a hierarchy we cannot read
    }
    for (const p of parents) {
      const dir = join('/sys/fs/cgroup', h, p);
      if (!existsSync(dir)) continue;
      out.push(`cgroup ${dir}`); // the shared parent goes with the last container
      for (const d of readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) out.push(`cgroup ${join(dir, d.name)}`);
    }
  }
  // host-wide user namespace range leases (userns/ranges.ts): one per user-namespaced container
  const leases = '/run/glassbox/userns';
  if (existsSync(leases)) for (const l of readdirSync(leases)) out.push(`userns lease ${join(leases, l)} ${readFileSync(join(leases, l), 'utf8')}`);
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = m.split(' ')[4];
    if (mp && /^\/tmp\/gb/.test(mp)) out.push(`mount ${mp}`);
  }
  // loop devices of size-limited container layers (rootfs/quota.ts) whose image is a test's
  for (const dev of readdirSync('/sys/block').filter((d) => d.startsWith('loop'))) {
    try {
      const file = readFileSync(`/sys/block/${dev}/loop/backing_file`, 'utf8').trim();
      if (/^\/tmp\/gb/.test(file)) out.push(`loop /dev/${dev} ${file}`);
    } catch {
      /* not attached */
    }
  }
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('gb-helper') && cmd[2]?.startsWith('/tmp/gb')) out.push(`process ${p} ${cmd.join(' ')}`);
    } catch {
      /* gone */
    }
  }
  return out.sort();
}

let before: string[] = [];

export function setup(): void {
  before = hostState();
}

export function teardown(): void {
  const after = hostState();
  const left = after.filter((x) => !before.includes(x));
  if (left.length) {
    // vitest reports an error thrown here but keeps its exit code: set ours, so CI fails too
    process.exitCode = 1;
    throw new Error(`the tests left these behind on the host:\n  ${left.join('\n  ')}`);
  }
}
