// Registry authentication: the WWW-Authenticate challenge of a 401, and Docker's token flow.
//   401 + WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//   → GET realm?service=…&scope=…  (with Basic credentials when configured, anonymous otherwise)
//   → {"token": "…", "expires_in": 300}  → Authorization: Bearer …
// A Basic challenge takes the configured username/password directly.

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse one or more challenges: `Bearer realm="…",service="…", Basic realm="…"`. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let cur: Challenge | null = null;
  let i = 0;
  const h = header;
  while (i < h.length) {
    while (i < h.length && /[\s,]/.test(h[i])) i++;
    const tok = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(h.slice(i))?.[0];
    if (!tok) break;
    i += tok.length;
    let j = i;
    while (h[j] === ' ') j++;
    if (h[j] !== '=') {
      // a new challenge: its scheme
      cur = { scheme: tok.toLowerCase(), params: {} };
      out.push(cur);
      i = j;
      continue;
    }
    i = j + 1;
    while (h[i] === ' ') i++;
    let value = '';
    if (h[i] === '"') {
      i++;
      while (i < h.length && h[i] !== '"') {
        if (h[i] === '\\') i++;
        value += h[i] ?? '';
        i++;
      }
      i++;
    } else {
      value = /^[^,\s]*/.exec(h.slice(i))![0];
      i += value.length;
    }
    if (cur) cur.params[tok.toLowerCase()] = value;
  }
  return out;
}

export interface Credentials {
  username: string;
  password: string;
}

export function basicHeader(c: Credentials): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}
