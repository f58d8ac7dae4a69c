import { defineLab } from '../../server/labs/format.js';
import { fail, pass, probe } from '../../server/labs/format.js';

const shell = { image: 'base', cmd: ['sh'], tty: true, openStdin: true };

export default defineLab({
  id: '05-user-namespace',
  title: 'User namespace: root inside, nobody outside',
  summary: 'Read the uid_map, write a file as "root" and see its host owner (100000+), then mount tmpfs and proc as that root — which the seed says it cannot.',
  order: 5,
  containers: [
    // Docker's defaults plus a user namespace (--userns private): the engine gives it a range of 65536 host ids
    { role: 'root', config: { ...shell, hostname: 'userns', namespaces: { user: true }, mounts: [{ type: 'bind', source: '{{scratch}}/shared', target: '/shared' }] } },
    // the same, with CAP_SYS_ADMIN — in its own user namespace only
    { role: 'admin', config: { ...shell, hostname: 'admin', namespaces: { user: true }, capAdd: ['SYS_ADMIN'] } },
  ],
  steps: [
    {
      id: 'uid-map',
      title: 'uid 0 here is uid 100000+ there',
      terminal: 'root',
      diagram: 'namespaces',
      highlight: 'root',
      checkLabel: 'a process that is root in the container runs as a host uid of 100000 or more, in its own user namespace',
      check: async (k) => {
        const p = await probe(k, 'root', 'sleep 501');
        if (!p) return fail('no "sleep 501" running in the container yet');
        const snap = await k.namespaces();
        if (p.ns.user === undefined || p.ns.user === snap.host.user) return fail('it shares the host user namespace');
        if (p.uid < 100000) return fail(`host uid ${p.uid}`);
        const node = snap.types.user.find((n) => n.inode === p.ns.user);
        const map = node?.uidMap?.[0];
        return pass(`host pid ${p.pid} runs as host uid ${p.uid}; uid_map ${map ? `${map.inside} → ${map.outside} (${map.count} ids)` : 'unread'}`);
      },
    },
    {
      id: 'file-owner',
      title: 'A file written by "root"',
      terminal: 'root',
      diagram: 'namespaces',
      highlight: 'root',
      checkLabel: "the file root wrote on the bind mount is owned by the container's host uid (100000+) on the host",
      check: async (k) => {
        const st = await k.host.stat(`${k.scratchDir}/shared/made-by-root`);
        if (!st) return fail('no made-by-root in the shared directory yet');
        const range = k.container('root').userns?.uidMap[0];
        if (st.uid < 100000 || (range && st.uid !== range.hostId)) return fail(`owned by host uid ${st.uid}`);
        return pass(`on the host, made-by-root belongs to uid ${st.uid}, gid ${st.gid}: uid 0 of the container, mapped`);
      },
    },
    {
      id: 'can-mount',
      title: 'Root of a user namespace may mount',
      terminal: 'admin',
      diagram: 'mounts',
      highlight: '/mnt',
      checkLabel: "the admin container mounted a tmpfs and a proc in its own mount namespace, and neither is on the host",
      check: async (k) => {
        const rows = await k.mounts('admin');
        const tmp = rows.find((m) => m.mountPoint === '/mnt' && m.fsType === 'tmpfs');
        const proc = rows.find((m) => m.mountPoint === '/tmp/proc' && m.fsType === 'proc');
        if (!tmp || !proc) return fail(`tmpfs on /mnt: ${tmp ? 'yes' : 'no'}; proc on /tmp/proc: ${proc ? 'yes' : 'no'}`);
        const host = await k.host.mounts();
        if (host.some((m) => m.source === 'lab-tmp')) return fail('the tmpfs shows on the host');
        const dev = (await k.layers('admin')).upper?.changes.find((c) => c.path === '/tmp/sda');
        if (dev && dev.kind === 'added') return fail('a device node /tmp/sda was made');
        return pass('tmpfs on /mnt and proc on /tmp/proc, by uid 0 of a user namespace; the host sees neither, and mknod of a disk was refused');
      },
    },
  ],
  corrections: [
    'The seed says root in a user namespace "cannot mount filesystems": wrong. With CAP_SYS_ADMIN in its user namespace it can mount tmpfs, proc (of a pid namespace it owns), sysfs, bind mounts, overlayfs (5.11+) in a mount namespace that namespace owns. It cannot mount block-device filesystems (ext4 of a disk) or make device nodes.',
    'What stops mount in a default Docker container with --userns is not the user namespace but the dropped CAP_SYS_ADMIN and the seccomp profile (mount and unshare need CAP_SYS_ADMIN there).',
    'uid 0 inside maps to the first host uid of the range (here from /etc/subuid or 100000 + k·65536): files it writes on a bind mount are owned by that host uid.',
  ],
});
