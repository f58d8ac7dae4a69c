// The names of host objects per prefix (host/naming.ts), the firewall comparison
// (network/firewall-check.ts) and the userns pool (userns/ranges.ts): no kernel needed.
import { describe, expect, it } from 'vitest';
import { checkPrefix, hostNames, IFNAME_MAX } from '../../server/engine/host/naming.js';
import { compareFirewall } from '../../server/engine/network/firewall-check.js';
import { renderRules } from '../../server/engine/network/nat.js';
import { parsePool, parseSubIdFile, poolSlots } from '../../server/engine/userns/ranges.js';

const ID = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789';

describe('host names from a prefix', () => {
  it('gives exactly the old names for the default prefix', () => {
    const n = hostNames();
    expect(n.bridge).toBe('gb0');
    expect(n.userBridge(ID)).toBe('gbr-abcdef01234');
    expect(n.veth(ID, 0)).toBe('gbvabcdef01');
    expect(n.veth(ID, 3)).toBe('gbvabcdef01x3');
    expect(n.chains).toEqual({ forward: 'GLASSBOX-FORWARD', dnat: 'GLASSBOX-DNAT', post: 'GLASSBOX-POSTROUTING' });
    expect(n.cgroupParent).toBe('glassbox');
    expect(n.lockFile).toBe('/run/glassbox/owner.lock');
  });

  it('gives a test prefix names of its own that start with gb and fit IFNAMSIZ', () => {
    for (const p of ['gbt7', 'gbtzz']) {
      const n = hostNames(p);
      for (const name of [n.bridge, n.userBridge(ID), n.veth(ID, 0), n.veth(ID, 99)]) {
        expect(name.startsWith('gb')).toBe(true);
        expect(name.length).toBeLessThanOrEqual(IFNAME_MAX);
      }
      expect(n.vethRe.test(n.veth(ID, 0))).toBe(true);
      expect(n.vethRe.test(n.veth(ID, 42))).toBe(true);
      for (const c of Object.values(n.chains)) expect(c.length).toBeLessThanOrEqual(28); // XT_EXTENSION_MAXNAMELEN - 1
    }
    expect(hostNames('gbt7').chains.forward).toBe('GLASSBOX-T7-FORWARD');
    expect(hostNames('gbt7').cgroupParent).toBe('glassbox-t7');
    expect(hostNames('gbt7').lockFile).toBe('/run/glassbox/owner-gbt7.lock');
  });

  it("never lets one prefix's sweep patterns match another prefix's names", () => {
    const prefixes = ['gb', 'gbt7', 'gbt70', 'gbta', 'gbtab', 'gbtv', 'gbtr'];
    for (const p of prefixes) {
      const me = hostNames(p);
      for (const q of prefixes) {
        if (q === p) continue;
        const other = hostNames(q);
        for (const name of [other.bridge, other.userBridge(ID), other.veth(ID, 0), other.veth(ID, 12)]) expect(me.vethRe.test(name)).toBe(false);
        expect(me.netnsRe.test(`${q}-${ID.slice(0, 12)}`)).toBe(false);
        expect(me.chains.forward).not.toBe(other.chains.forward);
        expect(me.cgroupParent).not.toBe(other.cgroupParent);
      }
    }
  });

  it('refuses anything that is not a Glassbox prefix, naming the option', () => {
    expect(() => checkPrefix('eth')).toThrow(/^GLASSBOX_PREFIX "eth" is not a Glassbox prefix/);
    for (const bad of ['gbv', 'gbt', 'gbt123', 'gbT1', 'gb0', 'gbr1', '']) expect(() => hostNames(bad)).toThrow(/is not a Glassbox prefix/);
  });
});

describe('the firewall comparison', () => {
  const n = hostNames('gbt7');
  const rules = renderRules({ networks: [{ bridge: 'gbt70', subnet: '10.1.0.0/16' }], ports: [] }, n.chains);
  const expected = [...rules.filter, ...rules.nat];
  const save = (filterJump: boolean, filterRules: string[]) =>
    [
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      `:${n.chains.forward} - [0:0]`,
      ...(filterJump ? [`-A FORWARD -j ${n.chains.forward}`] : []),
      '-A FORWARD -j GLASSBOX-FORWARD', // a serving Glassbox's: not ours
      ...filterRules,
      'COMMIT',
      '*nat',
      `:${n.chains.dnat} - [0:0]`,
      `:${n.chains.post} - [0:0]`,
      `-A PREROUTING -m addrtype --dst-type LOCAL -j ${n.chains.dnat}`,
      `-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${n.chains.dnat}`,
      `-A POSTROUTING -j ${n.chains.post}`,
      ...rules.nat,
      'COMMIT',
    ].join('\n');

  it('is ok when the jumps and rules are ours', () => {
    expect(compareFirewall(save(true, rules.filter), n.chains, expected)).toEqual({ ok: true, missingJumps: [], missingChains: [], changedRules: false });
  });

  it('sees a missing jump and a flushed chain', () => {
    expect(compareFirewall(save(false, rules.filter), n.chains, expected)).toMatchObject({ ok: false, missingJumps: [`FORWARD -j ${n.chains.forward}`] });
    expect(compareFirewall(save(true, []), n.chains, expected)).toMatchObject({ ok: false, changedRules: true });
  });

  it("scopes every verdict to this engine's bridges (another engine's traffic passes through)", () => {
    for (const r of rules.filter) expect(r).toMatch(/gbt70/);
  });
});

describe('the userns pool', () => {
  it("reads root's subuid ranges, cut into 65536-id slots", () => {
    expect(parseSubIdFile('alice:100000:65536\nroot:200000:131072\n0:400000:65536\n')).toEqual([
      { start: 200000, count: 131072 },
      { start: 400000, count: 65536 },
    ]);
    expect(poolSlots({ subuid: 'root:200000:131072\n', subgid: 'root:300000:131072\n' })).toEqual([
      { uid: 200000, gid: 300000 },
      { uid: 265536, gid: 365536 },
    ]);
  });

  it('defaults to 100000 + k * 65536 without subuid entries, and parses GLASSBOX_USERNS_POOL', () => {
    expect(poolSlots({ subuid: '', subgid: '' }).slice(0, 2)).toEqual([
      { uid: 100000, gid: 100000 },
      { uid: 165536, gid: 165536 },
    ]);
    expect(parsePool('100000:4')).toEqual({ start: 100000, count: 4 });
    expect(() => parsePool('lots')).toThrow(/^GLASSBOX_USERNS_POOL "lots": use START:COUNT/);
    expect(() => parsePool('4294000000:100')).toThrow(/GLASSBOX_USERNS_POOL/);
  });
});
