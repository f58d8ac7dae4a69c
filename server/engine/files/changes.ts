// docker import/commit --change: Dockerfile instructions applied to an image config.
import { InvalidArgument } from '../types.js';

export interface ImageRuntimeConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
}

/** `["a","b"]` (exec form) or `a b` (shell form: /bin/sh -c). */
function commandForm(arg: string, what: string): string[] {
  const t = arg.trim();
  if (t.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      throw new InvalidArgument(`--change "${what} ${arg}": not a JSON array of strings`);
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidArgument(`--change "${what} ${arg}": not a JSON array of strings`);
    return v;
  }
  return ['/bin/sh', '-c', t];
}

/** k=v pairs (values may be "quoted"), or the old "k v" form. */
function pairs(arg: string, what: string): [string, string][] {
  const t = arg.trim();
  if (!t.includes('=')) {
    const i = t.search(/\s/);
    if (i < 0) throw new InvalidArgument(`--change "${what} ${arg}": expected key=value`);
    return [[t.slice(0, i), t.slice(i).trim()]];
  }
  const out: [string, string][] = [];
  for (const m of t.matchAll(/([^\s=]+)=("((?:[^"\\]|\\.)*)"|\S*)/g)) out.push([m[1], m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]]);
  if (!out.length) throw new InvalidArgument(`--change "${what} ${arg}": expected key=value`);
  return out;
}

export function applyChanges(config: ImageRuntimeConfig, changes: string[]): ImageRuntimeConfig {
  const c: ImageRuntimeConfig = { ...config };
  for (const line of changes) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    if (!m) throw new InvalidArgument(`--change "${line}": expected an instruction and its argument, like CMD ["sh"]`);
    const instr = m[1].toUpperCase();
    const arg = m[2];
    switch (instr) {
      case 'CMD':
        c.Cmd = commandForm(arg, instr);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandForm(arg, instr);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(arg, instr)) {
          const i = env.findIndex((e) => e.startsWith(`${k}=`));
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(arg, instr)) };
        break;
      case 'WORKDIR':
        c.WorkingDir = arg.trim();
        break;
      case 'USER':
        c.User = arg.trim();
        break;
      case 'STOPSIGNAL':
        c.StopSignal = arg.trim();
        break;
      case 'EXPOSE':
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of arg.trim().split(/\s+/)) {
          if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(p)) throw new InvalidArgument(`--change "EXPOSE ${arg}": invalid port "${p}"`);
          c.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
        }
        break;
      case 'VOLUME': {
        const paths = arg.trim().startsWith('[') ? commandForm(arg, instr) : arg.trim().split(/\s+/);
        c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
        break;
      }
      default:
        throw new InvalidArgument(`--change "${line}": ${instr} is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR are)`);
    }
  }
  return c;
}
