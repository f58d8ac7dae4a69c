// The dashboard's token: made at start, printed as a ready-to-click URL.
//
// Two credentials, because a cookie is sent to *every port* of its host: a learner's server on a
// published port of 127.0.0.1 receives the dashboard's cookie whenever the teacher's browser opens
// that port. So the cookie is only a page key (an HMAC of the token, HttpOnly, SameSite=Strict):
// it lets the browser load the dashboard's pages, which hold no data. The API and socket.io take
// the token itself: `Authorization: Bearer …` (or ?token=, for first visits and scripts), and
// socket.io's handshake `auth.token`. The dashboard keeps the token in localStorage, which is
// per origin (port included), and sends it on every call. socket.io also checks Origin = Host.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'glassbox_page';
/** where the dashboard's scripts keep the token (localStorage key and URL #fragment name) */
export const TOKEN_STORAGE_KEY = 'glassbox-token';

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

/** What the page cookie holds: derived from the token, and no use as one. */
export function pageKey(token: string): string {
  return createHmac('sha256', token).update('glassbox page cookie v1').digest('base64url');
}

/** The token a request presents (Bearer header first, then ?token=), or null. */
export function presentedToken(req: IncomingMessage): string | null {
  const b = bearer(req);
  if (b) return b;
  return new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
}

function bearer(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null;
}

/** For /api/ and socket.io: the token itself, as a Bearer header or ?token= — never a cookie.
 * Either one right is enough (a stale one must not hide the other after a restart). */
export function apiAuthorized(req: IncomingMessage, token: string): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  return sameToken(bearer(req), token) || sameToken(url.searchParams.get('token'), token);
}

/** For the dashboard's pages and assets: the page cookie, or the token as the API takes it. */
export function pageAuthorized(req: IncomingMessage, token: string): boolean {
  return hasPageCookie(req, token) || apiAuthorized(req, token);
}

export function hasPageCookie(req: IncomingMessage, token: string): boolean {
  return sameToken(parseCookies(req.headers.cookie)[COOKIE], pageKey(token));
}

export function pageCookie(token: string): string {
  return `${COOKIE}=${pageKey(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * A learner's page cookie: "L.<learner id>.<HMAC>", keyed by a secret the server keeps on disk, so
 * it outlives a restart as the learner's session does. Like the teacher's, it only lets pages load;
 * the API wants the learner's token (which the cookie does not hold: every port of the host gets it).
 */
export function learnerPageKey(secret: Buffer, learnerId: string): string {
  return `L.${learnerId}.${createHmac('sha256', secret).update(`glassbox learner page v1:${learnerId}`).digest('base64url')}`;
}

export function learnerPageCookie(secret: Buffer, learnerId: string): string {
  return `${COOKIE}=${learnerPageKey(secret, learnerId)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The learner id a valid learner page cookie names, or null. */
export function learnerOfPageCookie(req: IncomingMessage, secret: Buffer): string | null {
  const v = parseCookies(req.headers.cookie)[COOKIE];
  const m = v ? /^L\.([a-z0-9]{4,32})\./.exec(v) : null;
  return m && sameToken(v, learnerPageKey(secret, m[1])) ? m[1] : null;
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
