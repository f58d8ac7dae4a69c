'use client';
// One browser terminal: xterm.js <-> the "terminal" socket.io channel <-> an exec session.
// Flow control: every chunk written to xterm is acknowledged from xterm's write callback, so the
// server knows how much is still being parsed and pauses the process when the page falls behind.
// Local echo (lib/local-echo.ts, on unless switched off): a typed character is drawn at once and
// its echo from the shell recognised; every write to xterm goes through it so it knows the screen.
import { useEffect, useRef } from 'react';
import type { Terminal as XTerm } from '@xterm/xterm';
import { channel } from './lib/client';
import { LocalEcho, type TerminalView } from './lib/local-echo';
import { typed } from './lib/typing-stillness';
import { terminalTheme } from './theme';

const INPUT_CHUNK = 256 * 1024;

export interface TerminalProps {
  /** null while the container is being made: xterm is ready at once and awaits the session the create request starts */
  containerId: string | null;
  sessionId: string;
  active: boolean;
  fontSize: number;
  /** draw typed characters before their echo arrives (see lib/local-echo.ts) */
  localEcho?: boolean;
  onEnded?: (reason: string) => void;
  /** the terminal's size, each time it is fitted (the dashboard asks for its next shell at this size) */
  onSize?: (cols: number, rows: number) => void;
}

export function Terminal({ containerId, sessionId, active, fontSize, localEcho = true, onEnded, onSize }: TerminalProps) {
  const el = useRef<HTMLDivElement>(null);
  const termRef = useRef<XTerm | null>(null);
  const fitRef = useRef<{ fit(): void } | null>(null);
  const endedRef = useRef(onEnded);
  endedRef.current = onEnded;
  const sizeRef = useRef(onSize);
  sizeRef.current = onSize;
  const activeRef = useRef(active);
  activeRef.current = active;
  const containerRef = useRef(containerId);
  containerRef.current = containerId;
  /** opens (or re-attaches) the session; null until xterm exists */
  const openRef = useRef<(() => void) | null>(null);
  const openedRef = useRef(false);
  const localEchoRef = useRef(localEcho);
  localEchoRef.current = localEcho;
  /** switches local echo on/off in the live terminal (writes the undo of pending predictions) */
  const setEchoRef = useRef<((on: boolean) => void) | null>(null);

  useEffect(() => {
    let disposed = false;
    let ended = false;
    openedRef.current = false;
    const sock = channel('terminal');
    const cleanups: (() => void)[] = [];

    (async () => {
      const [{ Terminal: XTermCtor }, { FitAddon }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);
      if (disposed || !el.current) return;
      const term = new XTermCtor({
        fontSize,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace',
        // A steady cursor. A blinking one restarts its animation at every key press (xterm shows
        // it solid again), a change on screen: Chromium then renders that frame first and holds
        // the shell's echo, already arrived, behind it, so without local echo every character came
        // one frame (16 ms) later. (It was also motion for a learner who asked for less.)
        cursorBlink: false,
        scrollback: 5000,
        convertEol: false,
        screenReaderMode: false,
        theme: terminalTheme,
      });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(el.current);
      termRef.current = term;
      fitRef.current = fit;
      try {
        fit.fit();
      } catch {
        /* hidden */
      }
      sizeRef.current?.(term.cols, term.rows);

      const ack = (chars: number) => {
        if (!disposed) sock.emit('ack', { sessionId, chars });
      };
      // Everything written to xterm goes through here: local echo needs to know whether xterm's
      // cursor is up to date (nothing in flight) when a key is pressed.
      const echo = new LocalEcho({ enabled: localEchoRef.current });
      let inFlight = 0;
      const write = (text: string, done?: () => void) => {
        if (!text) return done?.();
        inFlight++;
        term.write(text, () => {
          inFlight--;
          done?.();
        });
      };
      /** server output and our own notes alike: the local echo sees all of it, in order */
      const show = (text: string, done?: () => void) => write(echo.onOutput(text), done);
      const view = (): TerminalView => {
        const b = term.buffer.active;
        return {
          cursorX: b.cursorX,
          cols: term.cols,
          alternateScreen: b.type === 'alternate',
          textRightOfCursor: (b.getLine(b.baseY + b.cursorY)?.translateToString(true, b.cursorX) ?? '').trimEnd(),
          writesInFlight: inFlight,
        };
      };
      setEchoRef.current = (on) => write(echo.setEnabled(on));
      const expiry = setInterval(() => write(echo.expire()), 100);
      const onData = (m: { sessionId: string; data: string }) => {
        if (m.sessionId !== sessionId || disposed) return;
        // for the latency benchmark: when output last arrived (before xterm draws it on the next frame)
        (window as unknown as { __glassboxTermData?: number }).__glassboxTermData = performance.now();
        const chars = m.data.length; // the server counts what it sent, whatever local echo drops
        show(m.data, () => ack(chars));
      };
      const onExit = (m: { sessionId: string; reason: string; code: number | null }) => {
        if (m.sessionId !== sessionId || ended) return;
        ended = true;
        show(`\r\n\x1b[2m[session ended: ${m.reason}${m.code !== null && m.code !== undefined ? `, exit code ${m.code}` : ''}]\x1b[0m\r\n`);
        endedRef.current?.(m.reason);
      };
      const open = () => {
        const containerId = containerRef.current;
        if (ended || disposed) return;
        openedRef.current = true;
        // no container yet (the dashboard's new one is being made): await the session its create
        // request starts, so the shell's prompt flows here the moment it is printed
        sock.emit(
          containerId ? 'open' : 'await',
          { sessionId, ...(containerId ? { containerId } : {}), cols: term.cols, rows: term.rows },
          (res: { ok: boolean; error?: string; replay?: string; reattached?: boolean }) => {
            if (disposed) return;
            if (!res.ok) {
              ended = true;
              show(`\r\n\x1b[31m[${res.error}]\x1b[0m\r\n`);
              endedRef.current?.(res.error ?? 'failed');
              return;
            }
            if (res.replay) {
              const r = res.replay;
              echo.reset();
              term.reset();
              show(r, () => ack(r.length));
            }
          },
        );
      };
      sock.on('data', onData);
      sock.on('exit', onExit);
      sock.on('connect', open);
      openRef.current = open;
      if (sock.connected) open();
      else if (!sock.active) sock.connect();

      // keys only: a terminal's own answers (ash asks for the cursor position at every prompt) are data too
      const keySub = term.onKey(() => typed());
      const dataSub = term.onData((d) => {
        // the prediction (if any) is drawn before the key leaves: it reads the screen as it is now
        const predicted = echo.onInput(d, view());
        if (predicted) {
          write(predicted);
          // how many keys were drawn ahead of their echo (shown to tests and the benchmark)
          el.current?.setAttribute('data-predicted', String(echo.stats.predicted));
        }
        for (let i = 0; i < d.length; i += INPUT_CHUNK) sock.emit('input', { sessionId, data: d.slice(i, i + INPUT_CHUNK) });
      });
      const resizeSub = term.onResize(({ cols, rows }) => {
        // a reflow may move predicted characters where the undo cannot find them: take them back
        write(echo.setEnabled(false));
        echo.setEnabled(localEchoRef.current);
        sock.emit('resize', { sessionId, cols, rows });
        sizeRef.current?.(cols, rows);
      });
      // Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes (Ctrl+C stays SIGINT)
      term.attachCustomKeyEventHandler((ev) => {
        if (ev.type !== 'keydown' || !ev.ctrlKey || !ev.shiftKey) return true;
        if (ev.code === 'KeyC') {
          const sel = term.getSelection();
          if (sel) void navigator.clipboard?.writeText(sel).catch(() => {});
          ev.preventDefault();
          return false;
        }
        if (ev.code === 'KeyV') {
          void navigator.clipboard
            ?.readText()
            .then((t) => t && term.paste(t))
            .catch(() => {});
          ev.preventDefault();
          return false;
        }
        return true;
      });
      const ro = new ResizeObserver(() => {
        try {
          if (el.current && el.current.offsetWidth > 0) fit.fit();
        } catch {
          /* hidden */
        }
      });
      ro.observe(el.current);
      if (activeRef.current) term.focus();

      cleanups.push(() => {
        sock.off('data', onData);
        sock.off('exit', onExit);
        sock.off('connect', open);
        openRef.current = null;
        setEchoRef.current = null;
        clearInterval(expiry);
        dataSub.dispose();
        keySub.dispose();
        resizeSub.dispose();
        ro.disconnect();
        // leaving the page is not closing the terminal: the server keeps it for a reload
        if (!ended) sock.emit('detach', { sessionId });
        term.dispose();
        termRef.current = null;
      });
    })();

    return () => {
      disposed = true;
      for (const c of cleanups) c();
    };
    // fontSize changes are applied below without a new session; containerId is read through its
    // ref: learning it later opens the session (next effect), it does not make a new terminal
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sessionId]);

  useEffect(() => {
    // (a terminal that awaited its session is open already: the server attached it)
    if (containerId && !openedRef.current) openRef.current?.();
  }, [containerId]);

  useEffect(() => {
    setEchoRef.current?.(localEcho);
  }, [localEcho]);

  useEffect(() => {
    const term = termRef.current;
    if (!term) return;
    term.options.fontSize = fontSize;
    try {
      fitRef.current?.fit();
    } catch {
      /* hidden */
    }
  }, [fontSize]);

  useEffect(() => {
    if (!active) return;
    const t = setTimeout(() => {
      try {
        fitRef.current?.fit();
      } catch {
        /* hidden */
      }
      termRef.current?.focus();
    }, 0);
    return () => clearTimeout(t);
  }, [active]);

  // inactive tabs stay laid out (invisible, not display:none): a hidden element loses its scroll
  // position, and xterm would then show the top of its scrollback when the tab comes back
  return <div ref={el} data-session={sessionId} data-active={active ? 'true' : 'false'} aria-hidden={!active} className={`absolute inset-2 ${active ? 'z-10' : 'invisible pointer-events-none'}`} />;
}
