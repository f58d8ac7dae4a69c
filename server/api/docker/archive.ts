// Files in and out: HEAD/GET/PUT /containers/{id}/archive (docker cp), GET /containers/{id}/export,
// POST /images/create?fromSrc=- (docker import). The engine resolves every path inside the
// container's root; this only speaks HTTP.
import type { EngineApi, PathStat } from '../../engine/index.js';
import { badRequest } from './errors.js';
import { boolParam, sendEmpty, sendJson, type Ctx } from './http.js';

const statHeader = (s: PathStat) => Buffer.from(JSON.stringify(s)).toString('base64');

function pathParam(ctx: Ctx): string {
  const path = ctx.query.get('path');
  if (!path) throw badRequest('path: a path in the container is required (?path=)');
  if (path.includes('\0')) throw badRequest('path: must not contain a NUL byte');
  return path;
}

/** HEAD /containers/{id}/archive: the X-Docker-Container-Path-Stat header only. */
export async function archiveHead(ctx: Ctx, engine: EngineApi): Promise<void> {
  const stat = await engine.statPath(ctx.params[0], pathParam(ctx));
  ctx.res!.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
  ctx.res!.end();
}

/** GET /containers/{id}/archive: the path as a tar, its stat in the header. */
export async function archiveGet(ctx: Ctx, engine: EngineApi): Promise<void> {
  const path = pathParam(ctx);
  const res = ctx.res!;
  const stat = await engine.statPath(ctx.params[0], path); // a missing path is a 404 before any byte
  res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
  try {
    await engine.getArchive(ctx.params[0], path, res);
  } catch {
    res.destroy(); // the tar is cut short: the client sees a truncated archive, not a false success
  }
}

/** PUT /containers/{id}/archive: extract the uploaded tar into the directory at path. */
export async function archivePut(ctx: Ctx, engine: EngineApi): Promise<void> {
  const path = pathParam(ctx);
  await engine.putArchive(ctx.params[0], path, drainOnError(ctx), {
    noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
    copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
  });
  sendEmpty(ctx, 200);
}

/** GET /containers/{id}/export: the container's filesystem as a tar. */
export async function exportContainer(ctx: Ctx, engine: EngineApi): Promise<void> {
  const res = ctx.res!;
  engine.get(ctx.params[0]); // 404 before the answer starts
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await engine.exportContainer(ctx.params[0], res);
  } catch {
    res.destroy();
  }
}

/** POST /images/create?fromSrc=-: docker import of the uploaded tar (repo, tag, changes, message). */
export async function importImage(ctx: Ctx, engine: EngineApi): Promise<void> {
  const src = ctx.query.get('fromSrc');
  if (src !== '-') throw badRequest(`glassbox: docker import from a URL (fromSrc=${src}) is not supported: upload the tar (fromSrc=-)`);
  if (ctx.query.get('platform')) throw badRequest('glassbox: docker import --platform is not supported');
  const repo = ctx.query.get('repo') || undefined;
  const tag = ctx.query.get('tag') || undefined;
  const ref = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
  const r = await engine.importImage(drainOnError(ctx), { ref, changes: ctx.query.getAll('changes'), message: ctx.query.get('message') ?? undefined });
  sendJson(ctx, 200, { status: r.id });
}

/** The upload, drained if the engine refuses it before reading it all (the client then reads why). */
function drainOnError(ctx: Ctx) {
  ctx.res!.once('finish', () => ctx.req.resume());
  return ctx.req;
}
