// The network state on disk, under <root>/network/: networks.json (the networks and their IPAM
// cursors) and leases.json (the endpoints). Written atomically after every change, so a restarted
// server knows which addresses are leased and what to sweep. files/<id>/ holds the /etc files a
// container bind-mounts (endpoint-files.ts writes them).
import { join } from 'node:path';
import { readJson, writeFileAtomicAsync, writeJsonAtomic } from '../util/fsx.js';
import type { EndpointRecord, NetState, NetworkRecord } from './types.js';

export function loadState(s: NetState): void {
  s.networks = readJson<{ networks: NetworkRecord[] }>(join(s.dir, 'networks.json'))?.networks ?? [];
  s.endpoints = readJson<{ endpoints: Record<string, EndpointRecord> }>(join(s.dir, 'leases.json'))?.endpoints ?? {};
}

export function saveState(s: NetState): void {
  writeJsonAtomic(join(s.dir, 'networks.json'), { networks: s.networks });
  writeJsonAtomic(join(s.dir, 'leases.json'), { endpoints: s.endpoints });
}

/**
 * saveState on libuv's threads: both files serialized now (the state as it is at the call), then
 * written and renamed off the event loop. The manager calls it inside its queue only, so no other
 * write of these files runs meanwhile.
 */
export async function saveStateAsync(s: NetState): Promise<void> {
  const networks = JSON.stringify({ networks: s.networks }, null, 2) + '\n';
  const leases = JSON.stringify({ endpoints: s.endpoints }, null, 2) + '\n';
  await Promise.all([writeFileAtomicAsync(join(s.dir, 'networks.json'), networks), writeFileAtomicAsync(join(s.dir, 'leases.json'), leases)]);
}

/** <root>/network/files: one directory per container. */
export function filesRoot(s: NetState): string {
  return join(s.dir, 'files');
}

export function filesDir(s: NetState, containerId: string): string {
  return join(filesRoot(s), containerId);
}

/** The container's own hosts, resolv.conf and hostname files (a container:<id> one may use another's). */
export function ownFiles(s: NetState, containerId: string): EndpointRecord['files'] {
  const dir = filesDir(s, containerId);
  return { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') };
}
