// Which state-changing requests the dashboard server accepts. A page on another port of 127.0.0.1
// is the *same site* (SameSite=Strict still sends the cookie), so a learner's published port could
// serve a page that POSTs here from the teacher's browser. The API does not take the cookie at all
// (auth.ts); this gate is the second wall, for a page that got hold of the token somehow.
//
// A write (any method but GET/HEAD/OPTIONS) must
//   1. come from this origin: Origin, when sent, names the host:port the request was sent to, and
//      Sec-Fetch-Site, when sent, says same-origin. Browsers send Origin on every POST/PUT/DELETE
//      (a "null" Origin is refused too); a request without Origin is a non-browser client and
//      must then present the token in an Authorization header, which no form or simple request
//      can carry.
//   2. carry JSON (Content-Type: application/json). A cross-origin form or sendBeacon can only
//      send text/plain, urlencoded or multipart; a fetch that sends JSON cross-origin needs a
//      CORS preflight, which this server never grants.
import type { IncomingMessage } from 'node:http';
import { originMatchesHost } from './auth.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface WriteRefusal {
  status: 403 | 415;
  error: string;
}

/** The media type of Content-Type, lower case, without parameters ("" if none). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** null when the request may change state; otherwise why not. Safe methods always pass. */
export function refuseCrossSiteWrite(req: IncomingMessage): WriteRefusal | null {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return null;
  const fetchSite = req.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return { status: 403, error: `refused: a ${fetchSite} request may not change anything here (Sec-Fetch-Site: ${fetchSite})` };
  }
  if (req.headers.origin !== undefined) {
    if (!originMatchesHost(req)) return { status: 403, error: `refused: Origin ${req.headers.origin} is not this server (${req.headers.host ?? 'no Host'})` };
  } else if (!(req.headers.authorization ?? '').startsWith('Bearer ')) {
    return { status: 403, error: 'refused: a request without Origin must send the token as "Authorization: Bearer …"' };
  }
  if (mediaType(req) !== 'application/json') {
    return { status: 415, error: `refused: send JSON (Content-Type: application/json), not ${mediaType(req) || 'no Content-Type'}` };
  }
  return null;
}
