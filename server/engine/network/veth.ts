// A veth pair per container and network: the host end (gbv<id>, named by host/naming.ts) on the
// bridge, the peer created directly inside the container's network namespace as eth0 (ethN for
// later networks).
import { ip, ipBatch, linkExists, type BatchCommand, type Recorder } from './ip.js';

export interface VethSpec {
  hostName: string;
  peerName: string;
  pid: number;
  bridge: string;
  mac: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  /** add the default route via this network's gateway (the first network only) */
  defaultRoute: boolean;
  /** bring lo up (the first network only) */
  loopback: boolean;
}

export async function createVeth(s: VethSpec, rec?: Recorder): Promise<void> {
  if (!/^gb[a-z0-9]*v[0-9a-f]/.test(s.hostName) || s.hostName.length > 15) throw new Error(`bad host veth name ${s.hostName}`);
  if (linkExists(s.hostName)) await ip(['link', 'del', s.hostName], { step: 'veth-delete-stale', rec, detail: 'a leftover of an earlier start' });
  try {
    // two runs of `ip -batch`: the host's side, then the container's (the peer exists from the first)
    await ipBatch(
      [
        {
          args: ['link', 'add', s.hostName, 'type', 'veth', 'peer', 'name', s.peerName, 'address', s.mac, 'netns', String(s.pid)],
          step: 'veth-create',
          detail: `a veth pair: ${s.hostName} stays on the host, ${s.peerName} is created inside the container's network namespace (/proc/${s.pid}/ns/net)`,
        },
        { args: ['link', 'set', s.hostName, 'master', s.bridge, 'up'], step: 'veth-attach', detail: `the host end becomes a port of the bridge ${s.bridge}` },
      ],
      { rec },
    );
    const inside: BatchCommand[] = [];
    if (s.loopback) inside.push({ args: ['link', 'set', 'lo', 'up'], step: 'lo-up' });
    inside.push({ args: ['addr', 'add', `${s.ip}/${s.prefixLen}`, 'dev', s.peerName], step: 'address', detail: `from IPAM; MAC ${s.mac} is derived from it` });
    inside.push({ args: ['link', 'set', s.peerName, 'up'], step: 'link-up' });
    if (s.defaultRoute) inside.push({ args: ['route', 'add', 'default', 'via', s.gateway, 'dev', s.peerName], step: 'default-route', detail: 'everything not on the subnet goes to the bridge' });
    await ipBatch(inside, { pid: s.pid, rec });
  } catch (e) {
    if (linkExists(s.hostName)) await ip(['link', 'del', s.hostName]).catch(() => {});
    throw e;
  }
}

/** Deleting one end deletes the pair. Gone already (the namespace died with the container): fine. */
export async function deleteVeth(name: string, rec?: Recorder): Promise<boolean> {
  if (!/^gb[a-z0-9]*v[0-9a-f]/.test(name)) throw new Error(`refusing to delete a link not named like a Glassbox veth (gbv*, gbt<n>v*): ${name}`);
  if (!linkExists(name)) return false;
  try {
    await ip(['link', 'del', name], { step: 'veth-delete', rec });
  } catch (e) {
    if (linkExists(name)) throw e;
  }
  return true;
}

/** Removes a link from inside a namespace (disconnect while the container runs). */
export async function deleteInside(pid: number, ifName: string, rec?: Recorder): Promise<void> {
  await ip(['link', 'del', ifName], { pid, step: 'veth-delete', rec }).catch(() => {});
}
