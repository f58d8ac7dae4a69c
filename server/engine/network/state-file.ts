// The network state on disk, under <root>/network/: networks.json (the networks and their IPAM
// cursors) and leases/<container id>.json (one endpoint each). Written atomically after every
// change, so a restarted server knows which addresses are leased and what to sweep. One file per
// endpoint, and only the files whose content changed are written: with every endpoint in one
// file, each start, exit and removal rewrote all of them (O(containers) per change, about 6 ms a
// save with 500 running). files/<id>/ holds the /etc files a container bind-mounts
// (endpoint-files.ts writes them). A leases.json of an older server is read, and replaced by
// the per-endpoint files at the next save.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, writeFileAtomic, writeFileAtomicAsync } from '../util/fsx.js';
import type { EndpointRecord, NetState, NetworkRecord } from './types.js';

/** What is on disk now, as written: a save compares with it and writes only what differs. */
interface Written {
  networks: string;
  endpoints: Map<string, string>;
  /** a legacy leases.json is still there: the next full save replaces it */
  legacy: boolean;
  /** the leases directory was never listed (a state never loaded): a full save removes strays */
  listed: boolean;
}
const written = new WeakMap<NetState, Written>();

const LEGACY = 'leases.json';
const leasesDir = (s: NetState | string) => join(typeof s === 'string' ? s : s.dir, 'leases');
const serialize = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

function checkId(id: string): string {
  if (!/^[\w.-]+$/.test(id) || id.startsWith('.')) throw new Error(`not an endpoint id: ${JSON.stringify(id)}`);
  return id;
}

/** Every endpoint on disk under `dir` (<root>/network): the legacy file's, then the directory's. */
export function readLeases(dir: string): Record<string, EndpointRecord> {
  const out: Record<string, EndpointRecord> = { ...(readJson<{ endpoints: Record<string, EndpointRecord> }>(join(dir, LEGACY))?.endpoints ?? {}) };
  for (const f of existsSync(leasesDir(dir)) ? readdirSync(leasesDir(dir)) : []) {
    if (!f.endsWith('.json')) continue; // a .tmp-<pid> of a write a crash cut short
    const e = readJson<EndpointRecord>(join(leasesDir(dir), f));
    if (e) out[f.slice(0, -'.json'.length)] = e;
  }
  return out;
}

export function loadState(s: NetState): void {
  s.networks = readJson<{ networks: NetworkRecord[] }>(join(s.dir, 'networks.json'))?.networks ?? [];
  s.endpoints = readLeases(s.dir);
  const legacy = existsSync(join(s.dir, LEGACY));
  const endpoints = new Map<string, string>();
  // what the directory holds is written already; a legacy file's endpoints are not (yet)
  for (const f of existsSync(leasesDir(s)) ? readdirSync(leasesDir(s)) : []) {
    const id = f.endsWith('.json') ? f.slice(0, -'.json'.length) : '';
    if (id && s.endpoints[id]) endpoints.set(id, serialize(s.endpoints[id]));
  }
  const networksOnDisk = existsSync(join(s.dir, 'networks.json'));
  written.set(s, { networks: networksOnDisk ? serialize({ networks: s.networks }) : '', endpoints, legacy, listed: true });
}

/**
 * Writes what changed. `only`: the one endpoint the caller changed (or removed), so the others
 * are not even compared; without it, every endpoint is.
 */
export function saveState(s: NetState, only?: string): void {
  let w = written.get(s);
  if (!w) {
    w = { networks: '', endpoints: new Map(), legacy: existsSync(join(s.dir, LEGACY)), listed: false };
    written.set(s, w);
  }
  const networks = serialize({ networks: s.networks });
  if (networks !== w.networks) {
    writeFileAtomic(join(s.dir, 'networks.json'), networks);
    w.networks = networks;
  }
  const full = only === undefined || w.legacy || !w.listed;
  const ids = full ? new Set([...Object.keys(s.endpoints), ...w.endpoints.keys()]) : new Set([only]);
  if (full && !w.listed) {
    // strays of a state this process never loaded: the directory must mirror the memory
    for (const f of existsSync(leasesDir(s)) ? readdirSync(leasesDir(s)) : []) if (f.endsWith('.json')) ids.add(f.slice(0, -'.json'.length));
    w.listed = true;
  }
  for (const id of ids) {
    const e = s.endpoints[id];
    const file = join(leasesDir(s), `${checkId(id)}.json`);
    if (!e) {
      rmSync(file, { force: true });
      w.endpoints.delete(id);
      continue;
    }
    const text = serialize(e);
    if (text === w.endpoints.get(id)) continue;
    writeFileAtomic(file, text);
    w.endpoints.set(id, text);
  }
  if (full && w.legacy) {
    rmSync(join(s.dir, LEGACY), { force: true }); // every endpoint of it has its own file now
    w.legacy = false;
  }
}

/**
 * saveState of the endpoints `ids` (and networks.json if it changed) with the writes and renames on
 * libuv's threads: the manager's group commit of teardowns (manager.ts saveSoon). Serialized now,
 * so what is written is the state at the call; the manager calls it inside its queue only, so no
 * other write of these files runs meanwhile. A state not yet mirrored file by file (a legacy
 * leases.json, or never listed) gets the full synchronous save instead, once.
 */
export async function saveStateAsync(s: NetState, ids: Iterable<string>): Promise<void> {
  const w = written.get(s);
  if (!w || w.legacy || !w.listed) return saveState(s);
  await mkdir(leasesDir(s), { recursive: true });
  const writes: Promise<unknown>[] = [];
  const done: (() => void)[] = [];
  const networks = serialize({ networks: s.networks });
  if (networks !== w.networks) {
    writes.push(writeFileAtomicAsync(join(s.dir, 'networks.json'), networks));
    done.push(() => (w.networks = networks));
  }
  for (const id of new Set(ids)) {
    const e = s.endpoints[id];
    const file = join(leasesDir(s), `${checkId(id)}.json`);
    if (!e) {
      writes.push(rm(file, { force: true }));
      done.push(() => w.endpoints.delete(id));
      continue;
    }
    const text = serialize(e);
    if (text === w.endpoints.get(id)) continue;
    writes.push(writeFileAtomicAsync(file, text));
    done.push(() => w.endpoints.set(id, text));
  }
  // what is on disk is recorded only once it is there: a failed write is retried by the next save
  await Promise.all(writes);
  for (const d of done) d();
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
