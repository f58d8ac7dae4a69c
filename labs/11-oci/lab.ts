import { defineLab } from '../../server/labs/format.js';
import type { Namespace } from '../../server/engine/index.js';
import { fail, pass, probe } from '../../server/labs/format.js';

// config.json's namespace names → /proc/PID/ns names
const OCI_NS: Record<string, Namespace> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

export default defineLab({
  id: '11-oci',
  title: 'OCI: config.json, an image on disk, a bundle',
  summary: "Check this container's config.json against the kernel, save an image and read its manifest, config and layer digests, and unpack a layer into a runtime bundle.",
  order: 11,
  containers: [{ role: 'oci', config: { image: 'base', cmd: ['sh'], tty: true, openStdin: true, hostname: 'oci' } }],
  steps: [
    {
      id: 'config-json',
      title: "This container's config.json",
      diagram: 'namespaces',
      highlight: 'oci',
      checkLabel: "the namespaces config.json lists are exactly the ones where a process of the container differs from the host",
      check: async (k) => {
        const p = await probe(k, 'oci', 'sleep 1101');
        if (!p) return fail('no "sleep 1101" running yet');
        if (!k.ociConfig) return fail('this lab needs LabKernel.ociConfig');
        const cfg = k.ociConfig('oci') as { linux?: { namespaces?: { type: string; path?: string }[] }; process?: { args?: string[] } };
        const listed = new Set((cfg.linux?.namespaces ?? []).filter((n) => !n.path).map((n) => OCI_NS[n.type]).filter(Boolean));
        const host = (await k.namespaces()).host;
        const own = (Object.keys(host) as Namespace[]).filter((t) => p.ns[t] !== undefined && p.ns[t] !== host[t]);
        const a = [...listed].sort().join(' ');
        const b = own.sort().join(' ');
        if (a !== b) return fail(`config.json lists ${a}; the kernel shows new ${b}`);
        return pass(`config.json linux.namespaces = ${a}; /proc/${p.pid}/ns agrees (process.args ${JSON.stringify(cfg.process?.args)})`);
      },
    },
    {
      id: 'saved-image',
      title: 'An image, saved',
      diagram: 'image',
      highlight: 'base',
      checkLabel: "the saved image is unpacked in /image: manifest.json, index.json and the config blob named by the image's digest",
      check: async (k) => {
        const changes = (await k.layers('oci')).upper?.changes ?? [];
        const has = (p: string) => changes.some((c) => c.path === p);
        const configHex = k.container('oci').image.id.replace(/^sha256:/, '');
        const missing = ['/image/manifest.json', '/image/index.json', '/image/oci-layout', `/image/blobs/sha256/${configHex}`].filter((p) => !has(p));
        if (missing.length) return fail(`missing ${missing.join(', ')}`);
        const blobs = changes.filter((c) => c.path.startsWith('/image/blobs/sha256/') && !c.isDir);
        return pass(`${blobs.length} blobs, each named by the sha256 of its bytes; the config blob is ${configHex.slice(0, 12)}… = the image id`);
      },
    },
    {
      id: 'bundle',
      title: 'A runtime bundle',
      diagram: 'layers',
      highlight: '/bundle',
      checkLabel: 'a bundle is made: /bundle/config.json and a rootfs unpacked from the image\'s layer blob',
      check: async (k) => {
        const changes = (await k.layers('oci')).upper?.changes ?? [];
        const has = (p: string) => changes.some((c) => c.path === p);
        if (!has('/bundle/config.json')) return fail('no /bundle/config.json yet');
        if (!has('/bundle/rootfs/bin/busybox') && !has('/bundle/rootfs/bin/sh')) return fail('no /bundle/rootfs/bin from the layer yet');
        return pass('/bundle holds config.json and rootfs/: what `runc run -b /bundle` takes');
      },
    },
  ],
  corrections: [
    'The seed says "an image is a tarball": an image is a manifest naming a config and layers by digest; each layer is a tarball (compressed or not), and the digests chain it all: the manifest digest is the image\'s name, the config digest is its id, the config\'s rootfs.diff_ids are the digests of the uncompressed layers.',
    'The seed says Docker "hands the image to runc": runc never sees an image. It takes a bundle, a directory holding config.json and a rootfs; unpacking layers into a rootfs (overlay) is the engine\'s job.',
    'This lab cannot run runc for you: it needs the host (root, the bundle\'s path on the host); the last step shows the commands for a host shell.',
  ],
});
