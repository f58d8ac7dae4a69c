// Detach keys (docker attach / docker exec: ctrl-p ctrl-q, or --detach-keys): the daemon watches
// the client's stdin for the sequence, and on it leaves the container running and closes the
// connection. Bytes that only begin the sequence are held until the next byte says whether it
// goes on; the sequence itself never reaches the container. Format as Docker's: "ctrl-p,ctrl-q",
// a key is one character or ctrl-<a..z, @, [, \, ], ^, _>.
import { badRequest } from './errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim();
    const m = /^ctrl-(.)$/i.exec(k);
    if (m) {
      const c = m[1].toLowerCase();
      const code = /[a-z]/.test(c) ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c];
      if (code === undefined) throw badRequest(`Invalid escape keys (${spec}) provided: unknown key ${k}`);
      out.push(code);
    } else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw badRequest(`Invalid escape keys (${spec}) provided: unknown key ${k}`);
  }
  if (!out.length) throw badRequest(`Invalid escape keys (${spec}) provided`);
  return Buffer.from(out);
}

/** feed() gives back what goes to the container, and whether the sequence was typed. */
export function detachScanner(keys: Buffer): (data: Buffer) => { pass: Buffer; detached: boolean } {
  let matched = 0; // how many bytes of the sequence are held
  return (data) => {
    const pass: number[] = [];
    for (const b of data) {
      if (b === keys[matched]) {
        matched++;
        if (matched === keys.length) return { pass: Buffer.from(pass), detached: true };
        continue;
      }
      // the held bytes were not the sequence after all: they go on, then this byte is looked at again
      for (let i = 0; i < matched; i++) pass.push(keys[i]);
      matched = b === keys[0] ? 1 : 0;
      if (!matched) pass.push(b);
    }
    return { pass: Buffer.from(pass), detached: false };
  };
}

/** Stdin without a TTY: every byte goes through, nothing detaches. */
export const passThrough = (data: Buffer): { pass: Buffer; detached: boolean } => ({ pass: data, detached: false });
