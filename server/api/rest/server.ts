// The dashboard's HTTP front: one http.Server carrying the token check, REST under /api, socket.io
// (channels "containers" and "terminal") and the Next.js app (custom server).
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { Server as IoServer } from 'socket.io';
import next from 'next';
import type { Engine } from '../../engine/index.js';
import { formatLoadErrors, loadLabs } from '../../labs/loader.js';
import { LabSessions } from '../../labs/sessions.js';
import { registerLabChannel } from '../../realtime/labs.js';
import { handleLabRequest } from './labs.js';
import { containersChannel } from '../../realtime/containers.js';
import { terminalChannel, type TerminalChannel } from '../../realtime/terminal.js';
import { apiAuthorized, hasPageCookie, originMatchesHost, pageAuthorized, pageCookie, sameToken, TOKEN_REQUIRED_HTML, TOKEN_STORAGE_KEY } from './auth.js';
import { handleRest, sendJson } from './routes.js';
import { InspectHub } from '../../engine/index.js';
import { registerDiagramChannels } from '../../realtime/diagrams.js';
import { handleDiagramRequest } from './diagrams.js';
import { handleImagePullRequest } from './image-pull.js';
import { applySecurityHeaders } from './security-headers.js';
import { refuseCrossSiteWrite } from './write-guard.js';
import { attachClusterAdapter } from '../../realtime/cluster-adapter.js';

export interface WebServerOptions {
  engine: Engine;
  /** the labs folder (default: the repository's labs/) */
  labsDir?: string;
  token: string;
  host: string;
  port: number;
  dev?: boolean;
  /** the Next.js project directory */
  dir: string;
  quiet?: boolean;
}

export interface WebServer {
  http: HttpServer;
  io: IoServer;
  terminals: TerminalChannel;
  port: number;
  close(): Promise<void>;
}

function unauthorized(req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (url.pathname.startsWith('/api/') || !(req.headers.accept ?? '').includes('text/html')) {
    sendJson(res, 401, { error: 'token required' });
    return;
  }
  res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(TOKEN_REQUIRED_HTML);
}

/** Does every %XX in the path decode (as UTF-8)? A broken one is the client's error, not a 500. */
export function wellEncoded(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const { engine, token } = opts;
  const http = createServer();
  const app = next({ dev: !!opts.dev, hostname: opts.host, port: opts.port, httpServer: http, dir: opts.dir, quiet: opts.quiet });
  await app.prepare();
  const handle = app.getRequestHandler();

  // the diagrams' data: one hub reading the kernel for every page that watches
  const diagrams = new InspectHub(engine);
  // the labs: a broken one is named in the log and left out, the others load
  const loaded = await loadLabs(opts.labsDir);
  for (const line of formatLoadErrors(loaded.errors)) console.warn(`glassbox: lab left out: ${line}`);
  const labs = new LabSessions({ engine, hub: diagrams, labs: loaded.labs });

  http.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Next's own socket for hot reload in dev shares the port; socket.io checks its own requests
    if (url.pathname.startsWith('/socket.io/')) return;
    applySecurityHeaders(req, res);
    // the API wants the token itself; a page may also come with the page cookie (see auth.ts)
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
    if (!(isApi ? apiAuthorized(req, token) : pageAuthorized(req, token))) return unauthorized(req, res, url);
    // one gate for every write, whoever handles it below (REST, image pull, diagrams, Next)
    const refused = refuseCrossSiteWrite(req);
    if (refused) {
      // the teacher should see it: a page somewhere tried to write through their browser
      console.warn(`glassbox: refused ${req.method} ${url.pathname.slice(0, 200)} (Origin ${req.headers.origin ?? 'none'}): ${refused.error}`);
      req.resume();
      return sendJson(res, refused.status, { error: refused.error });
    }
    if (!wellEncoded(url.pathname)) {
      req.resume();
      return sendJson(res, 400, { error: `malformed percent-encoding in the path: ${url.pathname}` });
    }
    if (url.searchParams.has('token') && req.method === 'GET' && !isApi) {
      // first visit: drop the token from the address bar. The page's scripts get it in the
      // #fragment (never sent to a server; the root layout moves it into localStorage at once),
      // the browser gets the page cookie. Only a right ?token= is handed on: a wrong one that came
      // with a valid page cookie (which every port of this host receives) gets the clean URL only.
      const given = url.searchParams.get('token');
      url.searchParams.delete('token');
      const fragment = sameToken(given, token) ? `#${TOKEN_STORAGE_KEY}=${token}` : '';
      const headers: Record<string, string> = { location: url.pathname + (url.search || '') + fragment, 'cache-control': 'no-store' };
      if (!hasPageCookie(req, token)) headers['set-cookie'] = pageCookie(token);
      res.writeHead(303, headers);
      res.end();
      return;
    }
    if (handleDiagramRequest(req, res, diagrams)) return;
    if (handleImagePullRequest(engine, req, res, url)) return;
    if (handleLabRequest(labs, req, res, url)) return;
    if (url.pathname.startsWith('/api/')) {
      void handleRest(engine, req, res, url);
      return;
    }
    void handle(req, res);
  });

  const io = new IoServer(http, {
    path: '/socket.io',
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 1e6,
    allowRequest: (req, cb) => {
      // a browser always sends Origin on a WebSocket: another site's page cannot borrow the cookie
      if (!originMatchesHost(req)) return cb('origin not allowed', false);
      // a first filter: the dashboard's page cookie, or the token (Node clients: query or header);
      // the namespaces below want the token itself
      if (pageAuthorized(req, token)) return cb(null, true);
      cb('token required', false);
    },
  });
  // a node of several (deploy/): rooms span every node through Redis; Redis down stops the start
  const closeCluster = process.env.GLASSBOX_REDIS_URL ? await attachClusterAdapter(io, process.env.GLASSBOX_REDIS_URL) : async () => {};
  // every namespace wants the token itself: handshake auth (the dashboard), ?token= or Bearer;
  // the page cookie is not enough (a learner's port receives it too)
  const check = (socket: import('socket.io').Socket, nextFn: (err?: Error) => void) => {
    const req = socket.request;
    const auth = (socket.handshake.auth as { token?: string } | undefined)?.token;
    if (apiAuthorized(req, token) || sameToken(auth, token)) return nextFn();
    nextFn(new Error('token required'));
  };
  io.use(check);
  registerDiagramChannels(io, diagrams);
  registerLabChannel(io, labs);
  io.of('/containers').use(check);
  io.of('/terminal').use(check);

  const containers = containersChannel(io, engine);
  const terminals = terminalChannel(io, engine);

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;

  return {
    http,
    io,
    terminals,
    port,
    async close() {
      labs.close();
      diagrams.close();
      containers.close();
      await terminals.close();
      await new Promise<void>((r) => io.close(() => r()));
      await closeCluster();
      http.closeAllConnections?.();
      await new Promise<void>((r) => http.close(() => r()));
      await app.close?.();
    },
  };
}
