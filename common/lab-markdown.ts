// A lab step's Markdown, split the way the runner shows it (docs/labs.md):
//   - the text, where each ```run fenced block is a command with a Run button;
//   - a "## Hints" section: one hint per list item, revealed one at a time;
//   - a "## What just happened" section: shown once the step's check is green.
// Shared by the server (the loader parses every step once) and the dashboard (which renders the
// same tokens into React elements): one reading of the conventions.
import { Lexer, type Token, type Tokens } from 'marked';

/** A ```run block: the command typed into the step's terminal. */
export interface RunBlock {
  command: string;
  /** the container role whose terminal it goes to (default: the step's terminal) */
  target?: string;
  /** keeps running (a server, a sleep): a terminal runs it as a background job (`cmd &`) */
  background?: boolean;
  /**
   * a docker CLI command for the host, against Glassbox's Docker API socket (the parent namespace
   * a container terminal cannot reach): shown to copy, never typed into a container terminal
   */
  docker?: boolean;
  /** needs a terminal (top, a full-screen program): the test walker runs it with a pty, as the browser's terminal does */
  tty?: boolean;
}

export interface ParsedStep {
  /** the step's text without its Hints and What-just-happened sections */
  markdown: string;
  runBlocks: RunBlock[];
  /** one Markdown string per hint */
  hints: string[];
  /** Markdown; '' when the step has none */
  whatHappened: string;
}

const ROLE_RE = /^[a-z][a-z0-9-]*$/;

/**
 * The info string of a fenced block: `run`, `run background`, `run <role>`, `run <role> background`
 * (and `tty` among them), or `run docker` (a host-side docker CLI command). null when the block is not a run block; an
 * Error for a run block with words it does not know.
 */
export function parseRunInfo(lang: string | undefined): Omit<RunBlock, 'command'> | null | Error {
  const words = (lang ?? '').trim().split(/\s+/).filter(Boolean);
  if (words[0] !== 'run') return null;
  const out: Omit<RunBlock, 'command'> = {};
  for (const w of words.slice(1)) {
    if (w === 'background') out.background = true;
    else if (w === 'docker') out.docker = true;
    else if (w === 'tty') out.tty = true;
    else if (ROLE_RE.test(w) && !out.target) out.target = w;
    else return new Error(`a \`\`\`run block's info string is "run [role] [background] [tty]" or "run docker", not "${lang}"`);
  }
  if (out.docker && (out.target || out.background || out.tty)) return new Error(`a \`\`\`run docker block runs on the host: it takes no role, background or tty ("${lang}")`);
  return out;
}

/** `{{role}}` in a command is the name of that role's container in the session (lab-<sid>-<role>). */
export function fillContainerNames(command: string, names: Record<string, string>): string {
  return command.replace(/\{\{([a-z][a-z0-9-]*)\}\}/g, (all, role: string) => names[role] ?? all);
}

function headingKind(t: Token): 'hints' | 'what' | null {
  if (t.type !== 'heading' || (t as Tokens.Heading).depth !== 2) return null;
  const text = (t as Tokens.Heading).text.trim().toLowerCase();
  if (text === 'hints') return 'hints';
  if (text === 'what just happened') return 'what';
  return null;
}

/** Split a step's Markdown; throws with a message naming what is wrong (the loader adds the file). */
export function parseStepMarkdown(source: string): ParsedStep {
  const tokens = new Lexer().lex(source);
  let section: 'body' | 'hints' | 'what' = 'body';
  const body: string[] = [];
  const what: string[] = [];
  const hints: string[] = [];
  const runBlocks: RunBlock[] = [];
  const seen = new Set<string>();
  for (const t of tokens) {
    const kind = headingKind(t);
    if (kind) {
      if (seen.has(kind)) throw new Error(`the "## ${kind === 'hints' ? 'Hints' : 'What just happened'}" section appears twice`);
      seen.add(kind);
      section = kind;
      continue;
    }
    // another level-2 heading ends a section and goes back to the text
    if (t.type === 'heading' && (t as Tokens.Heading).depth <= 2 && section !== 'body') section = 'body';
    if (section === 'hints') {
      if (t.type === 'list') for (const item of (t as Tokens.List).items) hints.push(item.text.trim());
      else if (t.type !== 'space') throw new Error('the "## Hints" section holds one list (one hint per item), nothing else');
      continue;
    }
    if (section === 'what') {
      what.push(t.raw);
      continue;
    }
    if (t.type === 'code') {
      const info = parseRunInfo((t as Tokens.Code).lang);
      if (info instanceof Error) throw info;
      if (info) {
        const command = (t as Tokens.Code).text.trim();
        if (!command) throw new Error('an empty ```run block');
        if (info.docker && !/^docker\s/.test(command)) throw new Error(`a \`\`\`run docker block is one docker CLI command ("docker …"), not "${command.slice(0, 60)}"`);
        runBlocks.push({ command, ...info });
      }
    }
    body.push(t.raw);
  }
  return { markdown: body.join('').trim(), runBlocks, hints, whatHappened: what.join('').trim() };
}
