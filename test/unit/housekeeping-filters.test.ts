// Prune filters (until, label, label!) and docker import's --change lines, without a kernel.
import { describe, expect, it } from 'vitest';
import { labelsMatch, parseLabelFilter, parseUntil } from '../../server/engine/housekeeping/filters.js';
import { applyChanges } from '../../server/engine/files/changes.js';

describe('prune filters', () => {
  it('until: unix seconds, RFC 3339 and Go durations; anything else named', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(parseUntil('1700000000', now)).toBe(1_700_000_000_000);
    expect(parseUntil('1700000000.5', now)).toBe(1_700_000_000_500);
    expect(parseUntil('2026-11-30T12:00:00Z', now)).toBe(Date.parse('2026-11-30T12:00:00Z'));
    expect(parseUntil('24h', now)).toBe(now - 86_400_000);
    expect(parseUntil('1h30m', now)).toBe(now - 5_400_000);
    expect(() => parseUntil('yesterday', now)).toThrow(/until=yesterday/);
  });

  it('label= must all match, label!= none', () => {
    const l = { tier: 'web', keep: '' };
    expect(labelsMatch(l, [parseLabelFilter('tier')])).toBe(true);
    expect(labelsMatch(l, [parseLabelFilter('tier=web'), parseLabelFilter('keep')])).toBe(true);
    expect(labelsMatch(l, [parseLabelFilter('tier=db')])).toBe(false);
    expect(labelsMatch(l, [parseLabelFilter('keep', true)])).toBe(false);
    expect(labelsMatch(l, [parseLabelFilter('tier=db', true)])).toBe(true);
    expect(() => parseLabelFilter('=x')).toThrow(/label key is required/);
  });
});

describe('--change', () => {
  it('applies CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL', () => {
    const c = applyChanges({ Env: ['A=1'] }, [
      'CMD ["sh", "-c", "echo hi"]',
      'ENTRYPOINT /bin/run',
      'ENV A=2 B="two words"',
      'ENV C three',
      'LABEL x=y',
      'EXPOSE 80 53/udp',
      'VOLUME /data /logs',
      'WORKDIR /srv',
      'USER nobody',
      'STOPSIGNAL SIGINT',
    ]);
    expect(c).toEqual({
      Cmd: ['sh', '-c', 'echo hi'],
      Entrypoint: ['/bin/sh', '-c', '/bin/run'],
      Env: ['A=2', 'B=two words', 'C=three'],
      Labels: { x: 'y' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {}, '/logs': {} },
      WorkingDir: '/srv',
      User: 'nobody',
      StopSignal: 'SIGINT',
    });
  });

  it('refuses what it does not apply, by name', () => {
    expect(() => applyChanges({}, ['RUN rm -rf /'])).toThrow(/RUN is not supported/);
    expect(() => applyChanges({}, ['CMD ["unterminated"'])).toThrow(/not a JSON array/);
    expect(() => applyChanges({}, ['EXPOSE eighty'])).toThrow(/invalid port "eighty"/);
    expect(() => applyChanges({}, ['CMD'])).toThrow(/expected an instruction and its argument/);
  });
});
