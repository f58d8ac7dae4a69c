// Several Glassbox nodes behind the classroom front (deploy/, server/front/): socket.io's Redis
// adapter makes every room span every node. A learner's socket lives on the node the front placed
// them on, the teacher's on another; `io.of('/classroom').to('class:<id>').emit(...)` on any node
// is published to Redis and delivered by each node to its own sockets in that room.
//
// Only the namespaces that are the class's (CLUSTER_NAMESPACES: /classroom) span nodes. The
// others (/containers, /terminal, the diagrams) show one node's own kernel: a room there such as
// "teacher" exists on every node, and node 2's container list must not land on the teacher's
// screen as if it were node 1's (nor should every stats tick cross Redis).
//
// Redis down when the node starts: attachClusterAdapter rejects and the node stops, saying why.
// Silently running single-node would split the class in two without anyone noticing. Redis lost
// later: the clients reconnect with a backoff and the node says so; meanwhile rooms are local.
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { Namespace, Server as IoServer } from 'socket.io';

/** The namespaces whose rooms span every node: the teacher's roster and broadcast. */
export const CLUSTER_NAMESPACES: readonly string[] = ['/classroom'];

/** How long a node waits for Redis at start before it gives up. */
const CONNECT_TIMEOUT_MS = 5000;
/** Backoff ceiling for reconnecting once the node is running. */
const MAX_BACKOFF_MS = 3000;

/** The URL with any password replaced, for messages: a log is no place for a credential. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a malformed URL)';
  }
}

/** Checks GLASSBOX_REDIS_URL's form: redis:// or rediss:// with a host. */
export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`GLASSBOX_REDIS_URL is not a URL: use redis://host:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`GLASSBOX_REDIS_URL must start with redis:// or rediss://, not ${u.protocol}//`);
  if (!u.hostname) throw new Error('GLASSBOX_REDIS_URL names no host: use redis://host:6379');
  return u;
}

/**
 * Puts the namespaces named in `spanning` (made now or later) on the Redis adapter at `url`; the
 * others keep socket.io's in-memory adapter. Resolves once both Redis connections (publish,
 * subscribe) are up, with a function that closes them; rejects with a clear message when Redis
 * cannot be reached within a few seconds.
 */
export async function attachClusterAdapter(io: IoServer, url: string, spanning: readonly string[] = CLUSTER_NAMESPACES): Promise<() => Promise<void>> {
  checkRedisUrl(url);
  const shown = redactRedisUrl(url);
  let running = false;
  let lastWarned = 0;
  const options = {
    url,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // at start one failure is enough to stop (the caller exits); later, keep trying
      reconnectStrategy: (retries: number, cause: Error) => (running ? Math.min(100 * 2 ** Math.min(retries, 5), MAX_BACKOFF_MS) : new Error(`Redis at ${shown} is not reachable: ${cause.message}`)),
    },
  };
  const pub = createClient(options);
  const sub = pub.duplicate();
  for (const [name, client] of [
    ['publish', pub],
    ['subscribe', sub],
  ] as const) {
    // an 'error' without a listener would end the process; once a minute in the log is enough
    client.on('error', (e: Error) => {
      if (!running || Date.now() - lastWarned < 60_000) return;
      lastWarned = Date.now();
      console.warn(`glassbox: Redis (${name}) at ${shown}: ${e.message}; rooms are this node's only until it is back`);
    });
    client.on('ready', () => {
      if (running && lastWarned) console.warn(`glassbox: Redis (${name}) at ${shown} is back`);
    });
  }
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (e) {
    for (const client of [pub, sub]) {
      try {
        client.destroy();
      } catch {
        /* never opened */
      }
    }
    throw new Error(`cannot run as a cluster node: Redis at ${shown} is not reachable (${(e as Error).message.replace(/^Redis at \S+ is not reachable: /, '')})`, { cause: e });
  }
  running = true;
  // socket.io calls `new adapter(nsp)`; a constructor that returns an object gives that object
  const local = io.adapter() as unknown as new (nsp: Namespace) => object;
  const cluster = createAdapter(pub, sub);
  const perNamespace = function (nsp: Namespace) {
    return spanning.includes(nsp.name) ? cluster(nsp) : new local(nsp);
  };
  io.adapter(perNamespace as unknown as Parameters<IoServer['adapter']>[0]);
  return async () => {
    running = false;
    await Promise.allSettled([pub.close(), sub.close()]);
  };
}
