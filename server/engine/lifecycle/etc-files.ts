// /etc/hostname, /etc/hosts and /etc/resolv.conf for a container of an engine without networking.
// With networking the network manager writes them (and keeps /etc/hosts up to date as containers
// come and go); both render them with network/hosts.ts, so they read the same.
import { readFileSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { readHostResolvConf, renderHosts, renderResolvConf, writeInPlace } from '../network/hosts.js';
import type { ContainerRecord } from '../types.js';
import type { EngineContext } from './context.js';

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export function hostnameOf(rec: ContainerRecord): string {
  if (rec.config.namespaces?.uts === false || rec.config.shareNamespaces?.uts === 'host') return hostHostname();
  return rec.config.hostname ?? rec.id.slice(0, 12);
}

/** The three files, in the container's directory; the helper bind-mounts them. */
export function writeEtcFiles(ctx: EngineContext, rec: ContainerRecord): EtcFiles {
  const dir = ctx.records.containerDir(rec.id);
  const hostname = hostnameOf(rec);
  const hostMode = rec.network.mode === 'host';
  const files = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
  writeInPlace(files.hostname, hostname + '\n');
  // --add-host (host-gateway has no meaning without a bridge: left out) and --dns apply here too
  const extra = (rec.config.extraHosts ?? []).filter((h) => h.ip !== 'host-gateway').map((h) => ({ ip: h.ip, names: [h.name] }));
  writeInPlace(files.hosts, hostMode ? hostHosts(hostname) : renderHosts({ hostname, name: rec.name, id: rec.id.slice(0, 12) }, [], {}, extra));
  writeInPlace(files.resolvConf, renderResolvConf(readHostResolvConf(), { hostMode, noNetwork: rec.network.mode === 'none', dns: rec.config.dns }));
  return files;
}

function hostHosts(hostname: string): string {
  try {
    return readFileSync('/etc/hosts', 'utf8');
  } catch {
    return renderHosts({ hostname }, [], { hostMode: true });
  }
}
