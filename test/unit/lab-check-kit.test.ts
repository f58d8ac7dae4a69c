// The labs' shared helpers: CapEff decoding, the disk under a path, and the {{scratch}} bind source.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaps, diskOf } from '../../server/labs/check-kit.js';
import { scratchMounts } from '../../server/labs/sessions.js';

describe('decodeCaps', () => {
  it("names Docker's default set", () => {
    expect(decodeCaps('00000000a80425fb').sort()).toEqual(
      ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'].sort(),
    );
    expect(decodeCaps('0000000000200000')).toEqual(['SYS_ADMIN']);
    expect(decodeCaps('0000000000000000')).toEqual([]);
  });
});

describe('diskOf', () => {
  it('gives the major:minor of the filesystem under a path (a missing path: its nearest parent)', () => {
    const d = diskOf('/no/such/dir/below/root');
    expect(d.major).toBeGreaterThanOrEqual(0);
    expect(d.minor).toBeGreaterThanOrEqual(0);
    expect(diskOf('/')).toEqual(d);
  });
});

describe('scratchMounts', () => {
  it('replaces {{scratch}} and makes a named directory 1777; other mounts pass unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbt-scratch-'));
    const scratch = join(dir, 'labs', 'sid', 'scratch');
    try {
      const out = scratchMounts(
        [
          { type: 'bind', source: '{{scratch}}', target: '/a' },
          { type: 'bind', source: '{{scratch}}/shared', target: '/b' },
          { type: 'tmpfs', target: '/c' },
          { type: 'bind', source: '/etc', target: '/d' },
        ],
        scratch,
      );
      expect(out?.map((m) => m.source)).toEqual([scratch, join(scratch, 'shared'), undefined, '/etc']);
      expect(statSync(join(scratch, 'shared')).mode & 0o7777).toBe(0o1777);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a path that is not one plain name after {{scratch}}', () => {
    for (const source of ['{{scratch}}/../etc', '{{scratch}}/a/b', '{{scratch}}x', '{{scratch}}/.hidden'])
      expect(() => scratchMounts([{ type: 'bind', source, target: '/x' }], '/nonexistent'), source).toThrow(/takes one plain directory name/);
  });
});
