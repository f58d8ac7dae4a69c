// Predictive local echo (the idea of mosh's predictions and VS Code's terminal typeahead).
//
// Over a slow network every key press takes a round trip before its character appears: the browser
// sends the key to the container's shell, the shell (or the tty) echoes it back, and only then does
// xterm draw it. This module draws a typed character at once ("a prediction"), recognises the echo
// when it arrives (and drops it, so the character is not drawn twice), and erases the prediction
// when the program's output says something else.
//
// Guessing is only worth it if a wrong guess can never stay on the screen and a secret can never be
// shown, so the module is deliberately timid:
//  - it predicts one printable ASCII character at a time, only at the end of the line (so that
//    "erase to the end of the line" can only ever erase our own characters), never on the
//    alternate screen (vi, less, top draw the screen themselves), never into a wrap;
//  - it predicts only while the program has *shown* that it echoes what is typed ("trust"), and it
//    forgets that trust at every Enter, control key, paste, contradiction, timeout, and at any
//    output nobody typed for (a new prompt). A password prompt echoes nothing, so once it is up no
//    trust is ever regained there and nothing typed is ever drawn.
// What remains is a coincidence: output that arrives just after a key and consists of exactly
// that key (say a prompt split in two chunks whose second chunk is the letter just typed) looks
// like an echo. Spaces and the other usual prompt endings are never taken as proof for that reason.
// Even then a wrong prediction is erased by the next output or after timeoutMs.
//
// It is pure logic: no DOM, no xterm. The caller reads a few facts from xterm (TerminalView) at the
// moment of the key press and writes whatever the methods return, in order, and routes *all*
// output through onOutput (or calls reset() before writing around it).

/** What the caller reads from xterm at the moment of a key press. */
export interface TerminalView {
  /** where xterm's cursor is now and what the line looks like, read at the moment of the key press */
  cursorX: number; // 0-based column
  cols: number; // terminal width
  alternateScreen: boolean; // full-screen programs (vi, less, top): never predict there
  textRightOfCursor: string; // what the current line holds from the cursor to its end (trailing blanks trimmed)
  writesInFlight: number; // output handed to xterm and not parsed yet (cursor state is stale if > 0)
}

export interface LocalEchoOptions {
  /** erase predictions the program did not confirm within this many ms (default 1000) */
  timeoutMs?: number;
  now?: () => number; // for tests
  /** start with predictions on (default true) */
  enabled?: boolean;
}

export interface LocalEchoStats {
  /** characters drawn ahead of their echo */
  predicted: number;
  /** predicted characters whose echo arrived as predicted */
  confirmed: number;
  /** predicted characters erased again (contradicted, expired, or turned off) */
  undone: number;
}

/** Erases n characters we drew just left of the cursor: back n columns, then erase to the end of the line. */
export function undoSequence(n: number): string {
  return n > 0 ? `\x1b[${n}D\x1b[K` : '';
}

/** A key sent to the program whose echo we expect. */
interface Typed {
  ch: string;
  /** when it was typed (now()) */
  at: number;
}

interface Prediction extends Typed {
  /** the trust epoch it was made in: confirming it re-establishes trust only if no trust was lost since */
  epoch: number;
}

// Where xterm's parser is in the output stream. A chunk of output may end in the middle of an escape
// sequence ("\x1b[3" ... "1m"); a character we wrote then would be swallowed as part of that
// sequence (xterm would read "\x1b[3a" — a cursor movement), so we predict only in the ground state.
type StreamState =
  | 'ground'
  | 'escape' // after ESC
  | 'escapeIntermediate' // ESC followed by 0x20–0x2f (e.g. "ESC (" charset selection)
  | 'csi' // ESC [ … (parameters until a final byte 0x40–0x7e)
  | 'osc' // ESC ] … (a title etc., ends with BEL or ST)
  | 'controlString' // DCS, SOS, PM, APC: end only with ST (ESC \)
  | 'stringEscape'; // an ESC inside osc/controlString: ST if a backslash follows

const isPrintableAscii = (c: number) => c >= 0x20 && c <= 0x7e;

// The characters prompts end with ("$ ", "# ", "> ", "Password: "). When a prompt reaches the page
// in two chunks and the user has just typed its last character (a space, typically), the second
// chunk looks exactly like the echo of that key. An echo that ends with one of these therefore earns
// no trust: the next key's echo will.
const PROMPT_TAIL = new Set([' ', ':', '#', '$', '>', '%']);

function allPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isPrintableAscii(s.charCodeAt(i))) return false;
  return true;
}

/** Advances the escape-sequence state over `text` (a small subset of the DEC/VT500 parser that xterm implements). */
function advanceStream(state: StreamState, text: string): StreamState {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // CAN and SUB abort any sequence, anywhere
    if (c === 0x18 || c === 0x1a) {
      state = 'ground';
      continue;
    }
    if (state === 'stringEscape') {
      if (c === 0x5c) {
        state = 'ground'; // ESC \ = ST: the string is over
        continue;
      }
      state = 'escape'; // any other ESC x aborts the string and starts a new escape sequence
    }
    switch (state) {
      case 'ground':
        if (c === 0x1b) state = 'escape';
        else if (c === 0x9b) state = 'csi'; // 8-bit C1 forms
        else if (c === 0x9d) state = 'osc';
        else if (c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) state = 'controlString';
        break;
      case 'escape':
        if (c === 0x5b) state = 'csi';
        else if (c === 0x5d) state = 'osc';
        else if (c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) state = 'controlString';
        else if (c >= 0x20 && c <= 0x2f) state = 'escapeIntermediate';
        else if (c >= 0x30 && c <= 0x7e) state = 'ground';
        // ESC again restarts; other C0 controls are executed without leaving the sequence
        break;
      case 'escapeIntermediate':
        if (c >= 0x30 && c <= 0x7e) state = 'ground';
        else if (c === 0x1b) state = 'escape';
        break;
      case 'csi':
        if (c >= 0x40 && c <= 0x7e) state = 'ground';
        else if (c === 0x1b) state = 'escape';
        break;
      case 'osc':
        if (c === 0x07 || c === 0x9c) state = 'ground';
        else if (c === 0x1b) state = 'stringEscape';
        break;
      case 'controlString':
        // unlike OSC, BEL does not end a DCS in xterm: treating it as an end would let us write into it
        if (c === 0x9c) state = 'ground';
        else if (c === 0x1b) state = 'stringEscape';
        break;
    }
  }
  return state;
}

export class LocalEcho {
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private enabled: boolean;

  /** the program has shown, since the last Enter/control key/surprise, that it echoes plain keys */
  private trust = false;
  /** bumped whenever trust is lost, so that a late confirmation of an older prediction cannot restore it */
  private epoch = 0;

  // The echoes we expect, in the order the program will send them: first `predictions`, then `owed`,
  // then `unechoed` (each key was typed after the ones before it).

  /** characters we drew and whose echo has not arrived, oldest first */
  private predictions: Prediction[] = [];
  /**
   * Printable keys typed *before* the last loss of trust, not drawn, whose echo may still arrive
   * (typed ahead of an Enter, predictions taken back, a plain paste). Their late echo proves nothing
   * about what comes after the Enter: without this, typing "su⏎s" quickly would take the echo of
   * "su" for the echo of the password's "s" and start drawing the password.
   */
  private owed: Typed[] = [];
  /**
   * Printable keys typed since the last loss of trust that we did not draw, whose echo has not
   * arrived. Their echo (exactly these characters, and nothing after them) is what earns trust.
   * Nothing is predicted while any is outstanding: a prediction would be drawn where their echo belongs.
   */
  private unechoed: Typed[] = [];
  /**
   * Keys whose echo we stopped tracking because the output went another way (a password typed
   * ahead, output interleaved with the echo). Their echo may still turn up later and could then be
   * mistaken for the echo of a newer key, so no trust is earned before this time: every key typed
   * before it is then older than timeoutMs, and an echo that slow is taken as never coming.
   */
  private lostUntil = Number.NEGATIVE_INFINITY;

  /**
   * Where xterm's cursor will be once everything we returned so far is parsed, when we know it (we
   * drew a prediction and have returned nothing but confirmations since). It lets us predict the
   * next key while our own previous prediction is still in xterm's write queue (the view's cursor is
   * stale then). null: only the view, with nothing in flight, tells where the cursor is.
   */
  private expectedX: number | null = null;

  private stream: StreamState = 'ground';
  /** the last output ended with the first half of a surrogate pair: a character is incomplete */
  private splitChar = false;

  private readonly counts: LocalEchoStats = { predicted: 0, confirmed: 0, undone: 0 };

  constructor(opts: LocalEchoOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.now = opts.now ?? (() => Date.now());
    this.enabled = opts.enabled ?? true;
  }

  /** number of predicted characters drawn and not yet confirmed */
  get pending(): number {
    return this.predictions.length;
  }

  /** statistics for the UI/benchmark: predictions made, confirmed, undone (a copy) */
  get stats(): LocalEchoStats {
    return { ...this.counts };
  }

  /** whether the program is currently trusted to echo (the next plain key may be predicted) */
  get trusted(): boolean {
    return this.trust;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** turn predictions on/off (off: onInput never predicts, pending ones are dropped with their undo sequence returned) */
  setEnabled(on: boolean): string {
    this.enabled = on;
    if (on) return '';
    // their echo will still arrive and will then be drawn like any output; trust is about the
    // program, not about our drawing, so it is kept
    const taken = this.predictions;
    const undo = this.undoPredictions();
    this.owed = [...taken, ...this.owed, ...this.unechoed];
    this.unechoed = [];
    return undo;
  }

  /**
   * The user typed `data` (xterm's onData). Returns the text to write to the terminal immediately
   * ('' = no prediction). The caller still sends `data` to the server unchanged. Read `view` before
   * writing anything for this key.
   */
  onInput(data: string, view: TerminalView): string {
    if (data === '') return '';

    if (view.alternateScreen) {
      // A full-screen program draws what it likes where it likes: there is no echo to predict.
      // Anything still pending was drawn on the normal screen before the switch (normally the
      // switch itself would already have contradicted it in onOutput).
      const undo = this.undoPredictions();
      this.abandonAll();
      return undo;
    }

    if (data.length !== 1 || !isPrintableAscii(data.charCodeAt(0))) {
      // Enter, Tab, Backspace, Ctrl-keys, arrows (ESC sequences), non-ASCII, pastes: what the
      // program answers is unknowable (a new prompt, a completion, a password prompt...), so stop
      // predicting until it proves again that it echoes. Pending predictions stay pending: the
      // program echoes them before it reacts to this key.
      this.loseTrust();
      // a plain-text paste will probably be echoed: owe it, so that its echo is not taken for the
      // echo of a key typed after it
      if (data.length > 1 && allPrintableAscii(data)) {
        const at = this.now();
        for (const ch of data) this.owed.push({ ch, at });
      }
      return '';
    }

    const x = this.predictionColumn(view);
    if (x === null) {
      this.unechoed.push({ ch: data, at: this.now() });
      return '';
    }
    this.predictions.push({ ch: data, at: this.now(), epoch: this.epoch });
    this.expectedX = x + 1;
    this.counts.predicted++;
    return data;
  }

  /**
   * Output from the server. Returns what must be written to the terminal instead (confirmed
   * predictions removed, an undo sequence prepended when a prediction was wrong).
   */
  onOutput(data: string): string {
    if (data === '') return '';
    let i = 0;
    let undo = '';
    while (this.predictions.length > 0 && i < data.length) {
      const p = this.predictions[0];
      if (data[i] !== p.ch) {
        // The program wrote something other than what we drew (another character, a colour escape,
        // a redraw, unrelated output). Erase our guesses, then let the real output draw. Output is
        // split only after the confirmed prefix, which is plain printable text, so the undo never
        // lands inside an escape sequence.
        this.abandon(this.predictions);
        undo = this.undoPredictions();
        this.abandonAll();
        break;
      }
      // the echo of a character already on the screen: drop it instead of drawing it again
      this.predictions.shift();
      this.counts.confirmed++;
      i++;
      if (p.epoch === this.epoch) this.trust = true;
    }
    const rest = i === 0 ? data : data.slice(i);
    if (rest === '') return undo;

    const explained = undo ? 0 : this.matchUnpredicted(rest);
    if (explained < rest.length) {
      // Output nobody typed for: a new prompt, a message, a redraw. The program may have changed
      // how it treats keys (an ssh password prompt appears without any Enter from us), so it has
      // to show again that it echoes.
      this.loseTrust();
    }
    // xterm's cursor now depends on what this output does: only the view can tell again
    this.expectedX = null;
    this.stream = advanceStream(this.stream, rest);
    const last = rest.charCodeAt(rest.length - 1);
    this.splitChar = last >= 0xd800 && last <= 0xdbff;
    return undo + rest;
  }

  /** call periodically (e.g. every 100 ms): returns an undo sequence for predictions older than timeoutMs, or '' */
  expire(): string {
    const oldest = this.predictions[0];
    if (!oldest || this.now() - oldest.at <= this.timeoutMs) return '';
    // No echo in time: the program may not echo after all (or the network stalls). A guess must
    // not stay on the screen on its own, and we should not guess again until it echoes again.
    // A late echo is still recognised (owed), and then drawn as output.
    const taken = this.predictions;
    const undo = this.undoPredictions();
    this.owed = [...taken, ...this.owed];
    this.loseTrust();
    return undo;
  }

  /** the terminal was reset / a replay is about to be written: forget everything, nothing to undo (the screen is redrawn) */
  reset(): void {
    // The echo of keys in transit may still arrive after the replay: it must not be taken as proof
    // that a key typed after the reset was echoed.
    this.abandon(this.predictions);
    this.predictions = [];
    this.abandonAll();
    this.expectedX = null;
    this.stream = 'ground';
    this.splitChar = false;
  }

  /** The column to draw the key at, or null when predicting it would not be safe. */
  private predictionColumn(view: TerminalView): number | null {
    if (!this.enabled || !this.trust) return null;
    // echoes we still wait for come first in the output; a prediction drawn now would sit where they belong
    if (this.unechoed.length > 0 || this.owed.length > 0) return null;
    // the last output stopped mid escape sequence or mid character: our character would become part of it
    if (this.stream !== 'ground' || this.splitChar) return null;
    // Text right of the cursor (the rest of a command line being edited, a shell's grey
    // autosuggestion): the echo may shift or redraw it, and our undo ("erase to the end of the
    // line") would erase it.
    if (view.textRightOfCursor !== '') return null;
    let x: number;
    if (view.writesInFlight === 0) {
      x = view.cursorX;
      if (this.expectedX !== null && this.expectedX !== x) {
        // the cursor moved without us seeing why (something wrote to xterm behind our back):
        // our model of the line is wrong, so do not build on it
        this.expectedX = null;
        return null;
      }
    } else if (this.expectedX !== null) {
      x = this.expectedX; // everything in flight is our own predictions: our arithmetic is exact
    } else {
      return null; // the program's output is still being parsed: the view's cursor is stale
    }
    // Stop one column short of the edge: a character in the last column leaves xterm in a "wrap
    // pending" state, and one more would wrap to the next line, where our undo cannot reach.
    if (x + 1 >= view.cols) return null;
    return x;
  }

  /**
   * After the predictions, the output continues with the echo of keys we did not draw: first those
   * owed from before the last loss of trust (which prove nothing), then this epoch's (which earn
   * trust when they come back exactly as typed). Returns how many characters of `out` are such echoes.
   */
  private matchUnpredicted(out: string): number {
    let j = 0;
    while (this.owed.length > 0 && j < out.length) {
      if (out[j] !== this.owed[0].ch) {
        // The owed echo is not coming now (a password typed ahead of Enter, or other output came
        // first), and keys typed since cannot earn trust from what follows.
        this.abandonAll();
        return j;
      }
      this.owed.shift();
      j++;
    }
    if (this.unechoed.length === 0 || j === out.length) return j;
    let k = 0;
    while (k < this.unechoed.length && j < out.length && out[j] === this.unechoed[k].ch) {
      j++;
      k++;
    }
    if (k < this.unechoed.length && j < out.length) {
      // the keys came back as something else (no echo, "*", colours, other output first)
      this.abandonAll();
      return j;
    }
    this.unechoed.splice(0, k); // all echoed, or the chunk ended inside the echo: the rest comes next
    // Trust, if the output is exactly the echo (the caller checks that nothing follows it), does
    // not end like a prompt, was drawn as text (not swallowed by an escape sequence left open
    // before it), and no key whose echo we lost track of could still be behind it.
    const earns =
      this.unechoed.length === 0 &&
      j === out.length &&
      !PROMPT_TAIL.has(out[j - 1]) &&
      this.stream === 'ground' &&
      !this.splitChar &&
      this.now() >= this.lostUntil;
    if (earns) this.trust = true;
    return j;
  }

  /** Stops trusting the echo; unechoed keys of this epoch become owed (their echo still comes first). */
  private loseTrust(): void {
    this.trust = false;
    this.epoch++;
    this.owed.push(...this.unechoed);
    this.unechoed = [];
  }

  /** Stops tracking these keys: their echo may turn up late, so no trust is earned until it is too late for that. */
  private abandon(keys: readonly Typed[]): void {
    for (const k of keys) this.lostUntil = Math.max(this.lostUntil, k.at + this.timeoutMs);
  }

  /** The output is not what we modelled: forget every expected echo and stop trusting. */
  private abandonAll(): void {
    this.abandon(this.owed);
    this.abandon(this.unechoed);
    this.owed = [];
    this.unechoed = [];
    this.trust = false;
    this.epoch++;
  }

  private undoPredictions(): string {
    const n = this.predictions.length;
    if (n === 0) return '';
    this.predictions = [];
    this.counts.undone += n;
    this.expectedX = null;
    return undoSequence(n);
  }
}
