import { defineLab } from '../../server/labs/format.js';
import { decodeCaps, fail, pass, probe, readHost, statusField } from '../../server/labs/format.js';

const shell = { image: 'base', cmd: ['sh'], tty: true, openStdin: true };
/** Docker's default capability set (moby's oci/caps/defaults.go), as CapEff */
const DOCKER_DEFAULT_CAPEFF = '00000000a80425fb';

export default defineLab({
  id: '13-security',
  title: 'Security: capabilities, seccomp, read-only root, masked paths',
  summary: 'Decode CapEff against the host, watch seccomp answer EPERM, write to a read-only root, find the masked /proc files — and see what --privileged would give away.',
  order: 13,
  containers: [
    { role: 'default', config: { ...shell, hostname: 'default' } },
    // the same capabilities, no seccomp filter (docker run --security-opt seccomp=unconfined)
    { role: 'unconfined', config: { ...shell, hostname: 'unconfined', seccomp: 'unconfined' } },
    { role: 'ro', config: { ...shell, hostname: 'ro', readOnlyRoot: true, mounts: [{ type: 'tmpfs', target: '/tmp' }] } },
  ],
  steps: [
    {
      id: 'caps',
      title: 'Capabilities by name',
      terminal: 'default',
      diagram: 'namespaces',
      highlight: 'default',
      checkLabel: "a process of the container has Docker's 14 default capabilities, and the host's root has all of them",
      check: async (k) => {
        const p = await probe(k, 'default', 'sleep 1301');
        if (!p) return fail('no "sleep 1301" running in the container yet');
        const eff = await statusField(k, p.pid, 'CapEff');
        const host = await statusField(k, 1, 'CapEff');
        if (!eff || !host) return fail('CapEff unreadable');
        if (eff !== DOCKER_DEFAULT_CAPEFF) return fail(`CapEff ${eff}`);
        const mine = decodeCaps(eff);
        const missing = decodeCaps(host).filter((c) => !mine.includes(c));
        return pass(`CapEff ${eff} = ${mine.join(' ')} (${mine.length}); the host's root also has ${missing.length} more: ${missing.join(' ')}`);
      },
    },
    {
      id: 'seccomp',
      title: 'A syscall seccomp answers with EPERM',
      terminal: 'default',
      diagram: 'namespaces',
      highlight: 'unconfined',
      checkLabel: 'the unconfined container made a user namespace with unshare(2); the default one, filtered by seccomp, has none',
      check: async (k) => {
        const p = await probe(k, 'unconfined', 'sleep 1302');
        if (!p) return fail('no "sleep 1302" in the unconfined container yet');
        const init = k.container('unconfined').state.pid;
        const initNs = (await k.processes('unconfined')).find((x) => x.pid === init)?.ns.user;
        if (p.ns.user === undefined || p.ns.user === initNs) return fail('the sleep is in the container\'s own user namespace, not a new one');
        const filtered = await statusField(k, k.container('default').state.pid, 'Seccomp');
        const open = await statusField(k, init, 'Seccomp');
        if (filtered !== '2' || open !== '0') return fail(`Seccomp: default ${filtered}, unconfined ${open}`);
        const defaultNs = new Set((await k.processes('default')).map((x) => x.ns.user));
        if (defaultNs.size > 1) return fail('a process of the default container is in a user namespace of its own');
        return pass(`unconfined (Seccomp: 0): host pid ${p.pid} is in a new user namespace ${p.ns.user}; default (Seccomp: 2, a filter): unshare answered EPERM, no new namespace`);
      },
    },
    {
      id: 'readonly',
      title: 'A read-only root',
      terminal: 'ro',
      diagram: 'mounts',
      highlight: '/',
      checkLabel: "the ro container's / is mounted ro, its upper dir got nothing, and /tmp (a tmpfs) took the write",
      check: async (k) => {
        const rows = await k.mounts('ro');
        const root = rows.find((m) => m.mountPoint === '/');
        if (!root?.options.includes('ro')) return fail('/ is not read-only');
        const pid = k.container('ro').state.pid;
        const wrote = await k.host.stat(`/proc/${pid}/root/tmp/ok`);
        if (!wrote) return fail('no /tmp/ok yet');
        const changes = (await k.layers('ro')).upper?.changes ?? [];
        const written = changes.filter((c) => c.path === '/etc/x');
        if (written.length) return fail('/etc/x is in the upper dir');
        return pass(`/ is "${root.options.join(',')}": touch /etc/x got EROFS; /tmp/ok is on the tmpfs (${wrote.size} bytes)`);
      },
    },
    {
      id: 'masked',
      title: 'Masked and read-only paths',
      terminal: 'default',
      diagram: 'mounts',
      highlight: '/proc/keys',
      checkLabel: 'in the mount view of a process of the container, /proc/keys is covered, /sys/firmware is an empty tmpfs and /proc/sys is read-only',
      check: async (k) => {
        const p = await probe(k, 'default', 'sleep 1304');
        if (!p) return fail('no "sleep 1304" running yet');
        const text = await readHost(k, `/proc/${p.pid}/mountinfo`);
        const rows = (text ?? '').split('\n').map((l) => l.split(' '));
        const at = (mp: string) => rows.find((f) => f[4] === mp);
        const keys = at('/proc/keys');
        const firmware = at('/sys/firmware');
        const sys = at('/proc/sys');
        if (!keys || !firmware || !sys) return fail(`/proc/keys ${!!keys}, /sys/firmware ${!!firmware}, /proc/sys ${!!sys}`);
        if (!sys[5].split(',').includes('ro')) return fail('/proc/sys is writable');
        const masked = rows.filter((f) => f[4]?.startsWith('/proc/') || f[4]?.startsWith('/sys/')).filter((f) => f[4] !== '/proc' && f[4] !== '/sys' && !f[4].startsWith('/sys/fs/cgroup')).map((f) => f[4]);
        return pass(`covered in its mount namespace: ${masked.join(' ')}`);
      },
    },
  ],
  corrections: [
    'The seed says "containers run as root, so root in a container is root on the host" without the rest: root in a default container holds 14 of the 41 capabilities (CapEff 00000000a80425fb), under a seccomp filter of about 360 allowed syscalls, with /proc and /sys partly masked or read-only. It is still host uid 0 (no user namespace by default): an escape is root on the host.',
    'The seed treats seccomp as "blocking dangerous syscalls" (killing the process): Docker\'s profile answers EPERM (SCMP_ACT_ERRNO) and the program carries on; clone3 gets ENOSYS so that libcs fall back to clone.',
    '--privileged is not "more capabilities": it is all capabilities, no seccomp filter, no masked or read-only paths, every host device in /dev and a writable /sys — the host, with a different root directory. This lab does not start one: on a shared machine it would hand every learner the host.',
  ],
});
