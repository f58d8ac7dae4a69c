// Glassbox: one Node process, one port. The engine, the dashboard (Next.js custom server), REST
// under /api, socket.io (live list, terminals) and the Docker-compatible API socket.
//
//   tsx server/main.ts [--port 3000] [--host 127.0.0.1] [--dev]
//
// A random token is made at every start, printed as a ready-to-click URL and saved (0600) to
// $GLASSBOX_RUN/web-token (default /run/glassbox/web-token). SIGINT/SIGTERM close the server;
// containers keep running and are re-adopted at the next start.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './project-root.js';
import { parseArgs } from 'node:util';
import { Engine, loadDaemonConfigOrExit } from './engine/index.js';
import { startDockerApi } from './api/docker/server.js';
import { newToken } from './api/rest/auth.js';
import { readFileSync } from 'node:fs';
import { startWebServer } from './api/rest/server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    dev: { type: 'boolean', default: false },
  },
  strict: true,
});

// /etc/glassbox/config.json (GLASSBOX_CONFIG): a bad file stops the server here, naming the key
const daemonConfig = loadDaemonConfigOrExit('glassbox');

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`glassbox: bad --port ${values.port}`);
  process.exit(2);
}
const host = values.host!;
const dev = !!values.dev;
const dir = PROJECT_ROOT;
const runRoot = process.env.GLASSBOX_RUN ?? '/run/glassbox';

// The token is always on; any address other than loopback only with a loud warning. Several
// nodes behind the classroom front (deploy/) share one teacher token: GLASSBOX_TOKEN_FILE names a
// file holding it (a mounted Kubernetes Secret), read once; otherwise a new one at every start.
const token = readTokenFile(process.env.GLASSBOX_TOKEN_FILE);
const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
if (!loopback) {
  console.warn(
    `glassbox: WARNING: listening on ${host}, not just this machine. Anyone who can reach this port and has the token ` +
      `gets root-equivalent control of containers on this host. The token is required on every request.`,
  );
}

// Another serving Glassbox owns gb0, the GLASSBOX-* chains and glassbox/ cgroups: say who, and stop.
const engine = await Engine.open({ daemonConfig }).catch((e: Error) => {
  console.error(`glassbox: ${e.message}`);
  process.exit(1);
});
// GLASSBOX_REDIS_URL (a cluster node) that cannot be reached stops the start here, naming it
const web = await startWebServer({ engine, token, host, port, dev, dir }).catch((e: Error) => {
  console.error(`glassbox: ${e.message}`);
  process.exit(1);
});
const docker = await startDockerApi(engine, { socketPath: process.env.GLASSBOX_DOCKER_SOCK });

mkdirSync(runRoot, { recursive: true, mode: 0o700 });
const tokenFile = join(runRoot, 'web-token');
writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
chmodSync(tokenFile, 0o600);

const shownHost = loopback ? '127.0.0.1' : host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
// a shared token (a Secret) stays out of the log, which more people read than the Secret
if (process.env.GLASSBOX_TOKEN_FILE) console.log(`glassbox: dashboard ready at http://${shownHost}:${web.port}/ (the token is in GLASSBOX_TOKEN_FILE)`);
else console.log(`glassbox: dashboard ready at http://${shownHost}:${web.port}/?token=${token}`);
console.log(`glassbox: token saved to ${tokenFile}`);
console.log(`glassbox: Docker API at unix://${docker.socketPath}  (export DOCKER_HOST=unix://${docker.socketPath})`);

let closing = false;
const shutdown = async (sig: string) => {
  if (closing) return;
  closing = true;
  console.log(`glassbox: ${sig}: closing (containers keep running)`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  try {
    await web.close();
    await docker.close();
    await engine.close();
  } catch (e) {
    console.error('glassbox: error while closing:', e);
  }
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

/** The shared teacher token from `file`, or a new token when no file is named. */
function readTokenFile(file: string | undefined): string {
  if (!file) return newToken();
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    console.error(`glassbox: GLASSBOX_TOKEN_FILE ${file}: ${(e as Error).message}`);
    process.exit(2);
  }
  // the same alphabet and at least the strength of newToken()'s 24 random bytes
  if (!/^[A-Za-z0-9_-]{32,128}$/.test(text)) {
    console.error(`glassbox: GLASSBOX_TOKEN_FILE ${file}: a token is 32 to 128 of A-Z a-z 0-9 _ - (e.g. openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')`);
    process.exit(2);
  }
  return text;
}
