// HTTP for the registry client over node:http/https, with redirects followed by hand: the
// Authorization header goes only to the origin it was meant for (a blob redirected to a CDN or
// another host:port never sees the registry token), and plain http is allowed only where the
// policy says so (loopback, or a registry listed as insecure).
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** the URL that answered, after redirects */
  url: URL;
  body: IncomingMessage;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** the origin ("https://host:port") that may receive the Authorization header */
  authOrigin?: string;
  /** may this URL be fetched over plain http? */
  allowHttp: (url: URL) => boolean;
  timeoutMs?: number;
  maxRedirects?: number;
  /** extra TLS trust (tests, private CAs) */
  ca?: string | Buffer;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function once(url: URL, opts: RequestOptions, headers: Record<string, string>): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      { method: opts.method ?? 'GET', headers: { 'User-Agent': 'glassbox/0.1', ...headers }, ...(opts.ca && url.protocol === 'https:' ? { ca: opts.ca } : {}) },
      (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res }),
    );
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new HttpError(`${url.host}: no answer within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)}s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET/HEAD with redirects handled here; the caller reads (or drains) the body. */
export async function request(start: URL, opts: RequestOptions): Promise<HttpResponse> {
  let url = start;
  const max = opts.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HttpError(`refusing ${url.protocol} URL ${url.href}`);
    if (url.protocol === 'http:' && !opts.allowHttp(url)) {
      throw new HttpError(`refusing plain http to ${url.host}: only loopback registries and those listed as insecure may use http`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      // credentials stay with their origin; everything else travels
      if (k.toLowerCase() === 'authorization' && url.origin !== opts.authOrigin) continue;
      headers[k] = v;
    }
    const res = await once(url, opts, headers);
    if (!REDIRECTS.has(res.status)) return res;
    res.body.resume();
    const loc = res.headers.location;
    if (!loc) throw new HttpError(`${url.host} answered ${res.status} without a Location`, res.status);
    if (hop >= max) throw new HttpError(`too many redirects (more than ${max}) from ${start.href}`);
    url = new URL(loc, url);
  }
}

/** The whole body, refusing more than `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.body.destroy();
      throw new HttpError(`${res.url.host}: response larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
