// Cleaning up. sweep(): at start-up, what containers that no longer exist (or no longer run) left
// behind after a crash: veths, leases, port rules, /etc files, /run/netns names; a restarted
// server's running containers get their proxies back. teardown(): everything this engine made on
// the host, for tests and uninstall.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deleteBridge } from './bridge.js';
import { ip, ipJson, linkExists, type IpLink } from './ip.js';
import { removeAllRules } from './nat.js';
import { startProxies, stopAllProxies } from './port-bindings.js';
import { filesDir, filesRoot } from './state-file.js';
import type { NetState } from './types.js';
import { deleteVeth } from './veth.js';
import { detachEndpoint } from './wiring.js';

/**
 * The sweep's kernel and file work; returns the networks whose hosts files need a refresh. The
 * caller saves and syncs the rules after it.
 */
export async function sweepLeftovers(s: NetState, liveContainerIds: Set<string>, up: Set<string>): Promise<string[]> {
  const released: string[] = [];
  for (const e of Object.values(s.endpoints)) {
    if (!liveContainerIds.has(e.containerId)) {
      await detachEndpoint(s, e);
      released.push(...e.attachments.map((a) => a.networkId));
      delete s.endpoints[e.containerId];
      rmSync(filesDir(s, e.containerId), { recursive: true, force: true });
    } else if (!up.has(e.containerId) || (e.pid !== null && !existsSync(`/proc/${e.pid}`))) {
      await detachEndpoint(s, e);
    } else if (e.mode === 'bridge' && e.pid !== null) {
      // a restarted server: the veths are there, the proxies are not
      for (const a of e.attachments) a.attached = linkExists(a.hostVeth);
      if (!s.proxies.has(e.containerId)) await startProxies(s, e).catch(() => {});
    }
  }
  // files of containers we have no record of
  const root = filesRoot(s);
  if (existsSync(root)) for (const id of readdirSync(root)) if (!s.endpoints[id]) rmSync(join(root, id), { recursive: true, force: true });
  // veths named like ours (this prefix's only: another engine's are its own) that no endpoint owns
  const want = new Set(Object.values(s.endpoints).flatMap((e) => e.attachments.filter((a) => a.attached).map((a) => a.hostVeth)));
  const hostLinks = await ipJson<IpLink[]>(['link', 'show']);
  for (const l of hostLinks) if (s.names.vethRe.test(l.ifname) && !want.has(l.ifname)) await deleteVeth(l.ifname).catch(() => {});
  // names in /run/netns that a Glassbox container left
  if (existsSync('/run/netns')) {
    for (const n of readdirSync('/run/netns')) {
      const m = s.names.netnsRe.exec(n);
      if (m && ![...up].some((id) => id.startsWith(m[1]))) await ip(['netns', 'delete', n]).catch(() => {});
    }
  }
  return released;
}

/** Proxies, veths, our chains and jumps, and the bridges; ip_forward is the caller's (ip-forward.ts). */
export async function removeHostObjects(s: NetState): Promise<void> {
  await stopAllProxies(s);
  for (const e of Object.values(s.endpoints)) for (const a of e.attachments) await deleteVeth(a.hostVeth).catch(() => {});
  await removeAllRules(s.names.chains);
  for (const n of s.networks) await deleteBridge(n.bridge).catch(() => {});
}
