// The dashboard's colours: one module (components/theme.ts), the CSS variables equal to it, no
// colour written anywhere else, and text that reads (WCAG AA, 4.5:1) on the backgrounds it sits on.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { color, contrastRatio, cssTokens, type ColorToken } from '../../components/theme';

const repo = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('theme tokens', () => {
  it('computes WCAG contrast', () => {
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21);
    expect(contrastRatio('#777777', '#777777')).toBeCloseTo(1);
    // the timeline detail text before: Tailwind slate-500 on the page, 3.97:1
    expect(contrastRatio('#62748e', color.page)).toBeLessThan(4);
  });

  it('defines the same values as CSS variables in app/globals.css', () => {
    const css = readFileSync(join(repo, 'app', 'globals.css'), 'utf8');
    for (const [name, value] of Object.entries(cssTokens)) expect(css).toContain(`--color-gb-${name}: ${value};`);
  });

  it('is the only place a colour is written (components/ and app/)', () => {
    const hex = /#[0-9a-fA-F]{3,6}\b/;
    const offenders = [...files(join(repo, 'components')), ...files(join(repo, 'app'))]
      .filter((f) => !f.endsWith(join('components', 'theme.ts')) && !f.endsWith(join('app', 'globals.css')))
      .filter((f) => hex.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  // every text colour with the backgrounds it is drawn on
  const TEXT_ON: [ColorToken[], ColorToken[]][] = [
    [['textStrong', 'text', 'textSoft', 'textMuted', 'textFaint'], ['canvas', 'page', 'plot', 'surface', 'hostSurface']],
    [['textStrong', 'text', 'textSoft', 'textMuted', 'textFaint'], ['raised']], // the highlighted namespace row
    [['text', 'textSoft'], ['selected']], // the selected process
    [['limitText', 'dangerText', 'highlight', 'warnText', 'nsShared', 'nsOther', 'sharedStackText', 'trafficText', 'ioRead', 'ioWrite'], ['canvas', 'plot', 'surface']],
    [['warnText', 'natText', 'hostStackText'], ['hostSurface']],
    [['bridgeText', 'bridgeTextMuted'], ['bridgeFill']],
    // the creation timeline: detail, call, file and duration text in the panel, and on the bar track
    [['timelineDetail', 'okText', 'accent', 'textMuted', 'textSoft', 'text'], ['page', 'plot', 'surface', 'raised']],
    // the mount view: badges and detail lines on a mount's box, and a masked mount's
    [['mountShared', 'mountSlave', 'mountPrivate', 'mountMasked', 'mountReadOnly', 'mountBind', 'mountOverlay', 'textSoft', 'textMuted'], ['surface', 'canvas']],
    [['mountMasked', 'textMuted', 'textStrong'], ['mountMaskedFill']],
  ];
  for (const [texts, backgrounds] of TEXT_ON) {
    it(`${texts.join(', ')} read at 4.5:1 on ${backgrounds.join(', ')}`, () => {
      for (const t of texts) for (const b of backgrounds) expect({ t, b, ratio: contrastRatio(color[t], color[b]) >= 4.5 }).toEqual({ t, b, ratio: true });
    });
  }

  it('keeps the timeline detail text at 4.5:1 where it was 3.97:1', () => {
    expect(contrastRatio(color.timelineDetail, color.page)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(color.timelineDetail, color.raised)).toBeGreaterThanOrEqual(4.5);
    const timeline = readFileSync(join(repo, 'components', 'Timeline.tsx'), 'utf8');
    expect(timeline).toContain('color.timelineDetail');
    expect(timeline).not.toMatch(/text-slate-500|text-slate-600/);
  });

  it('keeps the old detail text (text-gb-faint on the page) at 4.5:1', () => {
    expect(contrastRatio(cssTokens.faint, cssTokens.page)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(cssTokens.muted, cssTokens.page)).toBeGreaterThanOrEqual(4.5);
  });

  it('keeps the glyph on an event marker readable', () => {
    for (const k of ['eventOomKill', 'eventOom', 'eventMemoryMax', 'eventLimitChanged', 'eventThrottling', 'eventForkRefused', 'eventStart', 'eventExit'] as const) {
      expect({ k, ok: contrastRatio(color.textOnMarker, color[k]) >= 4.5 }).toEqual({ k, ok: true });
    }
  });
});
