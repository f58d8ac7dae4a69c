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
import { classroomChannel } from '../../realtime/classroom.js';
import { hasPageCookie, learnerOfPageCookie, originMatchesHost, pageCookie, presentedToken, sameToken, TOKEN_REQUIRED_HTML, TOKEN_STORAGE_KEY } from './auth.js';
import { Classroom } from '../../classroom/classroom.js';
import type { Principal } from '../../classroom/principal.js';
import { ClassroomRoutes } from './classroom.js';
import { handleRest, sendJson } from './routes.js';
import { InspectHub, type DiagramHub } from '../../engine/index.js';
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
  classroom: Classroom;
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

/**
 * Pages anyone may load: the join page and the build's static files (they hold no data; the join
 * page must load before its visitor has any credential).
 */
export function isPublicPage(pathname: string): boolean {
  return pathname === '/join' || pathname.startsWith('/join/') || pathname.startsWith('/_next/static/') || pathname === '/favicon.ico';
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const { engine, token } = opts;
  /** The principal a request's token names (Bearer, ?token=), or null. */
  const principalOf = (req: IncomingMessage): Principal | null => classroom.principalFor(presentedToken(req));
  /** Pages load with a page cookie (the teacher's, or a learner's whose session is good) or a token. */
  const pageAllowed = (req: IncomingMessage): boolean => {
    if (hasPageCookie(req, token)) return true;
    const lid = learnerOfPageCookie(req, classroom.pageSecret);
    return (lid !== null && classroom.store.isActive(lid)) || principalOf(req) !== null;
  };
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
  // a learner's sandbox, when reset, revoked or idle, loses their lab sessions too
  const classroom = new Classroom({ engine, isTeacherToken: (t) => sameToken(t, token), labs });
  /** The diagrams a principal sees: the teacher the whole host, a learner their own cut of it. */
  const hubOf = (p: Principal): DiagramHub => (p.role === 'learner' ? diagrams.forLearner(p.engine) : diagrams);
  // sockets per learner, for the roster's "online" and for closing a revoked learner's sockets
  const learnerSockets = new Map<string, Set<import('socket.io').Socket>>();
  const classroomRoutes = new ClassroomRoutes(classroom, (lid) => learnerSockets.get(lid)?.size ?? 0);

  http.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Next's own socket for hot reload in dev shares the port; socket.io checks its own requests
    if (url.pathname.startsWith('/socket.io/')) return;
    applySecurityHeaders(req, res);
    // the API wants a token itself (the teacher's or a learner's); a page may also come with a page
    // cookie (see auth.ts); joining a class needs nothing yet
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
    const principal = isApi ? principalOf(req) : null;
    const open = isApi ? url.pathname === '/api/join' : isPublicPage(url.pathname);
    if (!open && !(isApi ? principal !== null : pageAllowed(req))) return unauthorized(req, res, url);
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
    if (principal?.role === 'learner') classroom.touch(principal.learner.id);
    if (classroomRoutes.handle(principal, req, res, url)) return;
    if (!isApi) return void handle(req, res);
    if (!principal) return unauthorized(req, res, url);
    if (handleDiagramRequest(req, res, hubOf(principal))) return;
    if (handleImagePullRequest(principal.engine, req, res, url)) return;
    if (principal.role === 'learner') {
      if (handleLabRequest(labs, req, res, url, principal.engine, classroom.store.getClass(principal.classId).labs)) return;
    } else if (handleLabRequest(labs, req, res, url)) return;
    // a shell made with the container is that principal's session (its socket finds it by id)
    void handleRest(principal.engine, req, res, url, {
      terminals: { refuse: (id) => terminals.refusePrepare(principal, id), prepare: (t) => terminals.prepare(principal, t) },
    });
    return;
  });

  const io = new IoServer(http, {
    path: '/socket.io',
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 1e6,
    allowRequest: (req, cb) => {
      // a browser always sends Origin on a WebSocket: another site's page cannot borrow the cookie
      if (!originMatchesHost(req)) return cb('origin not allowed', false);
      // a first filter: a page cookie (the teacher's or a learner's), or a token (Node clients:
      // query or header); the namespaces below want a token itself
      if (pageAllowed(req)) return cb(null, true);
      cb('token required', false);
    },
  });
  // a node of several (deploy/): rooms span every node through Redis; Redis down stops the start
  const closeCluster = process.env.GLASSBOX_REDIS_URL ? await attachClusterAdapter(io, process.env.GLASSBOX_REDIS_URL) : async () => {};
  // every namespace wants a token itself: handshake auth (the dashboard), ?token= or Bearer; the
  // page cookie is not enough (a learner's port receives it too). The socket keeps its principal:
  // every channel serves it through principal.engine.
  const check = (socket: import('socket.io').Socket, nextFn: (err?: Error) => void) => {
    const auth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const principal = principalOf(socket.request) ?? (typeof auth === 'string' ? classroom.principalFor(auth) : null);
    if (!principal) return nextFn(new Error('token required'));
    socket.data.principal = principal;
    if (principal.role === 'learner') {
      const lid = principal.learner.id;
      classroom.touch(lid);
      let set = learnerSockets.get(lid);
      if (!set) learnerSockets.set(lid, (set = new Set()));
      set.add(socket);
      socket.on('disconnect', () => {
        set.delete(socket);
        if (!set.size) learnerSockets.delete(lid);
      });
      // anything a learner sends is activity: the idle clock starts again
      socket.onAny(() => classroom.touch(lid));
    }
    nextFn();
  };
  // a revoked learner (or one whose class ended) is disconnected everywhere at once
  classroom.on('revoked', (lid) => {
    for (const s of learnerSockets.get(lid) ?? []) s.disconnect(true);
  });
  const principalOfSocket = (socket: { data: { principal?: Principal } }): Principal => {
    const p = socket.data.principal;
    if (!p) throw new Error('socket without a principal: the auth middleware did not run');
    return p;
  };
  io.use(check);
  // the diagrams and the labs: a learner's socket gets their own cut and their own sessions
  registerDiagramChannels(io, (socket) => hubOf(principalOfSocket(socket as import('socket.io').Socket)));
  registerLabChannel(io, labs, (socket) => {
    const p = principalOfSocket(socket as import('socket.io').Socket);
    return p.role === 'learner' ? p.engine : undefined;
  });
  io.of('/containers').use(check);
  io.of('/terminal').use(check);

  const containers = containersChannel(io, engine, principalOfSocket);
  const terminals = terminalChannel(io, engine, principalOfSocket);
  // the roster, follow, broadcast and the learners' notices (idle, removed, followed)
  io.of('/classroom').use(check);
  const classroomLive = classroomChannel({ io, classroom, terminals, principalOf: principalOfSocket, online: (lid) => learnerSockets.get(lid)?.size ?? 0 });

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
    classroom,
    port,
    async close() {
      classroom.close();
      classroomLive.close();
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
