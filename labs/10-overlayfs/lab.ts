import { defineLab } from '../../server/labs/format.js';
import type { LabKernel } from '../../server/labs/format.js';
import { fail, MiB, pass } from '../../server/labs/format.js';

const IMAGE = 'glassbox-lab/overlay:1';
const BIG = 64 * MiB;

async function changes(k: LabKernel) {
  const snap = await k.layers('ovl');
  return { snap, all: snap.upper?.changes ?? [] };
}

export default defineLab({
  id: '10-overlayfs',
  title: 'OverlayFS: layers, copy-up, whiteouts and volumes',
  summary: 'Append one line to a 64 MiB file in an image layer and watch the whole file copied up; delete a file (a whiteout), replace a directory (opaque), and write the same log on a volume instead.',
  order: 10,
  images: [IMAGE],
  containers: [
    {
      role: 'ovl',
      config: {
        image: IMAGE,
        cmd: ['sh'],
        tty: true,
        openStdin: true,
        hostname: 'ovl',
        // a host directory (the session's scratch) bind-mounted: Docker's -v /host/dir:/volume
        mounts: [{ type: 'bind', source: '{{scratch}}/volume', target: '/volume' }],
      },
    },
  ],
  steps: [
    {
      id: 'layers',
      title: 'Three layers and an upper dir',
      diagram: 'layers',
      highlight: '/hello.txt',
      checkLabel: 'the image has 3 layers and a file written now is in the upper dir, not in any of them',
      check: async (k) => {
        const { snap, all } = await changes(k);
        if (snap.layers.length < 3) return fail(`${snap.layers.length} image layers`);
        const hello = all.find((c) => c.path === '/hello.txt');
        if (!hello || hello.kind !== 'added') return fail('no /hello.txt in the upper dir yet');
        return pass(`${snap.layers.length} read-only layers below; /hello.txt (${hello.size} bytes) is in the upper dir ${snap.upper?.dir}`);
      },
    },
    {
      id: 'copy-up',
      title: 'One line, 64 MiB copied',
      diagram: 'layers',
      highlight: '/var/log/app.log',
      checkLabel: '/var/log/app.log was copied up whole: the upper dir holds 64 MiB or more for it',
      check: async (k) => {
        const { all } = await changes(k);
        const log = all.find((c) => c.path === '/var/log/app.log');
        if (!log) return fail('/var/log/app.log is not in the upper dir yet');
        if (log.kind !== 'modified' || !log.copyUp || log.copiedBytes < BIG) return fail(`${log.kind}, ${log.copiedBytes} bytes`);
        return pass(`copy-up: ${(log.copiedBytes / MiB).toFixed(1)} MiB written to the upper dir for a ${(log.copiedBytes - (log.lowerSize ?? BIG))}-byte append (the lower file, ${((log.lowerSize ?? BIG) / MiB).toFixed(0)} MiB, is hidden, not changed)`);
      },
    },
    {
      id: 'whiteout',
      title: 'Deleting a file that is in a layer',
      diagram: 'layers',
      highlight: '/srv/site/old.html',
      checkLabel: '/srv/site/old.html is deleted by a whiteout in the upper dir',
      check: async (k) => {
        const { all } = await changes(k);
        const w = all.find((c) => c.path === '/srv/site/old.html');
        if (!w || w.kind !== 'deleted') return fail('no whiteout for /srv/site/old.html yet');
        return pass(`whiteout /srv/site/old.html: a 0:0 character device in the upper dir, ${w.copiedBytes} bytes; the file is still in its layer`);
      },
    },
    {
      id: 'opaque',
      title: 'Replacing a directory: opaque',
      diagram: 'layers',
      highlight: '/etc/app/conf.d',
      checkLabel: '/etc/app/conf.d is an opaque directory in the upper dir, holding only c.conf',
      check: async (k) => {
        const { all } = await changes(k);
        const d = all.find((c) => c.path === '/etc/app/conf.d');
        if (!d || d.kind !== 'opaque') return fail(`/etc/app/conf.d is ${d ? d.kind : 'not in the upper dir'}`);
        if (!all.some((c) => c.path === '/etc/app/conf.d/c.conf')) return fail('no /etc/app/conf.d/c.conf yet');
        return pass('/etc/app/conf.d carries trusted.overlay.opaque=y: a.conf and b.conf of the layer below are hidden without one whiteout each');
      },
    },
    {
      id: 'volume',
      title: 'A volume: no copy-up at all',
      diagram: 'mounts',
      highlight: '/volume',
      checkLabel: 'a 64 MiB log written to /volume is on the host directory and nothing of it is in the upper dir',
      check: async (k) => {
        const st = await k.host.stat(`${k.scratchDir}/volume/app.log`);
        if (!st || st.size < BIG) return fail(`the host's volume/app.log is ${st ? `${st.size} bytes` : 'absent'}`);
        const { all } = await changes(k);
        if (all.some((c) => c.path.startsWith('/volume/'))) return fail('the upper dir has something under /volume');
        const mount = (await k.mounts('ovl')).find((m) => m.mountPoint === '/volume');
        return pass(`${(st.size / MiB).toFixed(1)} MiB in the host's ${k.scratchDir}/volume (a bind mount${mount ? ` of ${mount.root}` : ''}); the upper dir got nothing`);
      },
    },
  ],
  corrections: [
    'The seed\'s "append to a 1 GB log copies 1 GB" is right in kind; this lab uses a 64 MiB log (built locally at first start, to keep the lab and CI quick): the copy-up is the whole file, whatever its size, the first time it is opened for writing.',
    'The seed says deleting a file from a lower layer frees its space: it does not. A whiteout hides it; the bytes stay in the image layer (and in every container using it).',
    'The seed\'s "volumes are faster" is loose: a bind mount or a volume is simply not on the overlay, so there is no copy-up and no upper dir; its writes go to the host directory at the speed of that filesystem.',
  ],
});
