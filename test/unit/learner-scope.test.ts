// The learner's cut of the diagrams (server/engine/inspect/scope.ts) on hand-made snapshots: what a
// learner must not see (another's rule, interface, namespace) and what they must (their own).
import { describe, expect, it } from 'vitest';
import { containerFromCgroup } from '../../server/engine/inspect/namespaces.js';
import { ruleIsMine, scopeNetwork, scopeOf } from '../../server/engine/inspect/scope.js';
import type { NetworkSnapshot } from '../../server/engine/inspect/types.js';
import type { NetworkInfo } from '../../server/engine/network/index.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const net = (name: string, bridge: string, subnet: string, ip: string, id: string): NetworkInfo => ({
  id: name.padEnd(64, '0'),
  name,
  driver: 'bridge',
  scope: 'local',
  created: '',
  builtin: false,
  bridge,
  subnet,
  gateway: subnet.replace(/0\/24$/, '1'),
  labels: {},
  containers: { [id]: { name: 'x', ip, prefixLen: 24, mac: 'm', veth: `gbv${id.slice(0, 8)}`, ifName: 'eth0', attached: true } },
});

describe("a learner's cut", () => {
  const mine = { bridges: new Set(['gbr-aaa']), addresses: new Set(['10.90.1.0/24', '10.90.1.2', '10.90.1.1']) };
  it('keeps a rule only when everything it names is the learner’s', () => {
    expect(ruleIsMine('-A F -i gbr-aaa -o gbr-aaa -j ACCEPT', mine, 'gb')).toBe(true);
    expect(ruleIsMine('-A F -i gbr-aaa -o gb+ -j DROP', mine, 'gb')).toBe(true);
    expect(ruleIsMine('-A F -d 10.90.1.2/32 -o gbr-aaa -p tcp --dport 80 -j ACCEPT', mine, 'gb')).toBe(true);
    expect(ruleIsMine('-A P -s 10.90.1.0/24 ! -o gbr-aaa -j MASQUERADE', mine, 'gb')).toBe(true);
    expect(ruleIsMine('-A D -d 127.0.0.1/32 ! -i gb+ -p tcp --dport 20401 -j DNAT --to-destination 10.90.1.2:80', mine, 'gb')).toBe(true);
    // another learner's bridge, address or a prefix of an address of theirs
    expect(ruleIsMine('-A F -i gbr-bbb -o gbr-bbb -j ACCEPT', mine, 'gb')).toBe(false);
    expect(ruleIsMine('-A D -d 127.0.0.1/32 -p tcp --dport 20401 -j DNAT --to-destination 10.90.1.20:80', mine, 'gb')).toBe(false);
    expect(ruleIsMine('-A F -i gb0 -o gbr-aaa -j DROP', mine, 'gb')).toBe(false);
    // names nothing of the learner's
    expect(ruleIsMine('-A F -i gb+ -j ACCEPT', mine, 'gb')).toBe(false);
  });

  it("drops the other learner's bridge, endpoint and the host's counters", () => {
    const snap: NetworkSnapshot = {
      kind: 'network',
      time: 1,
      state: 'ok',
      hostInterfaces: [
        { name: 'eth0', kind: 'device', state: 'UP', addresses: ['192.168.1.5/24'], counters: { rxBytes: 1, txBytes: 1, rxPackets: 1, txPackets: 1, rxBps: 0, txBps: 0 } },
        { name: 'gbdummy', kind: 'dummy', state: 'UP', addresses: [] },
      ],
      bridges: [
        { name: 'gbr-aaa', addresses: ['10.90.1.1/24'], state: 'UP' },
        { name: 'gbr-bbb', addresses: ['10.90.2.1/24'], state: 'UP' },
      ],
      endpoints: [
        { containerId: A, name: 'la-box', mode: 'bridge', hostVeth: 'gbvaaaaaaaa', bridge: 'gbr-aaa', ip: '10.90.1.2/24', routes: [], ports: [] },
        { containerId: B, name: 'lb-box', mode: 'bridge', hostVeth: 'gbvbbbbbbbb', bridge: 'gbr-bbb', ip: '10.90.2.2/24', routes: [], ports: [] },
      ],
      isolated: [{ containerId: B, name: 'lb-none' }],
      hostStack: [],
      shared: [{ containerId: A, name: 'la-side', with: B.slice(0, 12) }],
      nat: ['-A F -i gbr-aaa -o gbr-aaa -j ACCEPT', '-A F -i gbr-bbb -o gbr-bbb -j ACCEPT'],
      isolation: 'ok',
      isolationDetail: 'chains of gbr-bbb',
    };
    const scope = scopeOf('la', [{ id: A } as never], [net('la-net', 'gbr-aaa', '10.90.1.0/24', '10.90.1.2', A)]);
    const cut = scopeNetwork(snap, scope);
    const text = JSON.stringify(cut);
    for (const s of ['gbr-bbb', B.slice(0, 12), 'lb-', '10.90.2.', 'gbdummy']) expect(text).not.toContain(s);
    expect(cut.endpoints.map((e) => e.containerId)).toEqual([A]);
    expect(cut.hostInterfaces).toEqual([{ name: 'eth0', kind: 'device', state: 'UP', addresses: ['192.168.1.5/24'] }]);
    expect(cut.nat).toEqual(['-A F -i gbr-aaa -o gbr-aaa -j ACCEPT']);
  });

  it('finds a container in a learner’s quota group by its cgroup path', () => {
    expect(containerFromCgroup(`0::/glassbox/learners/lrna/${A}\n`)).toBe(A);
    expect(containerFromCgroup(`4:pids:/glassbox-td/learners/lrna/${A}/sub\n`)).toBe(A);
    expect(containerFromCgroup(`0::/glassbox/learners/lrna/${A}/monitor\n`)).toBeNull();
    expect(containerFromCgroup('0::/glassbox/learners/lrna\n')).toBeNull();
  });
});
