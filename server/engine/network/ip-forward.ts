// net.ipv4.ip_forward: the bridges route containers' traffic, so Glassbox turns forwarding on at
// init. The host's value before that is kept in <root>/network/host.json, and teardown() puts it
// back, unless another Glassbox engine's bridges still need it.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../util/fsx.js';
import { linkExists, readSysctl, writeSysctl, type Recorder } from './ip.js';
import type { NetState } from './types.js';

interface HostState {
  /** net.ipv4.ip_forward before Glassbox set it */
  ipForwardBefore?: string;
}

export function enableForwarding(s: NetState, rec?: Recorder): void {
  const hostFile = join(s.dir, 'host.json');
  const host = readJson<HostState>(hostFile) ?? {};
  const fwd = readSysctl('net.ipv4.ip_forward') ?? '0';
  // remember the host's value once; a gb0 already there means an earlier Glassbox changed it
  if (host.ipForwardBefore === undefined && !linkExists(s.names.bridge)) {
    host.ipForwardBefore = fwd;
    writeJsonAtomic(hostFile, host);
  }
  if (fwd !== '1') writeSysctl('net.ipv4.ip_forward', '1', rec);
}

/** Puts the host's ip_forward back (call after this engine's bridges are gone). */
export function restoreForwarding(s: NetState): void {
  const host = readJson<HostState>(join(s.dir, 'host.json'));
  // another engine's bridges (a server beside this test run) still need forwarding
  const others = otherGlassboxBridges(new Set(s.networks.map((n) => n.bridge)));
  if (host?.ipForwardBefore !== undefined && host.ipForwardBefore !== '1' && !others.length) writeSysctl('net.ipv4.ip_forward', host.ipForwardBefore);
}

export function forgetForwarding(s: NetState): void {
  rmSync(join(s.dir, 'host.json'), { force: true });
}

/** Bridges of other Glassbox engines on this host: gb* bridges that are not in `ours`. */
function otherGlassboxBridges(ours: Set<string>): string[] {
  try {
    return readdirSync('/sys/class/net').filter((n) => n.startsWith('gb') && !ours.has(n) && existsSync(`/sys/class/net/${n}/bridge`));
  } catch {
    return [];
  }
}
