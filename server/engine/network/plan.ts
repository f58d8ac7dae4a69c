// Mode planning, at prepare(): from what the user asked for (none, host, container:<id>, bridge or
// a network name) to the endpoint record and the NetPlan the engine starts the container with,
// which namespace it gets, which files it bind-mounts, its address. Leases are taken (kept on a
// restart in the same mode) and the /etc files written; no kernel state is touched.
import { InvalidArgument, NotFound, type ContainerConfig } from '../types.js';
import { refreshHosts, writeEndpointFiles } from './endpoint-files.js';
import { lease } from './leases.js';
import { findNetwork } from './networks.js';
import { checkPorts } from './port-bindings.js';
import { ownFiles, saveState } from './state-file.js';
import type { Attachment, EndpointRecord, NetMode, NetPlan, NetState, NetworkRecord } from './types.js';
import { deleteVeth } from './veth.js';

export interface PrepareRequest {
  mode: string;
  name: string;
  hostname: string;
  ports?: ContainerConfig['ports'];
  /** --ip, --mac-address, --network-alias, --link on the network it joins */
  endpoint?: ContainerConfig['endpoint'];
  extraHosts?: ContainerConfig['extraHosts'];
  dns?: ContainerConfig['dns'];
}

/** container:<x>: x as a full id, a name, or an unambiguous id prefix of a known endpoint. */
function resolveJoin(s: NetState, joinContainer: string): string {
  const all = Object.values(s.endpoints);
  const target =
    all.find((x) => x.containerId === joinContainer) ??
    all.find((x) => x.name === joinContainer) ??
    all.filter((x) => x.containerId.startsWith(joinContainer)).find((_, __, list) => list.length === 1);
  return target ? target.containerId : joinContainer;
}

export async function prepareEndpoint(s: NetState, containerId: string, req: PrepareRequest): Promise<NetPlan> {
  const requested = (req.mode || 'bridge').trim();
  const name = (req.name ?? '').replace(/^\//, '') || containerId.slice(0, 12);
  const hostname = req.hostname || containerId.slice(0, 12);
  const own = ownFiles(s, containerId);
  const prev = s.endpoints[containerId];
  let mode: NetMode;
  let net: NetworkRecord | undefined;
  let joinContainer: string | undefined;
  if (requested === 'none') mode = 'none';
  else if (requested === 'host') mode = 'host';
  else if (requested.startsWith('container:')) {
    mode = 'container';
    joinContainer = requested.slice('container:'.length);
    if (!joinContainer) throw new InvalidArgument('network mode container: needs a container id');
    if (joinContainer === containerId) throw new InvalidArgument('a container cannot join its own network namespace');
    joinContainer = resolveJoin(s, joinContainer);
    if (req.ports?.length) throw new InvalidArgument('conflicting options: port publishing and the container type network mode');
  } else {
    mode = 'bridge';
    net = requested === 'bridge' || requested === 'default' ? s.networks.find((n) => n.builtin) : findNetwork(s, requested);
    if (!net) throw new NotFound(`network ${requested} not found`);
  }
  const ports = mode === 'bridge' ? await checkPorts(s, containerId, req.ports ?? []) : [];

  // restart: keep the leases; a changed mode starts over
  let attachments: Attachment[] = [];
  if (prev && prev.mode === mode && mode === 'bridge') attachments = prev.attachments.map((a) => ({ ...a }));
  const e: EndpointRecord = { containerId, name, hostname, mode, requested, joinContainer, ports, attachments, pid: prev?.pid ?? null, files: own };
  const ep = req.endpoint ?? {};
  if (mode !== 'bridge' && (ep.ip || ep.macAddress || ep.aliases?.length || ep.links?.length)) {
    throw new InvalidArgument(`--ip, --mac-address, --network-alias and --link need a bridge network (network mode is ${requested})`);
  }
  if (ep.aliases?.length && net?.builtin) throw new InvalidArgument('--network-alias: network-scoped alias is supported only for containers in user defined networks');
  if (ep.aliases?.length) e.aliases = [...ep.aliases];
  if (ep.links?.length) e.links = ep.links.map((l) => ({ ...l }));
  if (req.extraHosts?.length) e.extraHosts = req.extraHosts.map((h) => ({ ...h }));
  if (req.dns) e.dns = { ...req.dns };
  if (prev && prev.attachments.length && mode !== 'bridge') {
    for (const a of prev.attachments) if (a.attached) await deleteVeth(a.hostVeth).catch(() => {});
  }
  if (net && !e.attachments.some((a) => a.networkId === net.id)) {
    e.attachments.unshift(lease(s, e, net, { ip: ep.ip, mac: ep.macAddress }));
    // not wired yet (e.g. connected before its first start): number the interfaces in order
    if (!e.attachments.some((a) => a.attached)) e.attachments.forEach((a, i) => (a.ifName = `eth${i}`));
  }
  s.endpoints[containerId] = e;

  // the files
  if (mode === 'container' && joinContainer && s.endpoints[joinContainer]) {
    const t = s.endpoints[joinContainer].files;
    e.files = { hosts: t.hosts, resolvConf: t.resolvConf, hostname: own.hostname };
  }
  writeEndpointFiles(s, e);
  saveState(s, containerId);
  refreshHosts(s, [...e.attachments, ...(prev?.attachments ?? [])].map((a) => a.networkId));

  const first = e.attachments[0];
  const firstNet = first ? s.networks.find((n) => n.id === first.networkId) : undefined;
  return {
    mode,
    newNetns: mode === 'none' || mode === 'bridge',
    ...(joinContainer ? { joinContainer } : {}),
    hostsFile: e.files.hosts,
    resolvConf: e.files.resolvConf,
    hostnameFile: e.files.hostname,
    files: { ...e.files },
    ...(first && firstNet ? { ipAddress: first.ip, gateway: firstNet.gateway, macAddress: first.mac, networkId: firstNet.id, networkName: firstNet.name, prefixLen: firstNet.prefixLen } : {}),
    ports: ports.map((p) => ({ ...p })),
  };
}
