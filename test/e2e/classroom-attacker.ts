// The hostile learner of classroom-isolation.test.ts, in a process of its own (as their browser is
// on a machine of its own: the client work of the flood must not be charged to the victim's
// measurement). Through the web only, with the learner's token and page cookie:
//   - a fork bomb (`:(){ :|:& };:` with a name ash lets a function have), typed into a terminal in their container `bomb`;
//   - a log flood: a container running `yes`, whose log they follow on /containers (logs:follow),
//     reading everything as fast as it comes.
// Prints one JSON line a second: {"bombTyped", "logEntries", "termChars"}; runs until killed.
// Usage: tsx classroom-attacker.ts '{"base": …, "token": …, "cookie": …, "bomb": <container id>}'
import { connect, createContainer, Terminal } from './classroom-support';

const args = JSON.parse(process.argv[2] ?? '{}') as { base: string; token: string; cookie: string; bomb: string; only?: 'bomb' | 'flood' };
const who = { token: args.token, cookie: args.cookie };
const srv = { base: args.base, token: args.token };

let logEntries = 0;
let bombTyped = false;
let termChars = 0;

const list = await connect(srv, '/containers', who);
list.on('logs:data', (m: { entries: unknown[] }) => (logEntries += m.entries.length));
list.on('logs:error', (m: { error: string }) => console.error(`logs:error ${m.error}`));
const flood = await createContainer(srv, args.token, { name: 'flood', cmd: args.only === 'bomb' ? ['sleep', '1000'] : ['yes', 'flood flood flood flood flood flood flood flood'] });
list.emit('logs:follow', { id: flood, tail: 0 });

const term = new Terminal(await connect(srv, '/terminal', who));
await term.open(args.bomb);
term.socket.on('data', (m: { data: string }) => (termChars += m.data.length));
if (args.only !== 'flood') term.input('bomb() { bomb | bomb & }; bomb\r');
bombTyped = true;

setInterval(() => console.log(JSON.stringify({ flood, bombTyped, logEntries, termChars })), 1000);
