// A terminal's output as it arrives, for a terminal that only watches (follow, broadcast): what
// came so far (the last `capacity` characters, so a panel opened later draws the same screen) and
// the listeners drawing it now. `reset` starts a new screen (the broadcast switched terminals).
export interface FeedChunk {
  data: string;
  reset: boolean;
}

export class TextFeed {
  private text = '';
  private readonly listeners = new Set<(c: FeedChunk) => void>();

  constructor(readonly capacity = 256 * 1024) {}

  push(data: string, reset = false): void {
    this.text = reset ? data : this.text + data;
    if (this.text.length > this.capacity) this.text = this.text.slice(-this.capacity);
    for (const l of this.listeners) l({ data, reset });
  }

  contents(): string {
    return this.text;
  }

  subscribe(l: (c: FeedChunk) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
