// The v2 device rules as an eBPF program (cgroups/device-filter.ts): the rule parser and the
// program's shape. That the kernel's verifier takes it and refuses what it should is tested on
// the real kernel (cgroups-v1.test.ts on this host's unified mount, test/kernels in UML).
import { describe, expect, it } from 'vitest';
import { deviceFilterProgram, parseDeviceRule } from '../../server/engine/cgroups/device-filter.js';
import { DEVICE_ALLOW_RULES } from '../../server/engine/cgroups/v1-files.js';

describe('device rules for the BPF device program', () => {
  it('parses devices.allow syntax, * as any', () => {
    expect(parseDeviceRule('c 1:3 rwm')).toEqual({ type: 'c', major: 1, minor: 3, access: 'rwm' });
    expect(parseDeviceRule('c 136:* rwm')).toEqual({ type: 'c', major: 136, minor: null, access: 'rwm' });
    expect(parseDeviceRule('b *:* m')).toEqual({ type: 'b', major: null, minor: null, access: 'm' });
    expect(parseDeviceRule('a')).toEqual({ type: 'a', major: null, minor: null, access: 'rwm' });
  });

  it('refuses a rule it cannot read, naming it', () => {
    for (const bad of ['c 1:3', 'x 1:3 rwm', 'c 1:3 rwx', 'c one:3 r', '']) expect(() => parseDeviceRule(bad)).toThrow(/bad device rule/);
  });

  it("builds one block per rule and ends with 'return 0' (deny what no rule allows)", () => {
    const p = deviceFilterProgram(DEVICE_ALLOW_RULES.map(parseDeviceRule));
    expect(p.length % 8).toBe(0);
    const insns = p.length / 8;
    // 6 loads + per rule: type, major, minor tests as needed, 3 for a partial access, 2 to return
    expect(insns).toBe(6 + 9 * (1 + 1 + 1 + 2) - 1 + 2 * (1 + 3 + 2) + 2);
    // last two: r0 = 0; exit
    expect([...p.subarray(p.length - 16)]).toEqual([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    // every jump lands inside the program
    for (let i = 0; i < insns; i++) {
      if (p[i * 8] === 0x55) expect(i + 1 + p.readInt16LE(i * 8 + 2)).toBeLessThan(insns);
    }
  });
});
