// glassbox-runtime: a runc-compatible command line for Glassbox's own runtime (gb-helper).
//   glassbox-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [flags] ARGS
// One file per verb (as youki has); the state of each container is under --root
// (default /run/glassbox-runtime). Errors are one line on stderr (and in --log), exit status 1.
import { bool, parseFlags, str, UsageError } from './args.js';
import { makeContext, type Context } from './context.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { execCommand } from './exec.js';
import { killCommand } from './kill.js';
import { listCommand } from './list.js';
import { psCommand } from './ps.js';
import { runCommand } from './run.js';
import { specCommand } from './spec.js';
import { startCommand } from './start.js';
import { stateCommand } from './state.js';

const VERSION = '0.1.0';
const COMMANDS: Record<string, (ctx: Context, argv: string[]) => Promise<number>> = {
  create: createCommand,
  start: startCommand,
  state: stateCommand,
  kill: killCommand,
  delete: deleteCommand,
  run: runCommand,
  exec: execCommand,
  ps: psCommand,
  spec: specCommand,
  list: listCommand,
};

const USAGE = `usage: glassbox-runtime [global flags] COMMAND [flags] ARGS

A runc-compatible command line for Glassbox's own runtime (OCI bundles: config.json + rootfs).

commands: ${Object.keys(COMMANDS).join(', ')}
global flags: --root DIR (default /run/glassbox-runtime), --log FILE, --log-format text|json, --debug
`;

async function main(argv: string[]): Promise<number> {
  const g = parseFlags(
    argv,
    [
      { name: 'root', value: true },
      { name: 'log', value: true },
      { name: 'log-format', value: true },
      { name: 'debug' },
      { name: 'systemd-cgroup' },
      { name: 'rootless', value: true },
      { name: 'criu', value: true },
      { name: 'help', short: 'h' },
      { name: 'version', short: 'v' },
    ],
    'glassbox-runtime',
  );
  const format = str(g, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format ${JSON.stringify(format)}: must be text or json`);
  const ctx = makeContext(str(g, 'root') ?? '/run/glassbox-runtime', str(g, 'log'), format, bool(g, 'debug'));
  try {
    if (bool(g, 'version')) {
      process.stdout.write(`glassbox-runtime version ${VERSION}\nspec: 1.0.2\n`);
      return 0;
    }
    const [command, ...rest] = g.rest;
    if (bool(g, 'help') || !command || command === 'help') {
      process.stdout.write(USAGE);
      return command || bool(g, 'help') ? 0 : 1;
    }
    if (bool(g, 'systemd-cgroup')) throw new UsageError('--systemd-cgroup: Glassbox\'s runtime manages cgroups through cgroupfs only');
    const verb = COMMANDS[command];
    if (!verb) throw new UsageError(`no such command: ${command} (have ${Object.keys(COMMANDS).join(', ')})`);
    ctx.debug(`${command} ${rest.join(' ')}`);
    return await verb(ctx, rest);
  } catch (e) {
    ctx.error((e as Error).message);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`glassbox-runtime: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
