// Image endpoints: list, inspect, history, tag, remove; and pull, which Glassbox cannot do yet.
import type { EngineApi } from '../../engine/api.js';
import { ApiError, badRequest } from './errors.js';
import { checkFilterKeys, labelMatches, parseFilters } from './filters.js';
import { boolParam, sendJson, type Ctx } from './http.js';
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
    if (filters.get('label')?.length && !labelMatches({}, filters.get('label')!)) return false;
    return true;
  });
  sendJson(ctx, 200, imgs.map(imageSummaryJson));
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

/** POST /images/create (docker pull, and docker run of a missing image). */
export function pull(ctx: Ctx, engine: EngineApi): void {
  const fromRaw = ctx.query.get('fromImage');
  const from = fromRaw ? familiarName(fromRaw) : null;
  if (ctx.query.get('fromSrc')) throw badRequest('glassbox: docker import is not supported');
  const ref = `${from ?? ''}${ctx.query.get('tag') ? `:${ctx.query.get('tag')}` : ''}`;
  const have = engine.listImages().flatMap((i) => i.repoTags);
  throw new ApiError(
    404,
    `pull access denied for ${from ?? '?'}: glassbox: pulling images (${ref}) comes with the images issue; available images: ${have.join(', ') || 'none'}`,
  );
}
