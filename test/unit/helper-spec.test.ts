import { describe, expect, it } from 'vitest';
import { decodeField, encodeField } from '../../server/engine/runtime/helper-spec.js';
import { mountFlags } from '../../server/engine/runtime/spec.js';

describe('helper spec fields', () => {
  it('round-trips spaces, newlines, percent signs and UTF-8', () => {
    for (const s of ['plain', 'two words', 'line\nbreak', '100%', 'tab\there', 'ünïcødé ✓', '', '%20 literal']) {
      const enc = encodeField(s);
      expect(enc).not.toMatch(/[ \n\t]/);
      expect(decodeField(enc)).toBe(s);
    }
  });

  it('refuses a NUL byte', () => {
    expect(() => encodeField('a\0b')).toThrow(/NUL/);
  });
});

describe('mount option words', () => {
  it('turns words into MS_* flags and keeps the rest as data', () => {
    expect(mountFlags(['nosuid', 'noexec', 'nodev'])).toEqual({ flags: 2 | 8 | 4, data: '' });
    expect(mountFlags(['nosuid', 'strictatime', 'mode=755', 'size=65536k'])).toEqual({ flags: 2 | 0x1000000, data: 'mode=755,size=65536k' });
    expect(mountFlags(['rbind', 'ro'])).toEqual({ flags: 0x1000 | 0x4000 | 1, data: '' });
  });
});
