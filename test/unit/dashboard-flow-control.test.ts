import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, FlowControl, HIGH_WATERMARK, LOW_WATERMARK, RingBuffer } from '../../server/realtime/flow-control';

describe('FlowControl', () => {
  it('pauses above the high watermark and resumes below the low one', () => {
    const f = new FlowControl(100, 10);
    expect(f.sent(60)).toBe(null);
    expect(f.sent(40)).toBe(null); // exactly at high: not above
    expect(f.sent(1)).toBe('pause');
    expect(f.isPaused).toBe(true);
    expect(f.sent(50)).toBe(null); // already paused: no second pause
    expect(f.ack(100)).toBe(null); // 51 left
    expect(f.ack(41)).toBe(null); // 10 left: not below low
    expect(f.ack(1)).toBe('resume');
    expect(f.isPaused).toBe(false);
    expect(f.pending).toBe(9);
  });

  it('ignores nonsense acks and never goes negative', () => {
    const f = new FlowControl(100, 10);
    f.sent(5);
    expect(f.ack(-3)).toBe(null);
    expect(f.ack(Number.NaN)).toBe(null);
    expect(f.ack(1000)).toBe(null);
    expect(f.pending).toBe(0);
  });

  it('reset on re-attach resumes a producer paused for a client that went away', () => {
    const f = new FlowControl(100, 10);
    f.sent(500);
    expect(f.isPaused).toBe(true);
    expect(f.reset(0)).toBe('resume');
    expect(f.reset(1000)).toBe('pause');
  });

  it('simulated yes: in-flight characters stay bounded by the watermark', () => {
    const f = new FlowControl();
    let maxPending = 0;
    let producing = true;
    const inFlight: number[] = [];
    for (let step = 0; step < 10_000; step++) {
      if (producing) {
        inFlight.push(4096);
        if (f.sent(4096) === 'pause') producing = false;
      }
      maxPending = Math.max(maxPending, f.pending);
      // the client drains one chunk every other step
      if (step % 2 === 0 && inFlight.length) if (f.ack(inFlight.shift()!) === 'resume') producing = true;
    }
    expect(maxPending).toBeLessThanOrEqual(HIGH_WATERMARK + 4096);
    expect(LOW_WATERMARK).toBeLessThan(HIGH_WATERMARK);
  });

  it('refuses inverted watermarks', () => {
    expect(() => new FlowControl(10, 100)).toThrow();
  });
});

describe('RingBuffer', () => {
  it('keeps the most recent characters only', () => {
    const r = new RingBuffer(10);
    r.push('abcdef');
    r.push('ghijkl');
    expect(r.contents()).toBe('cdefghijkl');
    expect(r.length).toBe(10);
    r.push('0123456789ABC');
    expect(r.contents()).toBe('3456789ABC');
    r.push('');
    expect(r.length).toBe(10);
  });

  it('stays bounded under many small writes', () => {
    const r = new RingBuffer(1000);
    for (let i = 0; i < 100_000; i++) r.push('y\n');
    expect(r.length).toBe(1000);
    expect(r.contents()).toBe('y\n'.repeat(500));
  });
});

describe('Batcher', () => {
  afterEach(() => vi.useRealTimers());

  it('sends the first output at once, then coalesces what follows within the delay', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const b = new Batcher((d) => out.push(d), 2);
    b.push('a'); // quiet before: out at once (a key's echo)
    expect(out).toEqual(['a']);
    b.push('b');
    b.push('c');
    expect(out).toEqual(['a']);
    vi.advanceTimersByTime(2);
    expect(out).toEqual(['a', 'bc']);
    b.push('d'); // still inside the busy window that 'bc' opened
    expect(out).toEqual(['a', 'bc']);
    vi.advanceTimersByTime(2);
    expect(out).toEqual(['a', 'bc', 'd']);
    vi.advanceTimersByTime(10); // quiet again
    b.push('e');
    expect(out).toEqual(['a', 'bc', 'd', 'e']);
  });

  it('flushes at once when the batch is large, and drops what it held on dispose', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const b = new Batcher((d) => out.push(d), 2, 4);
    b.push('x');
    b.push('ab');
    b.push('cd');
    expect(out).toEqual(['x', 'abcd']);
    b.push('e');
    b.dispose();
    vi.advanceTimersByTime(10);
    expect(out).toEqual(['x', 'abcd']);
  });
});
