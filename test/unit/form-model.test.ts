import { describe, expect, it } from 'vitest';
import { defaultForm, fromConfig, toConfig } from '../../components/lib/form-model.js';

describe('the form model', () => {
  it('sends time offsets only with the time namespace on', () => {
    const f = { ...defaultForm('base'), boottimeOffset: 86400, monotonicOffset: 0 };
    expect(toConfig(f).timeOffsets).toBeUndefined();
    const on = { ...f, namespaces: { ...f.namespaces, time: true } };
    expect(toConfig(on)).toMatchObject({ namespaces: { time: true }, timeOffsets: { monotonic: 0, boottime: 86400 } });
  });

  it('reads offsets back from a config (a pasted line or a container to copy)', () => {
    const f = fromConfig({ image: 'base', timeOffsets: { monotonic: 5, boottime: 7 } }, defaultForm('base'));
    expect(f.namespaces.time).toBe(true);
    expect([f.monotonicOffset, f.boottimeOffset]).toEqual([5, 7]);
    expect(toConfig(f).timeOffsets).toEqual({ monotonic: 5, boottime: 7 });
  });
});
