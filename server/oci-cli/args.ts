// Command-line parsing in runc's manner (urfave/cli): flags before the positional arguments,
// `--flag value`, `--flag=value`, `-f value`, boolean flags without a value, `--` ends the flags.
// An unknown flag is an error naming it, before anything is touched.

/** A usage error: exit 1 with the message, as runc does. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** long name without dashes */
  name: string;
  /** one-letter alias */
  short?: string;
  /** takes a value (otherwise boolean) */
  value?: boolean;
  /** may repeat (values are collected) */
  repeat?: boolean;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[]>;
  rest: string[];
}

/**
 * Parse flags up to the first positional argument (runc stops there too, so `exec ID ls -l` passes
 * `-l` to ls, and the global flags end at the command's name).
 */
export function parseFlags(argv: string[], specs: FlagSpec[], command: string): Parsed {
  const flags: Parsed['flags'] = {};
  const rest: string[] = [];
  const find = (name: string) => specs.find((s) => s.name === name || s.short === name);
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = find(name);
    if (!spec) throw new UsageError(`${command}: flag provided but not defined: ${a.split('=')[0]}`);
    let value: string | boolean;
    if (spec.value) {
      if (eq >= 0) value = body.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`${command}: flag needs an argument: ${a}`);
    } else {
      value = eq >= 0 ? !['false', '0'].includes(body.slice(eq + 1)) : true;
    }
    if (spec.repeat) flags[spec.name] = [...((flags[spec.name] as string[] | undefined) ?? []), String(value)];
    else flags[spec.name] = value;
  }
  rest.push(...argv.slice(i));
  return { flags, rest };
}

export const str = (p: Parsed, name: string): string | undefined => (typeof p.flags[name] === 'string' ? (p.flags[name] as string) : undefined);
export const bool = (p: Parsed, name: string): boolean => p.flags[name] === true;
export const list = (p: Parsed, name: string): string[] => (Array.isArray(p.flags[name]) ? (p.flags[name] as string[]) : []);

/** runc's rule for container ids: it becomes a directory name under --root. */
export function checkId(id: string | undefined, command: string): string {
  if (!id) throw new UsageError(`${command}: the container id is missing (usage: glassbox-runtime ${command} <container-id>)`);
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..' || id.length > 1024) throw new UsageError(`${command}: invalid container id ${JSON.stringify(id)}: use letters, digits, _ + - .`);
  return id;
}
