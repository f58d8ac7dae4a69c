// Standalone entry for manual testing: the engine and the Docker API socket, nothing else.
//   sudo npx tsx server/api/docker/main.ts [--socket /tmp/gb-docker.sock]
//   docker -H unix:///tmp/gb-docker.sock run --rm base echo hi
import { Engine, loadDaemonConfigOrExit } from '../../engine/index.js';
import { startDockerApi } from './server.js';

const daemonConfig = loadDaemonConfigOrExit('glassbox docker api');
const i = process.argv.indexOf('--socket');
const socketPath = i > 0 ? process.argv[i + 1] : undefined;
const engine = await Engine.open({ daemonConfig });
const api = await startDockerApi(engine, { socketPath });
console.log(`glassbox docker api: unix://${api.socketPath}  (docker -H unix://${api.socketPath} ...)`);
const stop = async () => {
  await api.close();
  await engine.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
