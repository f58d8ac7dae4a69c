// The topology frame's link list (inspect/network.ts LinkCache) on the real kernel: reused while
// the host's links stay the same, read again the frame after one comes or goes, and after its
// maximum age for what changes in place (an address).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { prefixFromEnv } from '../../server/engine/host/naming.js';
import { LinkCache } from '../../server/engine/inspect/network.js';
import { requireHost } from '../helpers.js';

requireHost('link-cache.test', { root: true, commands: ['ip'] });

// the run's own prefix and a suffix no engine name uses (bridges end in 0, veths in v<hex>); a
// veth pair, the one link kind every host that runs containers has (no dummy module here)
const name = `${prefixFromEnv()}lca`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
afterAll(() => {
  try {
    ip('link', 'del', name);
  } catch {
    /* gone already */
  }
});

/**
 * Other tests (and other runs on this host) add and remove links meanwhile: a check that needs the
 * host's links unchanged is retried until they were the same before and after it.
 */
async function whileQuiet<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const before = readdirSync('/sys/class/net').join();
    const out = await fn();
    if (readdirSync('/sys/class/net').join() === before || i >= 50) return out;
  }
}

describe('LinkCache', () => {
  it('reuses the list until a link comes or goes, and re-reads it after maxAgeMs', async () => {
    const cache = new LinkCache(60_000);
    const [first, again] = await whileQuiet(async () => [await cache.links(), await cache.links()]);
    expect(first.length).toBeGreaterThan(0);
    expect(again).toBe(first); // nothing changed: the same list, no `ip` run

    ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${prefixFromEnv()}lcb`);
    const withIt = await cache.links();
    expect(withIt).not.toBe(first);
    expect(withIt.some((l) => l.ifname === name)).toBe(true);

    // an address changes no name: seen once the list is older than maxAgeMs
    ip('addr', 'add', '192.0.2.77/32', 'dev', name);
    const [fresh, same] = await whileQuiet(async () => [await cache.links(), await cache.links(Date.now() + 1000)]);
    expect(same).toBe(fresh);
    const aged = await cache.links(Date.now() + 60_000);
    expect(aged.find((l) => l.ifname === name)?.addr_info?.some((a) => a.local === '192.0.2.77')).toBe(true);

    ip('link', 'del', name);
    expect((await cache.links()).some((l) => l.ifname === name)).toBe(false);
  });
});
