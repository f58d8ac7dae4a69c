// Headers every answer of the dashboard server carries (pages, API, the token page).
//
// The Content-Security-Policy allows scripts only from this origin or with this response's nonce:
// Next.js reads the nonce from the request's Content-Security-Policy header (as its middleware
// would set it) and puts it on its inline scripts; the root layout puts it on its own. Styles may
// be inline (xterm.js and the diagrams set style attributes). frame-ancestors 'none' keeps the
// dashboard out of other pages' frames (clickjacking), no-referrer keeps a URL's ?token= out of
// Referer headers, nosniff stops a JSON answer being run as a script by a <script src>, and
// Cross-Origin-Resource-Policy stops other origins embedding any of it.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request header the root layout reads the nonce from (set here, never trusted from outside). */
export const NONCE_HEADER = 'x-glassbox-nonce';

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // 'self' covers ws:// to this host:port (CSP 3): socket.io's WebSocket
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const STATIC_SECURITY_HEADERS: Record<string, string> = {
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Sets the headers on the response and hands the nonce to Next.js through the request. */
export function applySecurityHeaders(req: IncomingMessage, res: ServerResponse): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = contentSecurityPolicy(nonce);
  for (const [k, v] of Object.entries(STATIC_SECURITY_HEADERS)) res.setHeader(k, v);
  res.setHeader('content-security-policy', csp);
  req.headers['content-security-policy'] = csp;
  req.headers[NONCE_HEADER] = nonce;
  return nonce;
}
