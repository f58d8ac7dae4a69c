// Wiring an endpoint's leases into a running container: for each, a veth pair (veth.ts) from the
// network's bridge into the container's network namespace, the first one with lo and the default
// route. attach() wires them all once the container's init exists; connect() wires one more into
// a running container; detach and disconnect take them out again.
import { NotFound } from '../types.js';
import { ensureBridge } from './bridge.js';
import { ip, linkExists, type NetStep, type Recorder } from './ip.js';
import { syncNat } from './nat-sync.js';
import { startProxies, stopProxies } from './port-bindings.js';
import { saveState } from './state-file.js';
import type { Attachment, EndpointRecord, NetState, NetworkRecord } from './types.js';
import { createVeth, deleteInside, deleteVeth } from './veth.js';

/** One lease into the namespace of `pid`; `first` (eth0's network) also brings lo up and adds the default route. */
export async function wireAttachment(a: Attachment, net: NetworkRecord, pid: number, first: boolean, rec?: Recorder, loopbackUp = false): Promise<void> {
  await createVeth({ hostName: a.hostVeth, peerName: a.ifName, pid, bridge: net.bridge, mac: a.mac, ip: a.ip, prefixLen: net.prefixLen, gateway: net.gateway, defaultRoute: first, loopback: first && !loopbackUp }, rec);
  a.attached = true;
}

/** attach(): the namespace of `pid` gets what the endpoint's mode says; on failure nothing stays wired. */
export async function attachEndpoint(s: NetState, e: EndpointRecord, pid: number, opts: { loopbackUp?: boolean } = {}): Promise<NetStep[]> {
  const steps: NetStep[] = [];
  const rec: Recorder = (st) => steps.push(st);
  if (e.mode === 'host' || e.mode === 'container') {
    e.pid = pid;
    saveState(s, e.containerId);
    return steps;
  }
  if (e.mode === 'none') {
    // the helper's child brings lo up itself (an ioctl inside the namespace): no nsenter + ip here
    if (!opts.loopbackUp) await ip(['link', 'set', 'lo', 'up'], { pid, step: 'lo-up', rec, detail: 'network mode none: only the loopback device' });
    e.pid = pid;
    saveState(s, e.containerId);
    return steps;
  }
  const made: string[] = [];
  if (!e.attachments.length && !opts.loopbackUp) await ip(['link', 'set', 'lo', 'up'], { pid, step: 'lo-up', rec, detail: 'disconnected from every network: only the loopback device' });
  try {
    for (const [i, a] of e.attachments.entries()) {
      const net = s.networks.find((n) => n.id === a.networkId);
      if (!net) throw new NotFound(`network ${a.networkId} of container ${e.name} no longer exists`);
      if (!linkExists(net.bridge)) await ensureBridge(net.bridge, net.gateway, net.prefixLen, rec);
      await wireAttachment(a, net, pid, i === 0, rec, opts.loopbackUp);
      made.push(a.hostVeth);
    }
    e.pid = pid;
    await startProxies(s, e, rec);
    saveState(s, e.containerId);
    await syncNat(s, rec, e.ports.length ? 'publish-ports' : 'iptables');
  } catch (err) {
    await stopProxies(s, e.containerId);
    for (const v of made) await deleteVeth(v).catch(() => {});
    for (const a of e.attachments) a.attached = false;
    e.pid = null;
    saveState(s, e.containerId);
    await syncNat(s).catch(() => {});
    throw err;
  }
  return steps;
}

/** The container is gone (or going): proxies stopped, veths deleted, leases kept. Saves; does not sync. */
/** `save` false: the caller writes the state itself (the manager's group commit of teardowns). */
export async function detachEndpoint(s: NetState, e: EndpointRecord, save = true): Promise<void> {
  await stopProxies(s, e.containerId);
  for (const a of e.attachments) {
    await deleteVeth(a.hostVeth);
    a.attached = false;
  }
  e.pid = null;
  if (save) saveState(s, e.containerId);
}

/** disconnect(): the lease's veth out of the running container (from inside if the host end is gone). */
export async function unwireAttachment(e: EndpointRecord, a: Attachment): Promise<void> {
  if (a.attached) {
    if (!(await deleteVeth(a.hostVeth)) && e.pid) await deleteInside(e.pid, a.ifName);
  }
}

/** After eth0's network left: the next network's gateway takes the default route. */
export async function moveDefaultRoute(s: NetState, e: EndpointRecord): Promise<void> {
  const next = e.attachments[0];
  const nextNet = next ? s.networks.find((n) => n.id === next.networkId) : undefined;
  if (e.pid && next?.attached && nextNet) {
    await ip(['route', 'replace', 'default', 'via', nextNet.gateway, 'dev', next.ifName], { pid: e.pid }).catch(() => {});
  }
}
