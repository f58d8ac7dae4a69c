import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../server/engine/containers/validate.js';

const bad: [string, unknown, RegExp][] = [
  ['no image', {}, /image/],
  ['name with a slash', { image: 'base', name: 'a/b' }, /Invalid container name/],
  ['one-letter name', { image: 'base', name: 'a' }, /Invalid container name/],
  ['memory under 6 MiB', { image: 'base', limits: { memory: 4 * 1024 * 1024 } }, /Minimum memory limit/],
  ['swap below memory', { image: 'base', limits: { memory: 64 << 20, memorySwap: 32 << 20 } }, /memoryswap/],
  ['swap without memory', { image: 'base', limits: { memorySwap: 64 << 20 } }, /Memory limit/],
  ['zero cpus', { image: 'base', limits: { cpus: 0 } }, /Range of CPUs/],
  ['too many cpus', { image: 'base', limits: { cpus: 4096 } }, /Range of CPUs/],
  ['shares out of range', { image: 'base', limits: { cpuShares: 1 } }, /cpu shares/],
  ['pids zero', { image: 'base', limits: { pids: 0 } }, /pids limit/],
  ['unknown namespace', { image: 'base', namespaces: { wat: true } }, /unknown namespace "wat"/],
  ['unknown option', { image: 'base', gpus: 'all' }, /unknown option: gpus/],
  ['relative workdir', { image: 'base', workingDir: 'tmp' }, /absolute path/],
  ['bad hostname', { image: 'base', hostname: 'has space' }, /invalid hostname/],
  ['privileged with userns', { image: 'base', privileged: true, namespaces: { user: true } }, /incompatible with user namespaces/],
  ['no mount namespace', { image: 'base', namespaces: { mnt: false } }, /mount namespace cannot be turned off/],
  ['NUL in an argument', { image: 'base', cmd: ['a\0b'] }, /NUL/],
];

describe('container config validation', () => {
  it.each(bad)('refuses %s', (_what, input, message) => {
    expect(() => validateConfig(input)).toThrow(message);
  });

  it('accepts a full, sensible config', () => {
    const c = validateConfig({
      image: 'base',
      name: '/web-1',
      cmd: ['/bin/sh'],
      hostname: 'web',
      namespaces: { user: true, time: true },
      timeOffsets: { monotonic: 0, boottime: 3600 },
      limits: { memory: 64 << 20, memorySwap: -1, cpus: 0.5, cpuShares: 512, pids: 100 },
      restartPolicy: { name: 'on-failure', maximumRetryCount: 3 },
    });
    expect(c.name).toBe('web-1');
  });
});
