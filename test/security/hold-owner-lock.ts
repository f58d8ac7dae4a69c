// A second process that opens an engine (no networking) with the prefix it is given and keeps it
// open: the "serving Glassbox" whose pid the refused engine must name. Prints "ready <pid>".
//   node --import tsx test/security/hold-owner-lock.ts <prefix> <root> <runRoot>
import { Engine } from '../../server/engine/engine.js';

const [prefix, root, runRoot] = process.argv.slice(2);
const engine = await Engine.open({ prefix, root, runRoot, network: false });
console.log(`ready ${process.pid}`);
process.stdin.resume();
const stop = async () => {
  await engine.close();
  process.exit(0);
};
process.stdin.on('end', () => void stop());
process.on('SIGTERM', () => void stop());
