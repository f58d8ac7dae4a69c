import { describe, expect, it } from 'vitest';
import {
  CAPABILITIES,
  DOCKER_DEFAULT_CAPABILITIES,
  capabilityMask,
  capabilityName,
  capabilityNames,
  capabilityNumber,
  formatCapMask,
  hostLastCap,
  resolveCapabilities,
} from '../../server/engine/runtime/capabilities';
import { InvalidArgument } from '../../server/engine/types';

const DEFAULT_MASK = 0x00000000a80425fbn;

describe('capability table', () => {
  it('numbers every capability from CHOWN=0 to CHECKPOINT_RESTORE=40', () => {
    expect(CAPABILITIES).toHaveLength(41);
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('sys_admin')).toBe(21);
    expect(capabilityNumber('Cap_Net_Raw')).toBe(13);
    expect(capabilityNumber('CAP_SETFCAP')).toBe(31);
    expect(capabilityNumber('CAP_BPF')).toBe(39);
    expect(capabilityNumber('CHECKPOINT_RESTORE')).toBe(40);
    expect(capabilityNumber('CAP_FOO')).toBeUndefined();
    expect(capabilityName(22)).toBe('CAP_SYS_BOOT');
    expect(capabilityName(41)).toBeUndefined();
  });

  it('turns names into masks and back', () => {
    expect(capabilityMask(['CAP_CHOWN', 'kill'], 40)).toBe(0b100001n);
    expect(capabilityNames(0b100001n)).toEqual(['CAP_CHOWN', 'CAP_KILL']);
    expect(() => capabilityMask(['CAP_FOO'], 40)).toThrow(InvalidArgument);
  });

  it('knows the host kernel last capability', () => {
    const n = hostLastCap();
    expect(n).toBeGreaterThanOrEqual(30);
    expect(n).toBeLessThanOrEqual(40);
  });
});

describe('resolveCapabilities (Docker semantics)', () => {
  it('gives Docker\'s default set: CapEff 00000000a80425fb', () => {
    const r = resolveCapabilities({ lastCap: 40 });
    expect(r.names).toEqual(DOCKER_DEFAULT_CAPABILITIES);
    expect(r.masks.bounding).toBe(DEFAULT_MASK);
    expect(r.masks.effective).toBe(DEFAULT_MASK);
    expect(r.masks.permitted).toBe(DEFAULT_MASK);
    expect(r.masks.inheritable).toBe(0n);
    expect(r.masks.ambient).toBe(0n);
    expect(formatCapMask(r.masks.effective)).toBe('00000000a80425fb');
    expect(r.sets.inheritable).toEqual([]);
    expect(r.sets.ambient).toEqual([]);
    expect(r.sets.bounding).toEqual(r.names);
    // the default does not depend on the kernel as long as it knows AUDIT_WRITE (29) and SETFCAP (31)
    expect(resolveCapabilities({}).masks.effective).toBe(DEFAULT_MASK);
  });

  it('adds and drops, with or without CAP_, any case', () => {
    const r = resolveCapabilities({ capAdd: ['sys_admin', 'CAP_NET_ADMIN'], capDrop: ['net_raw', 'Cap_Mknod'], lastCap: 40 });
    expect(r.names).toContain('CAP_SYS_ADMIN');
    expect(r.names).toContain('CAP_NET_ADMIN');
    expect(r.names).not.toContain('CAP_NET_RAW');
    expect(r.names).not.toContain('CAP_MKNOD');
    expect(r.masks.effective).toBe((DEFAULT_MASK | (1n << 21n) | (1n << 12n)) & ~(1n << 13n) & ~(1n << 27n));
  });

  it('does not repeat a capability added twice', () => {
    const r = resolveCapabilities({ capAdd: ['CHOWN', 'chown'], lastCap: 40 });
    expect(r.names.filter((c) => c === 'CAP_CHOWN')).toHaveLength(1);
    expect(r.masks.effective).toBe(DEFAULT_MASK);
  });

  it('--cap-drop ALL keeps only the adds', () => {
    const r = resolveCapabilities({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'], lastCap: 40 });
    expect(r.names).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(r.masks.effective).toBe(1n << 10n);
    expect(resolveCapabilities({ capDrop: ['all'], lastCap: 40 }).masks.bounding).toBe(0n);
  });

  it('--cap-add ALL gives everything but the drops (and wins over --cap-drop ALL)', () => {
    const all = (1n << 41n) - 1n;
    expect(resolveCapabilities({ capAdd: ['ALL'], lastCap: 40 }).masks.effective).toBe(all);
    expect(resolveCapabilities({ capAdd: ['all'], capDrop: ['SYS_ADMIN'], lastCap: 40 }).masks.effective).toBe(all & ~(1n << 21n));
    expect(resolveCapabilities({ capAdd: ['ALL'], capDrop: ['ALL'], lastCap: 40 }).masks.effective).toBe(all);
  });

  it('--privileged gives every capability the kernel knows, nothing beyond cap_last_cap', () => {
    expect(resolveCapabilities({ privileged: true, lastCap: 40 }).masks.bounding).toBe(0x1ffffffffffn);
    const older = resolveCapabilities({ privileged: true, lastCap: 37 });
    expect(older.masks.bounding).toBe(0x3fffffffffn);
    expect(older.names).not.toContain('CAP_BPF');
    // Docker does not even look at the lists when privileged
    expect(resolveCapabilities({ privileged: true, capAdd: ['FOO'], lastCap: 40 }).names).toHaveLength(41);
    const host = hostLastCap();
    expect(resolveCapabilities({ privileged: true }).masks.bounding).toBe((1n << BigInt(host + 1)) - 1n);
  });

  it('refuses unknown capabilities like Docker does', () => {
    expect(() => resolveCapabilities({ capAdd: ['CAP_FOO'] })).toThrow(InvalidArgument);
    expect(() => resolveCapabilities({ capAdd: ['foo'] })).toThrow('unknown capability: "CAP_FOO"');
    expect(() => resolveCapabilities({ capDrop: ['BAR'] })).toThrow('unknown capability: "CAP_BAR"');
  });

  it('refuses capabilities the kernel does not have', () => {
    expect(() => resolveCapabilities({ capAdd: ['BPF'], lastCap: 37 })).toThrow(/not supported by your kernel.*"CAP_BPF"/);
  });

  it('gives a non-root user only the bounding set (as Docker, to match execve)', () => {
    const r = resolveCapabilities({ uid: 1000, lastCap: 40 });
    expect(r.masks.bounding).toBe(DEFAULT_MASK);
    expect(r.masks.effective).toBe(0n);
    expect(r.masks.permitted).toBe(0n);
    expect(r.masks.inheritable).toBe(0n);
    expect(r.masks.ambient).toBe(0n);
    expect(r.sets.effective).toEqual([]);
    expect(r.names).toEqual(DOCKER_DEFAULT_CAPABILITIES);
  });
});
