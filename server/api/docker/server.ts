// The Docker Engine API subset on a unix socket: node:http, a route table, and the version prefix.
// Every handler is a thin adapter over EngineApi; nothing here touches cgroup files or syscalls.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import type { EngineApi } from '../../engine/index.js';
import * as archive from './archive.js';
import * as build from './build.js';
import * as containers from './containers.js';
import * as housekeeping from './housekeeping.js';
import * as volumes from './volumes.js';
import { ApiError } from './errors.js';
import * as execs from './exec.js';
import { sendError, sendJson, type Ctx } from './http.js';
import * as images from './images.js';
import * as io from './io.js';
import * as networks from './networks.js';
import { AdapterState } from './state.js';
import * as system from './system.js';

type Handler = (ctx: Ctx) => void | Promise<void>;
interface Route {
  method: string;
  re: RegExp;
  handler: Handler;
}

const C = '([^/]+)'; // a container id or name
const I = '(.+?)'; // an image reference: may hold slashes and a registry port

export function routes(engine: EngineApi, state: AdapterState): Route[] {
  const r = (method: string, path: string, handler: Handler): Route => ({ method, re: new RegExp(`^${path}$`), handler });
  return [
    r('GET', '/_ping', system.ping),
    r('HEAD', '/_ping', system.ping),
    r('GET', '/version', (c) => system.version(c, engine)),
    r('GET', '/info', (c) => system.info(c, engine, { eventListeners: state.listenerCount })),
    r('GET', '/events', (c) => io.events(c, state)),

    r('POST', '/containers/create', (c) => containers.create(c, engine)),
    r('POST', '/containers/prune', (c) => housekeeping.pruneContainers(c, engine)),
    r('HEAD', `/containers/${C}/archive`, (c) => archive.archiveHead(c, engine)),
    r('GET', `/containers/${C}/archive`, (c) => archive.archiveGet(c, engine)),
    r('PUT', `/containers/${C}/archive`, (c) => archive.archivePut(c, engine)),
    r('GET', `/containers/${C}/export`, (c) => archive.exportContainer(c, engine)),
    r('GET', '/containers/json', (c) => containers.list(c, engine)),
    r('GET', `/containers/${C}/json`, (c) => containers.inspect(c, engine)),
    r('POST', `/containers/${C}/start`, (c) => containers.start(c, engine)),
    r('POST', `/containers/${C}/stop`, (c) => containers.stop(c, engine)),
    r('POST', `/containers/${C}/kill`, (c) => containers.kill(c, engine)),
    r('POST', `/containers/${C}/restart`, (c) => containers.restart(c, engine)),
    r('POST', `/containers/${C}/pause`, (c) => containers.pause(c, engine)),
    r('POST', `/containers/${C}/unpause`, (c) => containers.unpause(c, engine)),
    r('POST', `/containers/${C}/wait`, (c) => containers.wait(c, engine, state)),
    r('DELETE', `/containers/${C}`, (c) => containers.remove(c, engine)),
    r('POST', `/containers/${C}/rename`, (c) => containers.rename(c, engine)),
    r('POST', `/containers/${C}/update`, (c) => containers.update(c, engine)),
    r('GET', `/containers/${C}/top`, (c) => containers.top(c, engine)),
    r('GET', `/containers/${C}/changes`, (c) => containers.changes(c, engine)),
    r('POST', `/containers/${C}/resize`, (c) => containers.resize(c, engine, state)),
    r('POST', `/containers/${C}/attach`, (c) => io.attach(c, engine, state)),
    r('GET', `/containers/${C}/logs`, (c) => io.logs(c, engine)),
    r('GET', `/containers/${C}/stats`, (c) => io.stats(c, engine)),

    r('POST', `/containers/${C}/exec`, (c) => execs.execCreate(c, engine, state)),
    r('POST', `/exec/${C}/start`, (c) => execs.execStart(c, engine, state)),
    r('POST', `/exec/${C}/resize`, (c) => execs.execResize(c, state)),
    r('GET', `/exec/${C}/json`, (c) => execs.execInspect(c, state)),

    r('GET', '/images/json', (c) => images.listImages(c, engine)),
    r('POST', '/images/create', (c) => (c.query.get('fromSrc') !== null ? archive.importImage(c, engine) : images.pull(c, engine))),
    r('POST', '/images/prune', (c) => housekeeping.pruneImages(c, engine)),
    r('GET', `/images/${I}/json`, (c) => images.inspectImage(c, engine)),
    r('GET', `/images/${I}/history`, (c) => images.history(c, engine)),
    r('GET', '/images/get', (c) => images.save(c, engine)),
    r('GET', `/images/${I}/get`, (c) => images.save(c, engine)),
    r('POST', '/images/load', (c) => images.load(c, engine)),
    r('POST', '/commit', (c) => images.commit(c, engine)),
    r('POST', '/build', (c) => build.build(c, engine)),
    r('POST', `/images/${I}/tag`, (c) => images.tag(c, engine)),
    r('DELETE', `/images/${I}`, (c) => images.removeImage(c, engine)),

    ...['GET', 'POST', 'DELETE'].map((m) => r(m, '/((?:swarm|nodes|services|tasks|secrets|configs)(?:/.*)?)', system.swarm)),

    r('GET', '/networks', (c) => networks.listNetworks(c, engine)),
    r('POST', '/networks/create', (c) => networks.createNetwork(c, engine)),
    r('POST', '/networks/prune', (c) => networks.prune(c, engine)),
    r('GET', `/networks/${C}`, (c) => networks.inspectNetwork(c, engine)),
    r('DELETE', `/networks/${C}`, (c) => networks.removeNetwork(c, engine)),
    r('POST', `/networks/${C}/connect`, (c) => networks.connect(c, engine)),
    r('POST', `/networks/${C}/disconnect`, (c) => networks.disconnect(c, engine)),

    r('GET', '/volumes', (c) => volumes.listVolumes(c, engine)),
    r('POST', '/volumes/create', (c) => volumes.createVolume(c, engine)),
    r('POST', '/volumes/prune', (c) => volumes.pruneVolumes(c, engine)),
    r('GET', `/volumes/${C}`, (c) => volumes.inspectVolume(c, engine)),
    r('DELETE', `/volumes/${C}`, (c) => volumes.removeVolume(c, engine)),

    r('GET', '/system/df', (c) => housekeeping.systemDf(c, engine)),
    r('POST', '/build/prune', (c) => housekeeping.pruneBuildCache(c)),
  ];
}

function cmpVersion(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** Strips /vX.Y and checks X.Y against what this server speaks. */
export function splitVersion(path: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  if (!m) return { version: system.API_VERSION, path };
  const version = m[1];
  if (cmpVersion(version, system.MIN_API_VERSION) < 0) {
    throw new ApiError(400, `client version ${version} is too old. Minimum supported API version is ${system.MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (cmpVersion(version, system.MAX_API_VERSION) > 0) {
    throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${system.MAX_API_VERSION}`);
  }
  return { version, path: m[2] };
}

/** A path parameter, decoded; a broken %XX is the client's error (400), not a URIError 500. */
function decodeParam(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new ApiError(400, `malformed percent-encoding in the path: ${p}`);
  }
}

export function makeDispatcher(table: Route[]) {
  return async (req: IncomingMessage, target: { res?: ServerResponse; socket?: Duplex; head?: Buffer }): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://docker');
    const ctx: Ctx = { req, res: target.res, socket: target.socket, head: target.head, params: [], query: url.searchParams, apiVersion: system.API_VERSION };
    try {
      const { version, path } = splitVersion(url.pathname);
      ctx.apiVersion = version;
      let methodMismatch = false;
      for (const route of table) {
        const m = route.re.exec(path);
        if (!m) continue;
        if (route.method !== req.method) {
          methodMismatch = true;
          continue;
        }
        ctx.params = m.slice(1).map(decodeParam);
        await route.handler(ctx);
        return;
      }
      if (methodMismatch && !path.startsWith('/images/') && !path.startsWith('/containers/')) {
        return sendJson(ctx, 405, { message: `method ${req.method} not allowed on ${path}` });
      }
      sendJson(ctx, 404, { message: 'page not found' });
    } catch (e) {
      const headersSent = ctx.res?.headersSent ?? false;
      if (headersSent) {
        ctx.res!.end();
        return;
      }
      sendError(ctx, e);
    }
  };
}

export const DEFAULT_SOCKET = '/run/glassbox/docker.sock';

/** Is something answering on this socket path? (then it is not stale) */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startDockerApi(
  engine: EngineApi,
  opts: { socketPath?: string } = {},
): Promise<{ close(): Promise<void>; socketPath: string }> {
  const socketPath = opts.socketPath ?? process.env.GLASSBOX_DOCKER_SOCK ?? DEFAULT_SOCKET;
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
  if (existsSync(socketPath)) {
    if (!lstatSync(socketPath).isSocket()) throw new Error(`${socketPath} exists and is not a socket: refusing to replace it`);
    if (await socketAlive(socketPath)) throw new Error(`another server is listening on ${socketPath}`);
    unlinkSync(socketPath); // stale, from a server that died
  }
  const state = new AdapterState(engine);
  const dispatch = makeDispatcher(routes(engine, state));
  const server = createServer((req, res) => void dispatch(req, { res }));
  // No idle timeout on keep-alive connections, as dockerd has none. The docker CLI's transport
  // keeps idle connections without a limit and does not retry a DELETE or POST that fails on one,
  // so a server that closes an idle connection races the client's next request on it: the request
  // lands on a closing socket and the CLI prints "connection reset by peer" (docker rm -f of 500
  // did, when the timer fired late behind a busy event loop). The client closes them: it exits.
  server.keepAliveTimeout = 0;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    void dispatch(req, { socket, head });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{"message":"malformed HTTP request"}\n');
  });
  // keep-alive sockets of clients would hold close() open
  const sockets = new Set<Duplex>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const oldMask = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(socketPath, 0o660);
  try {
    chownSync(socketPath, 0, 0);
  } catch {
    /* not root: the socket stays the current user's (tests, development) */
  }
  return {
    socketPath,
    close: async () => {
      state.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      try {
        unlinkSync(socketPath);
      } catch {
        /* already gone */
      }
    },
  };
}
