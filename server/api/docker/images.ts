// Image endpoints: list, inspect, history, tag, remove; pull (streamed progress), commit, save
// (docker-save tar streamed) and load (tar body in, "Loaded image" lines out).
import type { ServerResponse } from 'node:http';
import type { EngineApi } from '../../engine/index.js';
import type { CommitOptions } from '../../engine/index.js';
import { dockerProgressMessage } from './pull-progress.js';
import { badRequest, toHttpError } from './errors.js';
import { checkFilterKeys, labelMatches, parseFilters } from './filters.js';
import { boolParam, jsonBody, sendJson, type Ctx } from './http.js';
import { imageHistoryJson, imageInspectJson, imageSummaryJson } from './image-json.js';

export function listImages(ctx: Ctx, engine: EngineApi): void {
  const filters = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(filters, ['reference', 'dangling', 'label']);
  const refs = filters.get('reference') ?? [];
  const globToRe = (g: string) => new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.') + '$');
  const imgs = engine.listImages().filter((img) => {
    if (refs.length && !refs.some((r) => img.repoTags.some((t) => globToRe(r.includes(':') ? r : `${r}:*`).test(t) || globToRe(r).test(t.split(':')[0])))) return false;
    const dangling = filters.get('dangling');
    if (dangling?.length && (dangling[0] === 'true') !== (img.repoTags.length === 0)) return false;
    if (filters.get('label')?.length && !labelMatches(imageLabels(engine, img.id), filters.get('label')!)) return false;
    return true;
  });
  sendJson(ctx, 200, imgs.map(imageSummaryJson));
}

/** The image config's Labels (LABEL in a Dockerfile, --change LABEL in a commit). */
function imageLabels(engine: EngineApi, id: string): Record<string, string> {
  try {
    return ((engine.inspectImage(id).config as { config?: { Labels?: Record<string, string> | null } }).config?.Labels ?? {}) as Record<string, string>;
  } catch {
    return {};
  }
}

export function inspectImage(ctx: Ctx, engine: EngineApi): void {
  sendJson(ctx, 200, imageInspectJson(engine.inspectImage(ctx.params[0])));
}

export function history(ctx: Ctx, engine: EngineApi): void {
  sendJson(ctx, 200, imageHistoryJson(engine.inspectImage(ctx.params[0])));
}

/** Docker's familiar form: the CLI sends docker.io/library/foo for foo. */
export function familiarName(ref: string): string {
  return ref.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

export function tag(ctx: Ctx, engine: EngineApi): void {
  const repo = ctx.query.get('repo');
  if (!repo) throw badRequest('tag: repository name is required (?repo=)');
  const t = ctx.query.get('tag') || 'latest';
  engine.tagImage(ctx.params[0], `${familiarName(repo)}:${t}`);
  sendJson(ctx, 201, {});
}

export function removeImage(ctx: Ctx, engine: EngineApi): void {
  const r = engine.removeImage(ctx.params[0], { force: boolParam(ctx.query, 'force') });
  sendJson(ctx, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
}

/** A JSON-lines stream (docker's jsonmessage): headers go out with the first line. */
function jsonLines(res: ServerResponse) {
  return {
    get started() {
      return res.headersSent;
    },
    write(obj: unknown) {
      if (res.destroyed || res.writableEnded) return;
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify(obj) + '\r\n');
    },
    end() {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
      if (!res.writableEnded) res.end();
    },
  };
}

const errorLine = (message: string) => ({ errorDetail: { message }, error: message });

/** POST /images/create?fromImage=X&tag=Y (docker pull, and docker run of a missing image). */
export async function pull(ctx: Ctx, engine: EngineApi): Promise<void> {
  if (ctx.query.get('fromSrc')) throw badRequest('glassbox: docker import (fromSrc) is not supported; use docker load');
  const fromRaw = ctx.query.get('fromImage');
  if (!fromRaw) throw badRequest('pull: an image name is required (?fromImage=)');
  const from = familiarName(fromRaw);
  const tagOrDigest = ctx.query.get('tag');
  let ref = from;
  if (tagOrDigest && !/[:@]/.test(from.slice(from.lastIndexOf('/') + 1))) ref = tagOrDigest.startsWith('sha256:') ? `${from}@${tagOrDigest}` : `${from}:${tagOrDigest}`;
  else if (!/[:@]/.test(from.slice(from.lastIndexOf('/') + 1))) ref = `${from}:latest`;
  const res = ctx.res;
  if (!res) throw badRequest('pull: not an upgrade request');
  const out = jsonLines(res);
  try {
    // the engine may report the closing "Digest:"/"Status:" lines itself: each is written once
    const seen = new Set<string>();
    // status lines before the first layer ("Pulling from …") are held back: a pull that fails while
    // resolving the manifest is then a plain 404 answer, as with Docker
    const held: unknown[] = [];
    let layers = false;
    const result = await engine.pullImage(ref, (e) => {
      if (e.type === 'status') seen.add(e.message.split(':')[0]);
      if (e.type === 'layer' && !layers) {
        layers = true;
        for (const h of held.splice(0)) out.write(h);
      }
      if (layers) out.write(dockerProgressMessage(e));
      else held.push(dockerProgressMessage(e));
    });
    for (const h of held.splice(0)) out.write(h);
    if (result.digest && !seen.has('Digest')) out.write({ status: `Digest: ${result.digest}` });
    if (!seen.has('Status')) out.write({ status: result.upToDate ? `Status: Image is up to date for ${ref}` : `Status: Downloaded newer image for ${ref}` });
    out.end();
  } catch (e) {
    if (!out.started) {
      const { status, message } = toHttpError(e);
      // before anything was streamed: a plain error answer, as Docker gives (404 for an image it cannot get)
      return sendJson(ctx, status === 500 ? 404 : status, { message });
    }
    out.write(errorLine(toHttpError(e).message));
    out.end();
  }
}

const STRING_LIST = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** `--change` instructions (Dockerfile syntax) onto a config: CMD, ENTRYPOINT, ENV, WORKDIR, LABEL, USER, STOPSIGNAL. */
function applyChange(cfg: NonNullable<CommitOptions['changes']>, line: string): void {
  const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(line);
  if (!m) throw badRequest(`commit: malformed change "${line}"`);
  const kw = m[1].toUpperCase();
  const arg = m[2].trim();
  const cmdForm = (): string[] => {
    if (arg.startsWith('[')) {
      try {
        const v = JSON.parse(arg) as unknown;
        if (STRING_LIST(v)) return v;
      } catch {
        /* shell form below */
      }
    }
    return ['/bin/sh', '-c', arg];
  };
  const pairs = (): [string, string][] => {
    if (!arg.includes('=')) {
      const sp = arg.indexOf(' ');
      return [[arg.slice(0, sp < 0 ? undefined : sp), sp < 0 ? '' : arg.slice(sp + 1).trim()]];
    }
    const out: [string, string][] = [];
    const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
    for (let x = re.exec(arg); x; x = re.exec(arg)) out.push([x[1], x[2].startsWith('"') ? (JSON.parse(x[2]) as string) : x[2]]);
    return out;
  };
  switch (kw) {
    case 'CMD':
      cfg.Cmd = cmdForm();
      break;
    case 'ENTRYPOINT':
      cfg.Entrypoint = cmdForm();
      break;
    case 'WORKDIR':
      cfg.WorkingDir = arg;
      break;
    case 'USER':
      cfg.User = arg;
      break;
    case 'STOPSIGNAL':
      cfg.StopSignal = arg;
      break;
    case 'ENV':
      for (const [k, v] of pairs()) cfg.Env = [...(cfg.Env ?? []).filter((e) => e.split('=')[0] !== k), `${k}=${v}`];
      break;
    case 'LABEL':
      for (const [k, v] of pairs()) cfg.Labels = { ...(cfg.Labels ?? {}), [k]: v };
      break;
    default:
      throw badRequest(`glassbox: commit --change ${kw} is not supported (CMD, ENTRYPOINT, ENV, WORKDIR, LABEL, USER, STOPSIGNAL are)`);
  }
}

/** POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes= (body: a container Config) → {"Id"} */
export async function commit(ctx: Ctx, engine: EngineApi): Promise<void> {
  const container = ctx.query.get('container');
  if (!container) throw badRequest('commit: a container is required (?container=)');
  const body = (await jsonBody(ctx, null)) as Record<string, unknown> | null;
  const changes: NonNullable<CommitOptions['changes']> = {};
  if (body && typeof body === 'object') {
    const { Cmd, Env, Entrypoint, WorkingDir, Labels, User, StopSignal } = body;
    if (STRING_LIST(Cmd)) changes.Cmd = Cmd;
    if (STRING_LIST(Entrypoint)) changes.Entrypoint = Entrypoint;
    if (STRING_LIST(Env)) changes.Env = Env;
    if (typeof WorkingDir === 'string' && WorkingDir) changes.WorkingDir = WorkingDir;
    if (typeof User === 'string' && User) changes.User = User;
    if (typeof StopSignal === 'string' && StopSignal) changes.StopSignal = StopSignal;
    if (Labels && typeof Labels === 'object') changes.Labels = Labels as Record<string, string>;
  }
  for (const c of ctx.query.getAll('changes')) for (const line of c.split('\n')) if (line.trim()) applyChange(changes, line);
  const repo = ctx.query.get('repo');
  const t = ctx.query.get('tag');
  if (!repo && t) throw badRequest('commit: a tag needs a repository (?repo=)');
  const opts: CommitOptions & { pause?: boolean } = {
    // without a repository the image has no name (<none>:<none>), as with Docker
    ...(repo ? { ref: `${familiarName(repo)}:${t || 'latest'}` } : { untagged: true }),
    ...(ctx.query.get('comment') ? { comment: ctx.query.get('comment')! } : {}),
    ...(ctx.query.get('author') ? { author: ctx.query.get('author')! } : {}),
    ...(Object.keys(changes).length ? { changes } : {}),
    pause: boolParam(ctx.query, 'pause', true),
  };
  const r = await engine.commit(container, opts);
  sendJson(ctx, 201, { Id: r.id });
}

/** GET /images/get?names=a&names=b and GET /images/{name}/get: a docker-save tar, streamed. */
export async function save(ctx: Ctx, engine: EngineApi): Promise<void> {
  const names = ctx.params[0] ? [ctx.params[0]] : ctx.query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean);
  if (!names.length) throw badRequest('save: no image names given (?names=)');
  const refs = names.map(familiarName);
  for (const r of refs) engine.inspectImage(r); // a missing image is a 404 before the tar starts
  const res = ctx.res;
  if (!res) throw badRequest('save: not an upgrade request');
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await engine.saveImages(refs, 'docker', res);
  } catch (e) {
    // the tar is cut short: the client sees a truncated archive, as with Docker
    if (process.env.GLASSBOX_DEBUG) console.error('[docker api] save', e);
    res.destroy(e as Error);
    return;
  }
  if (!res.writableEnded) res.end();
}

/** POST /images/load?quiet= with a tar body (docker save or OCI layout) → "Loaded image" lines. */
export async function load(ctx: Ctx, engine: EngineApi): Promise<void> {
  const res = ctx.res;
  if (!res) throw badRequest('load: not an upgrade request');
  let loaded;
  const out = jsonLines(res);
  try {
    loaded = await engine.loadImages(ctx.req);
  } catch (e) {
    ctx.req.resume();
    // as Docker does: the answer is a 200 JSON stream, and what went wrong is its error line
    if (process.env.GLASSBOX_DEBUG) console.error('[docker api] load', e);
    out.write(errorLine(toHttpError(e).message));
    out.end();
    return;
  }
  for (const img of loaded) {
    if (img.refs.length) for (const r of img.refs) out.write({ stream: `Loaded image: ${r}\n` });
    else out.write({ stream: `Loaded image ID: ${img.id.startsWith('sha256:') ? img.id : `sha256:${img.id}`}\n` });
  }
  out.end();
}
