'use client';
// A terminal that only watches: xterm.js drawing a TextFeed, no keyboard input (disableStdin), so
// nothing typed here can reach the shell it shows. The teacher's follow panel and the learners'
// broadcast panel use it.
import { useEffect, useRef } from 'react';
import type { Terminal as XTerm } from '@xterm/xterm';
import type { TextFeed } from '../lib/text-feed';
import { terminalTheme } from '../theme';

export function WatchTerminal({ feed, fontSize = 14, label, testId }: { feed: TextFeed; fontSize?: number; label: string; testId?: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let term: XTerm | null = null;
    let off = () => {};
    let disposed = false;
    const ro = new ResizeObserver(() => fit?.());
    let fit: (() => void) | null = null;
    (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);
      if (disposed || !el.current) return;
      term = new Terminal({ fontSize, disableStdin: true, cursorBlink: false, scrollback: 3000, theme: terminalTheme, fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace' });
      const f = new FitAddon();
      term.loadAddon(f);
      term.open(el.current);
      fit = () => {
        try {
          f.fit();
        } catch {
          /* hidden */
        }
      };
      fit();
      ro.observe(el.current);
      term.write(feed.contents());
      off = feed.subscribe((c) => {
        // a new screen: the reset goes through xterm's write queue (term.reset() would run before
        // what is still queued, and the old screen would be drawn after it)
        term?.write(c.reset ? `\x1bc${c.data}` : c.data);
      });
    })();
    return () => {
      disposed = true;
      off();
      ro.disconnect();
      term?.dispose();
    };
  }, [feed, fontSize]);
  return <div ref={el} role="log" aria-label={label} aria-readonly="true" className="h-full min-h-40 w-full overflow-hidden bg-slate-950 p-1" data-testid={testId} />;
}
