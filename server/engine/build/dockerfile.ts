// The Dockerfile, read into stages of instructions (what `docker build` runs, one step each).
//
//   # escape=`            parser directives: only at the very top, before any other line
//   # a comment           a line whose first non-blank is '#'; also inside a continued line
//   RUN a \               the escape character at a line's end continues it on the next
//     && b
//   FROM base AS build    a stage; later `COPY --from=build` and `FROM build` name it
//   CMD ["sh", "-c", "x"] JSON (exec) form, or shell form: CMD sh -c x
//
// Variables are not replaced here: that needs the ENV and ARG values in effect at each step,
// which the builder knows (shell-words.ts does it). Bad input is refused with the line number,
// as Docker's "dockerfile parse error on line N: …".
import { InvalidArgument } from '../types.js';

export interface Instruction {
  /** 1-based line of the instruction's first line */
  line: number;
  /** upper case: RUN, COPY… */
  keyword: string;
  /** --name=value flags before the arguments (a bare --name is "true") */
  flags: Record<string, string>;
  /** the arguments after the flags, continuation lines joined */
  args: string;
  /** the JSON (exec) form's strings, when the arguments are a JSON array of strings */
  json: string[] | null;
  /** as written (continuations joined): what "Step 2/5 : …" shows */
  original: string;
}

export interface Stage {
  /** the FROM instruction; image is its argument before substitution */
  from: Instruction;
  image: string;
  /** AS name, lower-cased as Docker does */
  name: string | null;
  instructions: Instruction[];
}

export interface Dockerfile {
  escape: string;
  /** ARGs before the first FROM: usable in FROM lines */
  metaArgs: Instruction[];
  stages: Stage[];
}

const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  COPY: ['from', 'chown', 'chmod'],
  ADD: ['chown', 'chmod'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

const KNOWN = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'];

/** Instructions that take no argument-less form. */
const NEEDS_ARGS = new Set(KNOWN.filter((k) => k !== 'HEALTHCHECK'));

export function parseError(line: number, message: string): InvalidArgument {
  return new InvalidArgument(`dockerfile parse error on line ${line}: ${message}`);
}

/** A JSON array of strings, or null when the text is not one. */
export function jsonForm(text: string): string[] | null {
  const t = text.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v = JSON.parse(t) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

/** Leading --flag=value words, checked against what the instruction accepts. */
function takeFlags(keyword: string, rest: string, line: number): { flags: Record<string, string>; args: string } {
  const flags: Record<string, string> = {};
  let args = rest;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(args);
    if (!m) break;
    const allowed = FLAGS[keyword] ?? [];
    if (keyword === 'RUN' && (m[1] === 'mount' || m[1] === 'network' || m[1] === 'security')) throw parseError(line, `RUN --${m[1]} needs BuildKit; the classic builder (DOCKER_BUILDKIT=0) does not have it`);
    if (!allowed.includes(m[1])) throw parseError(line, `unknown flag: --${m[1]} for ${keyword}${allowed.length ? ` (it takes ${allowed.map((f) => `--${f}`).join(', ')})` : ''}`);
    if (m[1] in flags) throw parseError(line, `${keyword} --${m[1]} given twice`);
    flags[m[1]] = m[2] ?? 'true';
    args = args.slice(m[0].length);
  }
  return { flags, args: args.trim() };
}

/** Parser directives: `# key=value` lines at the very top. */
function directives(lines: string[]): { escape: string; first: number } {
  let escape = '\\';
  const seen = new Set<string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^\s*#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) break;
    const key = m[1].toLowerCase();
    if (key !== 'escape' && key !== 'syntax' && key !== 'check') break; // an ordinary comment: directives end
    if (seen.has(key)) throw parseError(i + 1, `only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw parseError(i + 1, `invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2];
    }
  }
  return { escape, first: i };
}

/** Parse a Dockerfile's text. Throws InvalidArgument naming the line of the first problem. */
export function parseDockerfile(text: string): Dockerfile {
  if (text.includes('\0')) throw new InvalidArgument('dockerfile parse error: the Dockerfile contains a NUL byte');
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const { escape, first } = directives(lines);
  const continues = (l: string) => l.replace(/\s+$/, '').endsWith(escape);
  const instructions: Instruction[] = [];
  for (let i = first; i < lines.length; i++) {
    const raw = lines[i];
    if (/^\s*$/.test(raw) || /^\s*#/.test(raw)) continue;
    const start = i + 1;
    let joined = '';
    let cur = raw;
    for (;;) {
      if (!continues(cur)) {
        joined += cur;
        break;
      }
      const t = cur.replace(/\s+$/, '');
      joined += t.slice(0, -1);
      // the next line that is not a comment (comments inside a continued line are dropped)
      i++;
      while (i < lines.length && /^\s*#/.test(lines[i])) i++;
      if (i >= lines.length) break; // a trailing escape at the end of the file ends the instruction
      cur = lines[i];
    }
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(joined)!;
    const keyword = m[1].toUpperCase();
    if (!KNOWN.includes(keyword)) throw parseError(start, `unknown instruction: ${m[1]}`);
    const rest = m[2].trim();
    const { flags, args } = takeFlags(keyword, rest, start);
    if (NEEDS_ARGS.has(keyword) && !args) throw parseError(start, `${keyword} requires at least one argument`);
    instructions.push({ line: start, keyword, flags, args, json: jsonForm(args), original: joined.trim().replace(/\s+/g, ' ') });
  }
  const df: Dockerfile = { escape, metaArgs: [], stages: [] };
  const names = new Set<string>();
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const w = ins.args.split(/\s+/);
      let name: string | null = null;
      if (w.length === 3 && w[1].toLowerCase() === 'as') {
        name = w[2].toLowerCase();
        if (!/^[a-z][a-z0-9._-]*$/.test(name)) throw parseError(ins.line, `invalid name for build stage: "${w[2]}", name can't start with a number or contain symbols`);
        if (names.has(name)) throw parseError(ins.line, `duplicate name for build stage: ${name}`);
        names.add(name);
      } else if (w.length !== 1) {
        throw parseError(ins.line, `FROM requires either one or three arguments (FROM image [AS name])`);
      }
      df.stages.push({ from: ins, image: w[0], name, instructions: [] });
      continue;
    }
    const stage = df.stages[df.stages.length - 1];
    if (!stage) {
      if (ins.keyword !== 'ARG') throw parseError(ins.line, `no FROM before ${ins.keyword}: the first instruction must be FROM (only ARG may come before it)`);
      df.metaArgs.push(ins);
      continue;
    }
    checkForm(ins);
    stage.instructions.push(ins);
  }
  if (!df.stages.length) throw new InvalidArgument('dockerfile parse error: the Dockerfile has no FROM instruction');
  return df;
}

/** Checks that need no variable: the forms each instruction accepts. */
function checkForm(ins: Instruction): void {
  const fail = (msg: string) => {
    throw parseError(ins.line, msg);
  };
  switch (ins.keyword) {
    case 'SHELL':
      if (!ins.json || ins.json.length === 0) fail('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]');
      break;
    case 'ONBUILD':
      fail('ONBUILD is not supported by Glassbox\'s builder');
      break;
    case 'COPY':
    case 'ADD':
      if ((ins.json ? ins.json.length : ins.args.split(/\s+/).length) < 2) fail(`${ins.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
      break;
    case 'HEALTHCHECK': {
      const w = ins.args.split(/\s+/)[0]?.toUpperCase();
      if (w !== 'NONE' && w !== 'CMD') fail('HEALTHCHECK takes NONE or CMD followed by a command');
      if (w === 'NONE' && (ins.args.trim().split(/\s+/).length > 1 || Object.keys(ins.flags).length)) fail('HEALTHCHECK NONE takes no other argument');
      break;
    }
    case 'ARG':
      if (/\s/.test(ins.args.trim()) && !ins.args.includes('=')) fail('ARG requires exactly one argument (ARG NAME[=default])');
      break;
    default:
  }
}
