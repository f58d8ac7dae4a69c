import { defineLab } from '../../server/labs/format.js';
import type { LabKernel, LabMount } from '../../server/labs/format.js';
import { byComm, fail, pass } from '../../server/labs/format.js';

const IMAGE = 'glassbox-lab/escape:1';
// Both escape containers get a user namespace: the way out of the chroot then lands on the host's
// files as an unprivileged host uid (100000+), not as the host's root. Without it (Docker's default)
// it would be a root shell on the host's files.
const escapeBox = (rootMode: 'chroot' | 'pivot') => ({
  image: IMAGE,
  cmd: ['sh'],
  tty: true,
  openStdin: true,
  hostname: rootMode,
  rootMode,
  namespaces: { user: true },
});

/** Where a process's root directory is: does the host's scratch dir show through it? */
async function seesHost(k: LabKernel, pid: number): Promise<boolean> {
  return (await k.host.stat(`/proc/${pid}/root${k.scratchDir}`)) !== null;
}

const at = (rows: LabMount[], path: string) => rows.find((m) => m.mountPoint === path);

export default defineLab({
  id: '03-mount-namespace',
  title: 'Mount namespace: pivot_root, chroot and propagation',
  summary: 'Climb out of a chroot with CAP_SYS_CHROOT, fail to climb out of pivot_root, and watch mounts propagate between shared, slave and private mount points.',
  order: 3,
  images: [IMAGE],
  containers: [
    { role: 'chroot', config: escapeBox('chroot') },
    { role: 'pivot', config: escapeBox('pivot') },
    // root of a user namespace with CAP_SYS_ADMIN there: it may mount in its own mount namespace
    { role: 'mounts', config: { image: 'base', cmd: ['sh'], tty: true, openStdin: true, hostname: 'mounts', namespaces: { user: true }, capAdd: ['SYS_ADMIN'] } },
  ],
  steps: [
    {
      id: 'chroot-escape',
      title: 'Out of a chroot',
      terminal: 'chroot',
      diagram: 'mounts',
      highlight: 'chroot',
      checkLabel: "a chroot-escape process of the chroot container has the host's tree as its root",
      check: async (k) => {
        const procs = await byComm(k, 'chroot', 'chroot-escape');
        if (!procs.length) return fail('no chroot-escape running in the chroot container');
        for (const p of procs) if (await seesHost(k, p.pid)) return pass(`host pid ${p.pid}: /proc/${p.pid}/root shows the host's ${k.scratchDir} — it is out, as host uid ${p.uid}`);
        return fail('chroot-escape runs but its root is still the container\'s');
      },
    },
    {
      id: 'pivot-stays',
      title: 'pivot_root: nothing above to climb to',
      terminal: 'pivot',
      diagram: 'mounts',
      highlight: 'pivot',
      checkLabel: "a chroot-escape process of the pivot_root container still has the container's root",
      check: async (k) => {
        const procs = await byComm(k, 'pivot', 'chroot-escape');
        if (!procs.length) return fail('no chroot-escape running in the pivot_root container');
        for (const p of procs) {
          if (await seesHost(k, p.pid)) return fail(`host pid ${p.pid} sees the host's files`);
          if ((await k.host.stat(`/proc/${p.pid}/root/bin/chroot-escape`)) !== null) return pass(`host pid ${p.pid} ran the same escape and its root is still the image's (it has /bin/chroot-escape, not the host's files)`);
        }
        return fail('chroot-escape runs, but its root is neither the host nor the image');
      },
    },
    {
      id: 'shared',
      title: 'Shared: a mount appears in both places',
      terminal: 'mounts',
      diagram: 'mounts',
      highlight: '/mnt/b',
      checkLabel: '/mnt/a and /mnt/b are peers (same shared:N) and the mount made under /mnt/a appeared under /mnt/b',
      check: async (k) => {
        const rows = await k.mounts('mounts');
        const a = at(rows, '/mnt/a');
        const b = at(rows, '/mnt/b');
        if (!a || !b) return fail('mount /mnt/a and bind it to /mnt/b first');
        if (a.propagation.shared === undefined || a.propagation.shared !== b.propagation.shared) return fail(`/mnt/a shared:${a.propagation.shared ?? '-'}, /mnt/b shared:${b.propagation.shared ?? '-'}`);
        if (!at(rows, '/mnt/a/s') || !at(rows, '/mnt/b/s')) return fail('no mount at /mnt/a/s and /mnt/b/s yet');
        return pass(`/mnt/a and /mnt/b are peer group shared:${a.propagation.shared}; one mount(2) at /mnt/a/s made /mnt/b/s too`);
      },
    },
    {
      id: 'slave',
      title: 'Slave: in, never out',
      terminal: 'mounts',
      diagram: 'mounts',
      highlight: '/mnt/b',
      checkLabel: '/mnt/b is a slave (master:N): /mnt/a/t propagated to /mnt/b/t, /mnt/b/u did not reach /mnt/a/u',
      check: async (k) => {
        const rows = await k.mounts('mounts');
        const b = at(rows, '/mnt/b');
        if (!b || b.propagation.master === undefined) return fail(`/mnt/b is ${b ? 'not a slave yet' : 'not mounted'}`);
        if (!at(rows, '/mnt/a/t') || !at(rows, '/mnt/b/t')) return fail('no mount at /mnt/a/t propagated to /mnt/b/t yet');
        if (!at(rows, '/mnt/b/u')) return fail('no mount at /mnt/b/u yet');
        if (at(rows, '/mnt/a/u')) return fail('/mnt/a/u exists: /mnt/b is not a slave');
        return pass(`/mnt/b master:${b.propagation.master}: /mnt/a/t → /mnt/b/t propagated; /mnt/b/u stayed in /mnt/b`);
      },
    },
    {
      id: 'private',
      title: 'Private, and the host',
      terminal: 'mounts',
      diagram: 'mounts',
      highlight: '/mnt/b',
      checkLabel: '/mnt/b is private (no shared or master tag), /mnt/a/v did not reach it, and no lab mount reached the host',
      check: async (k) => {
        const rows = await k.mounts('mounts');
        const b = at(rows, '/mnt/b');
        if (!b) return fail('/mnt/b is not mounted');
        if (b.propagation.master !== undefined || b.propagation.shared !== undefined) return fail('/mnt/b still has a propagation tag');
        if (!at(rows, '/mnt/a/v')) return fail('no mount at /mnt/a/v yet');
        if (at(rows, '/mnt/b/v')) return fail('/mnt/b/v exists');
        const host = await k.host.mounts();
        const leaked = host.filter((m) => m.source.startsWith('lab-'));
        if (leaked.length) return fail(`the host has ${leaked.map((m) => m.mountPoint).join(', ')}`);
        const hostShared = host.filter((m) => m.propagation.shared !== undefined).length;
        const root = at(rows, '/');
        return pass(
          `/mnt/b private; the container's / is ${root?.propagation.master !== undefined ? `master:${root.propagation.master}` : 'private'}; the host has none of the lab's mounts and ${hostShared} shared mounts of its own`,
        );
      },
    },
  ],
  corrections: [
    'The seed puts chroot and pivot_root side by side as two ways to "change the root": chroot only changes where "/" resolves for one process; with CAP_SYS_CHROOT (in Docker\'s default set) a process climbs out (chroot into a subdirectory, chdir("..") up, chroot(".")). pivot_root moves the mount namespace\'s root and the old root is unmounted: there is nothing above to climb to.',
    'The seed says a mount namespace keeps container mounts from the host: only because the engine makes "/" rslave (or rprivate) first. A new mount namespace copies the propagation of the host\'s mounts; on a systemd host "/" is shared, and without that step mounts would flow both ways.',
    'On this host every mount of the host is private (no shared:N in /proc/self/mountinfo): nothing propagates from the host into containers here either; on a systemd host the container\'s mounts show master:N.',
  ],
});
