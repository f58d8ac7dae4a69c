// config.json → RuntimePlan (server/engine/runtime/bundle.ts): what the OCI CLI hands gb-helper,
// and the messages for what it refuses (each names the field).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleError, ociMountOptions, planFromBundle, type OciConfig } from '../../server/engine/runtime/bundle.js';
import { runSpec } from '../../server/engine/runtime/helper-spec.js';

const bundle = mkdtempSync('/tmp/gbo-unit-');
mkdirSync(join(bundle, 'rootfs'));
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

function plan(change: (c: OciConfig) => void = () => {}) {
  const config: OciConfig = {
    ociVersion: '1.0.2',
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], capabilities: { bounding: ['CAP_KILL'], permitted: ['CAP_KILL'], effective: ['CAP_KILL'], ambient: ['CAP_KILL'] } },
    root: { path: 'rootfs' },
    hostname: 'h',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }, { type: 'pid' }] },
  };
  change(config);
  return planFromBundle({ bundle, config, id: 'x', stateDir: bundle, cgroupProcs: [], cgroupDirs: {}, cgroupVersion: 1, cgroupsPath: '/x' });
}

describe('planFromBundle', () => {
  it('maps the config: namespaces, rootfs, mounts, standard devices, ambient only where inheritable allows', () => {
    const p = plan();
    expect(p.rootfs).toBe(join(bundle, 'rootfs'));
    expect(p.namespaces).toEqual(['mnt', 'uts', 'pid']);
    expect(p.mounts).toEqual([{ destination: '/proc', type: 'proc', source: 'proc', options: [] }]);
    expect(p.devices.map((d) => d.path)).toContain('/dev/null');
    expect(p.capabilityMasks.ambient).toBe(0n);
    expect(p.capabilityMasks.bounding).toBe(1n << 5n);
    expect(runSpec(p, { createBarrier: true })).toContain('\nhostname h\n');
  });

  it('keeps container paths inside the container: "../" destinations are normalised under /', () => {
    const p = plan((c) => c.mounts!.push({ destination: '../../etc/x', type: 'tmpfs', source: 'tmpfs' }));
    expect(p.mounts[1].destination).toBe('/etc/x');
  });

  it('refuses what it cannot honour, naming the field', () => {
    const bad = (change: (c: OciConfig) => void) => {
      try {
        plan(change);
      } catch (e) {
        expect(e).toBeInstanceOf(BundleError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad((c) => (c.linux!.namespaces = [{ type: 'pid' }]))).toContain("needs a new mount namespace");
    expect(bad((c) => (c.process!.args = []))).toContain('process.args');
    expect(bad((c) => (c.root!.path = 'nope'))).toContain('root.path');
    expect(bad((c) => (c.process!.rlimits = [{ type: 'RLIMIT_TEST', soft: 1, hard: 1 }]))).toContain('process.rlimits[0].type: "RLIMIT_TEST" is not a Linux RLIMIT_ name');
    expect(bad((c) => c.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' }))).toContain('joining an existing user namespace');
    expect(bad((c) => (c.linux!.rootfsPropagation = 'sideways'))).toContain('linux.rootfsPropagation');
  });

  it('mount options: flags, data, propagation words left to the helper', () => {
    expect(ociMountOptions(['ro', 'nosuid', 'rprivate', 'mode=755'])).toEqual({ words: ['ro', 'nosuid'], data: ['mode=755'], flags: 0x3 });
  });
});
