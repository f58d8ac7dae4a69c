// The Dockerfile's small shell language for instruction arguments (not RUN's: the shell in the
// container does that): words split at blanks outside quotes, then each word's quotes removed and
// its variables replaced — $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt}, ${VAR+alt},
// ${VAR:?message}. The escape character (\ unless `# escape=` said `) escapes the next one.
// Docker's moby/buildkit frontend/dockerfile/shell is the model; errors are thrown as plain
// Errors and the parser adds the line number.

/** What a variable lookup sees: ENV of the image so far, then the ARGs in effect. */
export type Vars = ReadonlyMap<string, string>;

/**
 * Split into words at unquoted blanks, keeping quotes and escapes in each word (expandWord
 * removes them): `a "b c" d\ e` → [`a`, `"b c"`, `d\ e`].
 */
export function splitWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === null && /\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === escape && quote !== "'" && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (quote === null && (c === '"' || c === "'")) quote = c;
    else if (quote === c) quote = null;
    cur += c;
  }
  if (quote !== null) throw new Error(`unterminated ${quote === '"' ? 'double' : 'single'} quote in: ${text}`);
  if (inWord) words.push(cur);
  return words;
}

const NAME_START = /[A-Za-z_]/;
const NAME = /[A-Za-z0-9_]/;

/** One word: quotes removed, escapes applied, variables replaced. */
export function expandWord(word: string, vars: Vars, escape = '\\'): string {
  return new Expander(word, vars, escape).run();
}

/** Every word of the text, expanded (COPY's sources, EXPOSE's ports, VOLUME's paths…). */
export function expandWords(text: string, vars: Vars, escape = '\\'): string[] {
  return splitWords(text, escape).map((w) => expandWord(w, vars, escape));
}

class Expander {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly vars: Vars,
    private readonly esc: string,
  ) {}

  run(): string {
    return this.until(null);
  }

  /** Read until `stop` (a '}' ending a ${…} default) at this level, or the end. */
  private until(stop: string | null): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (stop !== null && c === stop) return out;
      if (c === this.esc) {
        this.i++;
        if (this.i < this.s.length) out += this.s[this.i++];
        else out += c; // a trailing escape stays itself
      } else if (c === "'") {
        const end = this.s.indexOf("'", this.i + 1);
        if (end < 0) throw new Error(`unterminated single quote in: ${this.s}`);
        out += this.s.slice(this.i + 1, end);
        this.i = end + 1;
      } else if (c === '"') {
        this.i++;
        out += this.doubleQuoted();
      } else if (c === '$') {
        out += this.variable();
      } else {
        out += c;
        this.i++;
      }
    }
    if (stop !== null) throw new Error(`missing '}' in: ${this.s}`);
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === this.esc && this.i + 1 < this.s.length && ['"', '$', this.esc].includes(this.s[this.i + 1])) {
        out += this.s[this.i + 1];
        this.i += 2;
      } else if (c === '$') {
        out += this.variable();
      } else {
        out += c;
        this.i++;
      }
    }
    throw new Error(`unterminated double quote in: ${this.s}`);
  }

  /** At a '$': the variable's value (or the '$' itself when no name follows). */
  private variable(): string {
    this.i++; // '$'
    if (this.s[this.i] === '{') {
      this.i++;
      const start = this.i;
      while (this.i < this.s.length && NAME.test(this.s[this.i])) this.i++;
      const name = this.s.slice(start, this.i);
      if (!name || !NAME_START.test(name[0])) throw new Error(`bad substitution: missing a variable name after \${ in: ${this.s}`);
      if (this.s[this.i] === '}') {
        this.i++;
        return this.vars.get(name) ?? '';
      }
      if (this.i >= this.s.length) throw new Error(`missing '}' in: ${this.s}`);
      let op = this.s[this.i];
      if (op === ':') op += this.s[++this.i] ?? '';
      if (!/^:?[-+?]$/.test(op)) throw new Error(`bad substitution: unsupported modifier "${op}" in: ${this.s}`);
      this.i++;
      const word = this.until('}');
      this.i++; // '}'
      const value = this.vars.get(name);
      const set = op.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      switch (op.slice(-1)) {
        case '-':
          return set ? value! : word;
        case '+':
          return set ? word : '';
        default: // '?'
          if (!set) throw new Error(`${name}: ${word || 'parameter not set'}`);
          return value!;
      }
    }
    const start = this.i;
    if (this.i < this.s.length && NAME_START.test(this.s[this.i])) {
      while (this.i < this.s.length && NAME.test(this.s[this.i])) this.i++;
      return this.vars.get(this.s.slice(start, this.i)) ?? '';
    }
    return '$';
  }
}

/**
 * `KEY=VALUE KEY2="a b"` (ENV, LABEL, ARG's default), or the old `ENV KEY value with spaces` form.
 * Keys and values are expanded.
 */
export function parseKeyValues(text: string, vars: Vars, escape: string, instruction: string): [string, string][] {
  const words = splitWords(text, escape);
  if (!words.length) throw new Error(`${instruction} requires at least one argument`);
  if (!words[0].includes('=')) {
    // the legacy form: one key, the rest of the line is its value
    if (instruction === 'LABEL') throw new Error(`LABEL requires KEY=VALUE pairs: ${text}`);
    const rest = text.trim().slice(words[0].length).trim();
    if (!rest) throw new Error(`${instruction} names ${words[0]} without a value (write ${words[0]}=VALUE)`);
    return [[expandWord(words[0], vars, escape), expandWord(rest, vars, escape)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new Error(`${instruction} expects KEY=VALUE, got: ${w}`);
    return [expandWord(w.slice(0, eq), vars, escape), expandWord(w.slice(eq + 1), vars, escape)];
  });
}
