// The Glassbox nodes the classroom front routes to. Each node is known by a key, its host:port,
// which is what the placement file and the learner's `glassbox_node` cookie hold: a key the front
// does not list routes nowhere new (the default node), so a forged cookie cannot aim the front at
// an address of the client's choosing.
//
// Two sources: a fixed list of URLs (--nodes), or the A records of a Kubernetes headless Service
// (--nodes-dns name:port), resolved again every few seconds. With the DaemonSet on the host network
// (deploy/) a node's address is its Kubernetes node's, so the key survives a pod restart, as the
// learner's sandbox on that host does.
import { promises as dns } from 'node:dns';

export interface GlassboxNode {
  /** host:port, as in the URL */
  key: string;
  hostname: string;
  port: number;
}

/** Parses one node URL: http://host:port, nothing after the port. */
export function parseNodeUrl(text: string, from = '--nodes'): GlassboxNode {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new Error(`${from}: ${JSON.stringify(text)} is not a URL: give http://host:port`);
  }
  if (u.protocol !== 'http:') throw new Error(`${from}: ${text}: a node is reached over http:// inside the cluster, not ${u.protocol}//`);
  if (u.username || u.password) throw new Error(`${from}: ${text}: no credentials in a node URL (the teacher's token comes from the client)`);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw new Error(`${from}: ${text}: a node URL is http://host:port, without a path`);
  const port = u.port ? Number(u.port) : 80;
  // URL keeps IPv6 literals in brackets; http.request wants them without
  return { key: u.host, hostname: u.hostname.replace(/^\[|\]$/g, ''), port };
}

/** Parses a comma-separated list of node URLs; at least one, no key twice. */
export function parseNodeList(text: string, from = '--nodes'): GlassboxNode[] {
  const nodes = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parseNodeUrl(s, from));
  if (!nodes.length) throw new Error(`${from}: no node given: e.g. --nodes http://10.0.0.5:3000,http://10.0.0.6:3000`);
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.key)) throw new Error(`${from}: ${n.key} is listed twice`);
    seen.add(n.key);
  }
  return nodes;
}

/** The live list of nodes: fixed, or re-read from DNS. The first node takes the teacher. */
export class NodeSet {
  private list: GlassboxNode[];
  private timer: NodeJS.Timeout | null = null;

  private constructor(list: GlassboxNode[]) {
    this.list = list;
  }

  static fixed(nodes: GlassboxNode[]): NodeSet {
    return new NodeSet(nodes);
  }

  /**
   * `name:port` of a headless Service: its A records, sorted so that "the first node" is the same
   * for every front replica. Rejects if the name resolves to nothing at start.
   */
  static async fromDns(spec: string, everyMs = 10_000): Promise<NodeSet> {
    const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(spec.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`--nodes-dns: ${JSON.stringify(spec)}: give name:port, e.g. glassbox-nodes.glassbox.svc.cluster.local:3000`);
    const [, name, portText] = m;
    const port = Number(portText);
    const read = async () => {
      const ips = (await dns.resolve4(name)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      return ips.map((ip) => ({ key: `${ip}:${port}`, hostname: ip, port }));
    };
    const first = await read().catch((e: Error) => {
      throw new Error(`--nodes-dns: ${name} does not resolve (${e.message}): is the headless Service there and a node pod ready?`);
    });
    if (!first.length) throw new Error(`--nodes-dns: ${name} has no address yet`);
    const set = new NodeSet(first);
    set.timer = setInterval(() => {
      // a failed lookup keeps the last list: a DNS hiccup must not empty the class
      read().then((l) => l.length && (set.list = l), () => {});
    }, everyMs);
    set.timer.unref();
    return set;
  }

  all(): GlassboxNode[] {
    return [...this.list];
  }

  first(): GlassboxNode {
    return this.list[0];
  }

  /** The node with this key, or null: only a listed node is ever reached. */
  byKey(key: string | undefined | null): GlassboxNode | null {
    return (key && this.list.find((n) => n.key === key)) || null;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
