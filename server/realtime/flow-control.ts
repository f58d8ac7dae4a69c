// Flow control for browser terminals (the xterm.js watermark scheme) and the bounded replay buffer.
//
// The server counts characters sent to the browser and not yet acknowledged (the browser acks from
// xterm's write callback, once the characters are parsed and drawn). Above HIGH it pauses the exec
// process (stops reading its pty), below LOW it resumes. So a `yes` can never bury the page under
// megabytes of backlog, and Ctrl-C is answered quickly: at most HIGH characters are in flight.

export const HIGH_WATERMARK = 100_000;
export const LOW_WATERMARK = 10_000;

export type FlowAction = 'pause' | 'resume' | null;

export class FlowControl {
  private unacked = 0;
  private paused = false;

  constructor(
    readonly high = HIGH_WATERMARK,
    readonly low = LOW_WATERMARK,
  ) {
    if (!(low >= 0 && high > low)) throw new Error('flow control needs 0 <= low < high');
  }

  get pending(): number {
    return this.unacked;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** `chars` were sent: returns 'pause' when the producer must stop. */
  sent(chars: number): FlowAction {
    this.unacked += chars;
    if (!this.paused && this.unacked > this.high) {
      this.paused = true;
      return 'pause';
    }
    return null;
  }

  /** The client has processed `chars`: returns 'resume' when the producer may go on. */
  ack(chars: number): FlowAction {
    if (!Number.isFinite(chars) || chars <= 0) return null;
    this.unacked = Math.max(0, this.unacked - Math.floor(chars));
    if (this.paused && this.unacked < this.low) {
      this.paused = false;
      return 'resume';
    }
    return null;
  }

  /** A new client was attached (page reload): forget what the old one never acked. */
  reset(pendingChars = 0): FlowAction {
    this.unacked = Math.max(0, pendingChars);
    if (this.paused && this.unacked < this.low) {
      this.paused = false;
      return 'resume';
    }
    if (!this.paused && this.unacked > this.high) {
      this.paused = true;
      return 'pause';
    }
    return null;
  }
}

/** The most recent output of a terminal, at most `capacity` characters, for replay after a reload. */
export class RingBuffer {
  private chunks: string[] = [];
  private size = 0;

  constructor(readonly capacity = 256 * 1024) {}

  get length(): number {
    return this.size;
  }

  push(s: string): void {
    if (!s) return;
    if (s.length >= this.capacity) {
      this.chunks = [s.slice(s.length - this.capacity)];
      this.size = this.capacity;
      return;
    }
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.capacity) {
      const first = this.chunks[0];
      const over = this.size - this.capacity;
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.slice(over);
        this.size -= over;
      }
    }
    // keep the chunk count small so a replay is one cheap join
    if (this.chunks.length > 512) this.chunks = [this.chunks.join('')];
  }

  contents(): string {
    return this.chunks.join('');
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}

/**
 * 2 ms batching with a leading edge: the first output after a quiet moment goes out at once (a
 * key's echo is not delayed), and whatever follows within `delayMs` is collected and handed over
 * in one piece: a burst of small pty reads becomes one socket message.
 */
export class Batcher {
  private buf: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flush: (data: string) => void,
    readonly delayMs = 2,
    readonly maxChars = 64 * 1024,
  ) {}

  push(s: string): void {
    if (!s) return;
    if (!this.timer) {
      // quiet until now: send at once, then collect for delayMs
      this.flush(s);
      this.timer = setTimeout(() => this.tick(), this.delayMs);
      return;
    }
    this.buf.push(s);
    this.size += s.length;
    if (this.size >= this.maxChars) this.emit();
  }

  private emit(): void {
    if (!this.buf.length) return;
    const data = this.buf.length === 1 ? this.buf[0] : this.buf.join('');
    this.buf = [];
    this.size = 0;
    this.flush(data);
  }

  private tick(): void {
    this.timer = null;
    if (!this.buf.length) return;
    this.emit();
    // still busy: keep batching
    this.timer = setTimeout(() => this.tick(), this.delayMs);
  }

  /** hand over what is held now */
  drain(): void {
    this.emit();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buf = [];
    this.size = 0;
  }
}
