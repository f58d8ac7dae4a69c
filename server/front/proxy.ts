// Passing a request, or a WebSocket, on to one Glassbox node: the front's only way of talking to
// nodes. Host and Origin go on unchanged, because each node's write guard compares the two (the
// browser's Origin is the front's address, and so is the Host it sent); hop-by-hop headers stop
// here; X-Forwarded-For gets the client's address appended.
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GlassboxNode } from './nodes.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** A pool of kept-alive connections to the nodes: a new TCP handshake per request is waste. */
export function nodeAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32 });
}

/** The request's headers as they go to the node. */
export function forwardHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = new Set((req.headers.connection ?? '').split(',').map((s) => s.trim().toLowerCase()));
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  const client = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
  out['x-forwarded-proto'] ??= 'http';
  return out;
}

/** The node's response headers as they go to the client (its Set-Cookie lines all kept). */
function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = new Set((typeof headers.connection === 'string' ? headers.connection : '').split(',').map((s) => s.trim().toLowerCase()));
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

export class NodeUnreachable extends Error {
  constructor(
    readonly node: GlassboxNode,
    cause: Error,
  ) {
    super(`node ${node.key} is not reachable: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`);
  }
}

/** Streams the request to the node and its answer back, untouched. */
export function pipeRequest(agent: Agent, req: IncomingMessage, res: ServerResponse, node: GlassboxNode, onError: (e: NodeUnreachable) => void): void {
  const up = request({ host: node.hostname, port: node.port, method: req.method, path: req.url, headers: forwardHeaders(req), agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer.headers));
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  up.on('error', (e) => (res.headersSent ? res.destroy() : onError(new NodeUnreachable(node, e))));
  // the client gave up: so does the node's side (a long image pull, a log stream)
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

export interface NodeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The most the front reads of an answer it looks into (a class, a join): far above real ones. */
export const MAX_INSPECTED_ANSWER = 1 << 20;

/** Sends `body` (already read) with the request's headers, and reads the whole answer. */
export function exchange(agent: Agent, req: IncomingMessage, node: GlassboxNode, body: Buffer, path = req.url ?? '/', method = req.method ?? 'GET'): Promise<NodeAnswer> {
  return new Promise((resolve, reject) => {
    const headers = forwardHeaders(req);
    headers['content-length'] = String(body.length);
    const up = request({ host: node.hostname, port: node.port, method, path, headers, agent }, (answer) => {
      const parts: Buffer[] = [];
      let size = 0;
      answer.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_INSPECTED_ANSWER) return answer.destroy(new Error(`answer over ${MAX_INSPECTED_ANSWER} bytes`));
        parts.push(d);
      });
      answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(parts) }));
      answer.on('error', (e) => reject(new NodeUnreachable(node, e)));
    });
    up.on('error', (e) => reject(new NodeUnreachable(node, e)));
    up.end(body);
  });
}

/** Writes an answer read by exchange() to the client, with more Set-Cookie lines if given. */
export function sendAnswer(res: ServerResponse, a: NodeAnswer, extraSetCookie: string[] = []): void {
  const headers = responseHeaders(a.headers);
  if (extraSetCookie.length) {
    const had = headers['set-cookie'];
    headers['set-cookie'] = [...(Array.isArray(had) ? had : had ? [String(had)] : []), ...extraSetCookie];
  }
  headers['content-length'] = String(a.body.length);
  res.writeHead(a.status, headers);
  res.end(a.body);
}

/**
 * A WebSocket (socket.io's upgrade): the request line and headers are written to a new TCP
 * connection to the node as they came (Host, Origin, Cookie included), then bytes flow both ways
 * untouched until either side closes.
 */
export function pipeUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, node: GlassboxNode): void {
  const up: Socket = connect({ host: node.hostname, port: node.port });
  const drop = () => {
    up.destroy();
    client.destroy();
  };
  up.once('connect', () => {
    up.setNoDelay(true);
    (client as Socket).setNoDelay?.(true);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() !== 'x-forwarded-for') text += `${raw[i]}: ${raw[i + 1]}\r\n`;
    const fwd = forwardHeaders(req)['x-forwarded-for'];
    text += `X-Forwarded-For: ${String(fwd)}\r\n\r\n`;
    up.write(text);
    if (head.length) up.write(head);
    client.pipe(up);
    up.pipe(client);
  });
  up.once('error', () => {
    // nothing was sent back yet: answer as an HTTP server would, then close
    if (up.bytesRead === 0 && client.writable) client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nnode ${node.key} is not reachable\n`);
    else drop();
  });
  client.once('error', drop);
  client.once('close', () => up.destroy());
  up.once('close', () => client.destroy());
}
