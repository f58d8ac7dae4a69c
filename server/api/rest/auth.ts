// The dashboard's token: made at start, printed as a ready-to-click URL, required on every request
// (HTTP and socket.io). First visit with ?token=… sets an HttpOnly SameSite=Strict cookie; API
// clients may send `Authorization: Bearer …`. socket.io also checks that Origin matches Host.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'glassbox_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** The token this request presents: Bearer header, then cookie, then ?token= (in that order). */
export function presentedToken(req: IncomingMessage, url: URL): { token: string | null; fromQuery: boolean } {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), fromQuery: false };
  const c = parseCookies(req.headers.cookie)[COOKIE];
  if (c) return { token: c, fromQuery: false };
  const q = url.searchParams.get('token');
  if (q) return { token: q, fromQuery: true };
  return { token: null, fromQuery: false };
}

export function isAuthorized(req: IncomingMessage, token: string): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = presentedToken(req, url);
  // a wrong cookie must not hide a right ?token= (a new server after a restart)
  if (sameToken(p.token, token)) return true;
  const q = url.searchParams.get('token');
  return sameToken(q, token);
}

export function tokenCookie(token: string): string {
  return `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Origin must be present and name the same host:port the request was sent to. */
export function originMatchesHost(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host === host;
  } catch {
    return false;
  }
}

export const TOKEN_REQUIRED_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Glassbox: token required</title>
<style>body{font:20px/1.5 system-ui,sans-serif;background:#0b1020;color:#e2e8f0;display:grid;place-items:center;min-height:100vh;margin:0}
main{max-width:40rem;padding:2rem;border:1px solid #334155;border-radius:1rem;background:#111827}code{color:#7dd3fc}</style></head>
<body><main><h1>Token required</h1><p>This Glassbox server needs its access token. Open the URL the server printed when it
started (<code>http://…/?token=…</code>), or read it from <code>/run/glassbox/web-token</code> on the host.</p></main></body></html>`;
