// Each endpoint's /etc files, from the network state: its hostname, a resolv.conf for its mode,
// and a hosts file naming the other containers on its networks. hosts.ts renders and writes them
// in place; this module decides what goes in and keeps the hosts files current when a network's
// membership changes. A container:<id> one shares the joined container's hosts and resolv.conf.
import { readFileSync } from 'node:fs';
import { renderHosts, renderResolvConf, readHostResolvConf, writeInPlace, type HostsEntry } from './hosts.js';
import { ownFiles } from './state-file.js';
import type { EndpointRecord, NetState } from './types.js';

/** The hosts file of a container (rewritten in place when its networks' membership changes). */
export function hostsFilePath(s: NetState, containerId: string): string {
  return ownFiles(s, containerId).hosts;
}

export function renderHostsFor(s: NetState, e: EndpointRecord): string {
  if (e.mode === 'host') {
    let text = '';
    try {
      text = readFileSync('/etc/hosts', 'utf8');
    } catch {
      text = renderHosts({ hostname: e.hostname }, [], { hostMode: true });
    }
    return text;
  }
  const others: HostsEntry[] = [];
  const seen = new Set<string>();
  for (const a of e.attachments) {
    // Docker's default bridge has no name resolution between containers: only a --link target
    // gets a line. User networks name every member (and its --network-alias names).
    const onlyLinked = isDefaultBridge(s, a.networkId);
    if (onlyLinked && !e.links?.length) continue;
    for (const o of Object.values(s.endpoints)) {
      if (o.containerId === e.containerId) continue;
      const oa = o.attachments.find((x) => x.networkId === a.networkId);
      if (!oa || seen.has(oa.ip)) continue;
      // --link aliases this container gave it
      const linkNames = (e.links ?? []).filter((l) => l.container === o.name || l.container === o.containerId || o.containerId.startsWith(l.container)).map((l) => l.alias);
      if (onlyLinked && !linkNames.length) continue;
      seen.add(oa.ip);
      others.push({ ip: oa.ip, names: [...linkNames, o.name, o.hostname, o.containerId.slice(0, 12), ...(o.aliases ?? [])] });
    }
  }
  const gateway = s.networks.find((n) => n.id === e.attachments[0]?.networkId)?.gateway;
  const extra = (e.extraHosts ?? []).map((h) => ({ ip: h.ip === 'host-gateway' ? (gateway ?? '') : h.ip, names: [h.name] })).filter((h) => h.ip);
  return renderHosts({ hostname: e.hostname, name: e.name, id: e.containerId.slice(0, 12), ip: e.attachments[0]?.ip }, others, {}, extra);
}

/** At prepare(): the hostname file always; resolv.conf and hosts when the endpoint uses its own. */
export function writeEndpointFiles(s: NetState, e: EndpointRecord): void {
  const own = ownFiles(s, e.containerId);
  writeInPlace(own.hostname, e.hostname + '\n');
  if (e.files.hosts === own.hosts) {
    writeInPlace(own.resolvConf, renderResolvConf(readHostResolvConf(), { hostMode: e.mode === 'host', noNetwork: e.mode === 'none', dns: e.dns }));
    writeInPlace(own.hosts, renderHostsFor(s, e));
  }
}

/** Rewrites the endpoint's own hosts file (after it left a network). */
export function rewriteHosts(s: NetState, e: EndpointRecord): void {
  if (e.files.hosts === hostsFilePath(s, e.containerId)) writeInPlace(e.files.hosts, renderHostsFor(s, e));
}

/** The built-in "bridge" network: containers on it see each other by name only through --link. */
function isDefaultBridge(s: NetState, networkId: string): boolean {
  return s.networks.find((n) => n.id === networkId)?.name === 'bridge';
}

/**
 * Rewrites (in place, only when changed) the hosts files that a change of these networks'
 * membership can change: every member's on a user network; on the default bridge only those of
 * containers with --link (nobody else's names another container), so a start or a removal there
 * costs one file, not one per running container.
 */
export function refreshHosts(s: NetState, networkIds: string[]): void {
  const ids = new Set(networkIds);
  if (!ids.size) return;
  for (const e of Object.values(s.endpoints)) {
    if (e.mode !== 'bridge') continue;
    const affected = e.attachments.some((a) => ids.has(a.networkId) && (e.links?.length || !isDefaultBridge(s, a.networkId)));
    if (!affected) continue;
    if (e.files.hosts !== hostsFilePath(s, e.containerId)) continue;
    const text = renderHostsFor(s, e);
    let cur: string | null = null;
    try {
      cur = readFileSync(e.files.hosts, 'utf8');
    } catch {
      cur = null;
    }
    if (cur !== text) writeInPlace(e.files.hosts, text);
  }
}
