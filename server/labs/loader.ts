// Finds the labs (labs/<id>/lab.ts, a dynamic import each), checks each against the format
// (format.ts) and parses its steps' Markdown. A broken lab is reported with its file and the reason,
// and the other labs still load: one teacher's typo does not take the runner down.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMPILED, PROJECT_ROOT } from '../project-root.js';
import { parseStepMarkdown, type ParsedStep } from '../../common/lab-markdown.js';
import type { LabDefinition, LabDiagram, LabStep } from './format.js';

/** The repository's labs/ folder. */
export const LABS_DIR = join(PROJECT_ROOT, 'labs');

const ID_RE = /^[a-z0-9-]+$/;
const ROLE_RE = /^[a-z][a-z0-9-]*$/;
const DIAGRAMS: readonly LabDiagram[] = ['namespaces', 'layers', 'network', 'cgroups', 'mounts', 'image', 'timeline'];

export interface LoadedStep extends LabStep, ParsedStep {
  /** the role whose terminal the step's Run buttons type into */
  terminalRole: string;
}

export interface LoadedLab extends Omit<LabDefinition, 'steps'> {
  steps: LoadedStep[];
  /** the lab's folder */
  dir: string;
  /** roles that get a terminal tab, in the lab's order */
  terminalRoles: string[];
}

export interface LabLoadError {
  /** the file at fault, relative to the repository when it is inside it */
  file: string;
  message: string;
}

export interface LoadResult {
  labs: LoadedLab[];
  errors: LabLoadError[];
}

class LabError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

function shown(path: string): string {
  const rel = relative(join(LABS_DIR, '..'), path);
  return rel.startsWith('..') ? path : rel;
}

/** Validate one definition against its folder; throws a LabError naming the file. */
export function validateLab(def: unknown, dir: string): LoadedLab {
  const file = shown(join(dir, 'lab.ts'));
  const fail = (msg: string): never => {
    throw new LabError(file, msg);
  };
  if (typeof def !== 'object' || def === null) fail('the default export is not a lab (export default defineLab({...}))');
  const lab = def as LabDefinition;
  const folder = dir.split('/').pop()!;
  if (typeof lab.id !== 'string' || !ID_RE.test(lab.id)) fail(`id: expected [a-z0-9-]+, got ${JSON.stringify(lab.id)}`);
  if (lab.id !== folder) fail(`id "${lab.id}" is not the folder's name "${folder}"`);
  for (const k of ['title', 'summary'] as const) if (typeof lab[k] !== 'string' || !lab[k].trim()) fail(`${k}: a non-empty string is required`);
  if (typeof lab.order !== 'number' || !Number.isFinite(lab.order)) fail('order: a number is required');
  if (lab.images !== undefined && (!Array.isArray(lab.images) || lab.images.some((i) => typeof i !== 'string' || !i))) fail('images: a list of image references');
  if (lab.learners !== undefined && (lab.learners?.available !== false || typeof lab.learners.reason !== 'string' || !lab.learners.reason.trim())) fail("learners: { available: false, reason: '<why a learner's sandbox cannot run it>' }");
  if (!Array.isArray(lab.containers) || !lab.containers.length) fail('containers: at least one container');
  const roles = new Set<string>();
  for (const [i, c] of lab.containers.entries()) {
    if (typeof c?.role !== 'string' || !ROLE_RE.test(c.role)) fail(`containers[${i}].role: expected [a-z][a-z0-9-]*, got ${JSON.stringify(c?.role)}`);
    if (roles.has(c.role)) fail(`containers[${i}].role: "${c.role}" is used twice`);
    roles.add(c.role);
    if (typeof c.config !== 'object' || c.config === null || typeof c.config.image !== 'string') fail(`containers[${i}] (${c.role}): config.image is required`);
    if ('name' in c.config) fail(`containers[${i}] (${c.role}): config.name is the lab's (lab-<session>-<role>); remove it`);
  }
  const terminalRoles = lab.containers.filter((c) => c.terminal ?? !!c.config.tty).map((c) => c.role);
  if (!Array.isArray(lab.steps) || !lab.steps.length) fail('steps: at least one step');
  const ids = new Set<string>();
  const steps: LoadedStep[] = [];
  for (const [i, s] of lab.steps.entries()) {
    const at = `steps[${i}]${typeof s?.id === 'string' ? ` (${s.id})` : ''}`;
    if (typeof s?.id !== 'string' || !ID_RE.test(s.id)) fail(`${at}.id: expected [a-z0-9-]+, got ${JSON.stringify(s?.id)}`);
    if (ids.has(s.id)) fail(`${at}.id: "${s.id}" is used twice`);
    ids.add(s.id);
    if (typeof s.title !== 'string' || !s.title.trim()) fail(`${at}.title: a non-empty string is required`);
    if (typeof s.checkLabel !== 'string' || !s.checkLabel.trim()) fail(`${at}.checkLabel: a non-empty string is required`);
    if (typeof s.check !== 'function') fail(`${at}.check: a function (k) => boolean | { passed, detail }`);
    if (s.diagram !== undefined && !DIAGRAMS.includes(s.diagram)) fail(`${at}.diagram: one of ${DIAGRAMS.join(', ')}`);
    if (s.highlight !== undefined && typeof s.highlight !== 'string') fail(`${at}.highlight: a string`);
    if (s.terminal !== undefined && !roles.has(s.terminal)) fail(`${at}.terminal: no container has the role "${s.terminal}"`);
    const terminalRole = s.terminal ?? terminalRoles[0];
    if (!terminalRole) fail(`${at}: no terminal to type into (give a container tty: true or terminal: true, or the step a terminal)`);
    const md = join(dir, 'steps', `${s.id}.md`);
    if (!existsSync(md)) throw new LabError(shown(md), `step "${s.id}" has no Markdown file`);
    let parsed: ParsedStep;
    try {
      parsed = parseStepMarkdown(readFileSync(md, 'utf8'));
    } catch (e) {
      throw new LabError(shown(md), (e as Error).message);
    }
    for (const b of parsed.runBlocks) {
      if (b.target && !roles.has(b.target)) throw new LabError(shown(md), `a \`\`\`run block names the role "${b.target}", which the lab has no container for`);
      for (const m of b.command.matchAll(/\{\{([a-z][a-z0-9-]*)\}\}/g)) if (!roles.has(m[1])) throw new LabError(shown(md), `{{${m[1]}}} in a \`\`\`run block names no container role of the lab`);
    }
    steps.push({ ...s, ...parsed, terminalRole });
  }
  return { ...lab, steps, dir, terminalRoles };
}

/**
 * A lab's module. From the sources (tsx) the lab.ts itself. The compiled server (npm start) has no
 * TypeScript loader: it takes the lab's bundle that `npm start` built (dist/labs/<id>/lab.js) when
 * it is as new as the lab.ts, and otherwise (a lab added or edited since) compiles it through tsx's
 * scoped loader, which touches nothing else in the process.
 */
async function importLab(file: string): Promise<unknown> {
  if (!COMPILED) return import(pathToFileURL(file).href);
  const dir = dirname(file);
  const built = join(PROJECT_ROOT, 'dist', 'labs', basename(dir), 'lab.js');
  if (dirname(dir) === LABS_DIR && existsSync(built) && statSync(built).mtimeMs >= statSync(file).mtimeMs) return import(pathToFileURL(built).href);
  const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (specifier: string, parent: string) => Promise<unknown> };
  return tsImport(pathToFileURL(file).href, import.meta.url);
}

/** Load one lab folder. */
export async function loadLab(dir: string): Promise<LoadedLab> {
  const file = join(dir, 'lab.ts');
  if (!existsSync(file)) throw new LabError(shown(file), 'no lab.ts in the folder');
  let mod: { default?: unknown };
  try {
    mod = (await importLab(file)) as { default?: unknown };
  } catch (e) {
    throw new LabError(shown(file), `cannot be imported: ${(e as Error).message}`);
  }
  return validateLab(mod.default, dir);
}

/** Every lab under dir (default: the repository's labs/), sorted by order then id. */
export async function loadLabs(dir = LABS_DIR): Promise<LoadResult> {
  const labs: LoadedLab[] = [];
  const errors: LabLoadError[] = [];
  if (!existsSync(dir)) return { labs, errors };
  for (const name of readdirSync(dir).sort()) {
    const sub = join(dir, name);
    if (!statSync(sub).isDirectory() || name.startsWith('.') || name.startsWith('_')) continue;
    try {
      labs.push(await loadLab(sub));
    } catch (e) {
      errors.push(e instanceof LabError ? { file: e.file, message: e.message } : { file: shown(sub), message: (e as Error).message });
    }
  }
  labs.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  return { labs, errors };
}

/** "labs/02-x/lab.ts: steps[1].id: …" — one line per broken lab, for the server's log. */
export function formatLoadErrors(errors: LabLoadError[]): string[] {
  return errors.map((e) => `${e.file}: ${e.message}`);
}
