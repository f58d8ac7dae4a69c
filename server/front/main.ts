// The classroom front (deploy/, server/front/front.ts): one address for a class on several nodes.
//
//   tsx server/front/main.ts --nodes http://127.0.0.1:3101,http://127.0.0.1:3102 [--port 3100]
//                            [--host 127.0.0.1] [--state /var/lib/glassbox-front]
//   tsx server/front/main.ts --nodes-dns glassbox-nodes.glassbox.svc.cluster.local:3000 ...
//
// Environment instead of flags: GLASSBOX_FRONT_NODES, GLASSBOX_FRONT_NODES_DNS, GLASSBOX_FRONT_STATE.
// Binds 127.0.0.1 unless --host says otherwise (in a pod: 0.0.0.0, behind the Service).
import { parseArgs } from 'node:util';
import { startFront } from './front.js';
import { NodeSet, parseNodeList } from './nodes.js';

function fail(message: string): never {
  console.error(`glassbox-front: ${message}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      nodes: { type: 'string', default: process.env.GLASSBOX_FRONT_NODES },
      'nodes-dns': { type: 'string', default: process.env.GLASSBOX_FRONT_NODES_DNS },
      port: { type: 'string', default: process.env.PORT ?? '3100' },
      host: { type: 'string', default: '127.0.0.1' },
      state: { type: 'string', default: process.env.GLASSBOX_FRONT_STATE ?? '/var/lib/glassbox-front' },
    },
    strict: true,
  }));
} catch (e) {
  fail((e as Error).message);
}

const port = Number(values.port);
if (!/^\d+$/.test(values.port ?? '') || port > 65535) fail(`bad --port ${values.port}: a number from 0 to 65535`);
if (!!values.nodes === !!values['nodes-dns']) fail('give the nodes with exactly one of --nodes http://host:port,... or --nodes-dns name:port');

let nodes: NodeSet;
try {
  nodes = values.nodes ? NodeSet.fixed(parseNodeList(values.nodes)) : await NodeSet.fromDns(values['nodes-dns']!);
} catch (e) {
  fail((e as Error).message);
}

const loopback = ['127.0.0.1', 'localhost', '::1'].includes(values.host!);
if (!loopback) console.warn(`glassbox-front: listening on ${values.host}: put it behind TLS (the Ingress) before it faces a network; the nodes check every token`);

const front = await startFront({ nodes, stateDir: values.state!, host: values.host!, port }).catch((e: Error) => fail(e.message));
console.log(`glassbox-front: listening on http://${loopback ? '127.0.0.1' : values.host}:${front.port}, nodes ${nodes.all().map((n) => n.key).join(', ')}; placements in ${front.placements.file}`);

let closing = false;
const shutdown = async (sig: string) => {
  if (closing) return;
  closing = true;
  console.log(`glassbox-front: ${sig}: closing`);
  setTimeout(() => process.exit(1), 5000).unref();
  await front.close();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
