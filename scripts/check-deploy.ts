// Offline check of deploy/: every manifest parsed as YAML (Debian's python3-yaml: the yaml npm
// package is not among this project's dependencies) and validated against the Kubernetes schemas
// of the npm package kubernetes-models, plus what those schemas cannot see: fields they do not
// know (a typo such as "readinesProbe" is silently ignored by a lenient apply), selectors that
// match no labels, mounts of volumes that do not exist, probes on ports that are not declared.
//
//   tsx scripts/check-deploy.ts [deploy]      (prints each problem as file: Kind/name: field: what)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
const require = createRequire(import.meta.url);

export interface Problem {
  file: string;
  /** Kind/name of the object, or "" for the file itself */
  object: string;
  /** dotted path of the field, or "" */
  field: string;
  message: string;
}

export type K8sObject = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

export const formatProblem = (p: Problem) => [p.file, p.object, p.field, p.message].filter(Boolean).join(': ');

/** Every YAML document in `file`, as JSON would have it. */
export function parseYamlFile(file: string): unknown[] {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the manifest check reads YAML with Debian's python3-yaml (apt-get install python3-yaml)`);
  const script = 'import sys, json, yaml\nwith open(sys.argv[1]) as f:\n  json.dump([d for d in yaml.safe_load_all(f) if d is not None], sys.stdout)';
  try {
    return JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    const err = String((e as { stderr?: string }).stderr ?? (e as Error).message);
    if (err.includes("No module named 'yaml'")) throw new Error('python3 has no yaml module: apt-get install python3-yaml', { cause: e });
    // the parser's own message names the line and column: "<error>" then "in <file>, line N, column M"
    const lines = err.trim().split('\n').map((l) => l.trim());
    const error = lines.find((l) => /^yaml\.\w+\.\w+Error:/.test(l))?.replace(/^yaml\.\w+\.(\w+): /, '$1: ') ?? lines.at(-1);
    const where = lines.filter((l) => /line \d+, column \d+/.test(l)).at(-1)?.replace(/^in "[^"]*", /, '') ?? '';
    throw new Error([error, where].filter(Boolean).join(' at '), { cause: e });
  }
}

/** "/spec/template/spec/containers/0/ports" -> "spec.template.spec.containers[0].ports" */
export function dotted(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

interface SchemaError {
  instancePath: string;
  message?: string;
  params?: { missingProperty?: string };
}

type Validator = (o: unknown) => SchemaError[];

/** The kubernetes-models class for apiVersion + kind, as a function giving schema errors. */
function validatorFor(apiVersion: string, kind: string): Validator | null {
  if (!/^[a-z0-9.]*\/?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) return null;
  let mod: Record<string, new (o: unknown) => { validate(): void }>;
  try {
    mod = require(`kubernetes-models/${apiVersion}/${kind}`);
  } catch {
    return null;
  }
  const Cls = mod[kind];
  if (!Cls) return null;
  return (o) => {
    try {
      new Cls(o).validate();
      return [];
    } catch (e) {
      const errors = (e as { errors?: SchemaError[] }).errors;
      if (!errors) throw e;
      return errors;
    }
  };
}

/**
 * Fields the schema does not know: each field's value is swapped for one of another type; a field
 * the schema knows then fails validation at that place, an unknown one passes unnoticed.
 */
function unknownFields(obj: unknown, validate: Validator): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (value === null || typeof value !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [k, v] of entries) {
      const here = [...path, k];
      if (typeof k === 'string') {
        const probe = structuredClone(obj) as Record<string, unknown>;
        let at = probe as Record<string | number, unknown>;
        for (const p of path) at = at[p] as Record<string | number, unknown>;
        at[k] = typeof v === 'boolean' ? 'not a boolean' : true;
        const pointer = '/' + here.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
        if (!validate(probe).some((e) => e.instancePath === pointer || e.instancePath.startsWith(pointer + '/'))) {
          found.push(dotted(pointer));
          continue; // nothing under an unknown field is known either
        }
      }
      walk(v, here);
    }
  };
  walk(obj, []);
  return found;
}

interface PodSpecLike {
  containers?: { name?: string; ports?: { name?: string }[]; volumeMounts?: { name?: string }[]; readinessProbe?: Probe; livenessProbe?: Probe }[];
  volumes?: { name?: string }[];
}
type Probe = { tcpSocket?: { port?: unknown }; httpGet?: { port?: unknown } };

/** What a schema cannot check: the parts of one object that must agree with each other. */
function consistency(o: K8sObject): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const spec = o.spec as { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpecLike } } | undefined;
  if (!o.metadata?.name) out.push({ field: 'metadata.name', message: 'every object needs a name' });
  if (!spec?.template) return out;
  const labels = spec.template.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.selector?.matchLabels ?? {})) {
    if (labels[k] !== v) out.push({ field: `spec.selector.matchLabels.${k}`, message: `the pod template's labels do not have ${k}: ${v}` });
  }
  const pod = spec.template.spec ?? {};
  const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
  (pod.containers ?? []).forEach((c, i) => {
    const ports = new Set((c.ports ?? []).map((p) => p.name));
    (c.volumeMounts ?? []).forEach((m, j) => {
      if (!volumes.has(m.name)) out.push({ field: `spec.template.spec.containers[${i}].volumeMounts[${j}].name`, message: `no volume named ${m.name}` });
    });
    for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
      const port = c[probe]?.tcpSocket?.port ?? c[probe]?.httpGet?.port;
      if (typeof port === 'string' && !ports.has(port)) out.push({ field: `spec.template.spec.containers[${i}].${probe}`, message: `port ${port} is not a named port of the container` });
    }
  });
  return out;
}

/** Services whose selector matches no pod template of the set, or a named targetPort it lacks. */
function serviceTargets(objects: { file: string; o: K8sObject }[]): Problem[] {
  const out: Problem[] = [];
  const pods = objects.flatMap(({ o }) => {
    const t = (o.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpecLike } } | undefined)?.template;
    return t ? [{ labels: t.metadata?.labels ?? {}, ports: new Set((t.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name))) }] : [];
  });
  for (const { file, o } of objects) {
    if (o.kind !== 'Service') continue;
    const spec = o.spec as { selector?: Record<string, string>; ports?: { targetPort?: unknown }[] };
    const sel = Object.entries(spec.selector ?? {});
    const match = pods.filter((p) => sel.every(([k, v]) => p.labels[k] === v));
    const object = `Service/${o.metadata?.name}`;
    if (!match.length) out.push({ file, object, field: 'spec.selector', message: 'matches no pod template in deploy/' });
    (spec.ports ?? []).forEach((p, i) => {
      if (typeof p.targetPort === 'string' && match.length && !match.some((m) => m.ports.has(p.targetPort as string))) {
        out.push({ file, object, field: `spec.ports[${i}].targetPort`, message: `no pod it selects has a port named ${p.targetPort}` });
      }
    });
  }
  return out;
}

export interface Checked {
  objects: { file: string; o: K8sObject }[];
  problems: Problem[];
}

/** Checks the objects of some manifest files (file name -> its documents). */
export function checkObjects(docsByFile: Map<string, unknown[]>): Checked {
  const problems: Problem[] = [];
  const objects: { file: string; o: K8sObject }[] = [];
  for (const [file, docs] of docsByFile) {
    for (const doc of docs) {
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        problems.push({ file, object: '', field: '', message: 'a document that is not an object' });
        continue;
      }
      const o = doc as K8sObject;
      const object = `${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`;
      const validate = validatorFor(String(o.apiVersion ?? ''), String(o.kind ?? ''));
      if (!validate) {
        problems.push({ file, object, field: 'apiVersion', message: `no Kubernetes schema for apiVersion ${o.apiVersion} kind ${o.kind}` });
        continue;
      }
      objects.push({ file, o });
      for (const e of validate(o)) {
        const field = dotted(e.instancePath + (e.params?.missingProperty ? `/${e.params.missingProperty}` : ''));
        problems.push({ file, object, field, message: e.message ?? 'invalid' });
      }
      for (const field of unknownFields(o, validate)) problems.push({ file, object, field, message: `not a field of ${o.kind} (a typo?)` });
      for (const c of consistency(o)) problems.push({ file, object, ...c });
    }
  }
  problems.push(...serviceTargets(objects));
  return { objects, problems };
}

/** Every manifest in `dir` (kustomization.yaml is checked against the list, not as an object). */
export function checkDeployDir(dir: string): Checked & { kustomization: { resources: string[] } } {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const docsByFile = new Map<string, unknown[]>();
  const problems: Problem[] = [];
  let kustomization: { resources: string[] } = { resources: [] };
  for (const f of files) {
    let docs: unknown[];
    try {
      docs = parseYamlFile(join(dir, f));
    } catch (e) {
      problems.push({ file: f, object: '', field: '', message: `not YAML: ${(e as Error).message}` });
      continue;
    }
    if (f === 'kustomization.yaml') kustomization = docs[0] as { resources: string[] };
    else docsByFile.set(f, docs);
  }
  const checked = checkObjects(docsByFile);
  // kubectl apply -k applies the list: every manifest but the examples is on it, and all exist
  const listed = new Set(kustomization.resources ?? []);
  for (const f of files) {
    if (f !== 'kustomization.yaml' && !f.includes('.example.') && !listed.has(f)) problems.push({ file: 'kustomization.yaml', object: '', field: 'resources', message: `${f} is not listed` });
  }
  for (const r of listed) if (!files.includes(r)) problems.push({ file: 'kustomization.yaml', object: '', field: 'resources', message: `${r} does not exist` });
  return { objects: checked.objects, problems: [...problems, ...checked.problems], kustomization };
}

if (process.argv[1] && basename(process.argv[1]).startsWith('check-deploy')) {
  const dir = process.argv[2] ?? join(import.meta.dirname, '..', 'deploy');
  const { objects, problems } = checkDeployDir(dir);
  for (const p of problems) console.error(formatProblem(p));
  console.log(`${objects.length} objects checked, ${problems.length} problem(s)`);
  process.exit(problems.length ? 1 : 0);
}
