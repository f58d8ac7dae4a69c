// Container endpoints that answer once: create, list, inspect, lifecycle, wait, update, top, diff.
import type { EngineApi, ImageDetail } from '../../engine/index.js';
import type { ContainerRecord } from '../../engine/index.js';
import { changesJson, containerFilter, containerInspect, containerSummary, type ImageDefaults, type NetworkList } from './container-json.js';
import { parseCreateBody, toContainerConfig } from './create-config.js';
import { ApiError, badRequest, errorKind } from './errors.js';
import { parseFilters } from './filters.js';
import { boolParam, intParam, jsonBody, sendEmpty, sendJson, type Ctx } from './http.js';
import type { AdapterState } from './state.js';
import { toEngineUpdate } from './update-config.js';
import { isActive } from '../../engine/index.js';

const isLive = (r: ContainerRecord) => isActive(r.state.status);

export function imageDefaults(engine: EngineApi, rec: ContainerRecord): ImageDefaults {
  let img: ImageDetail;
  try {
    img = engine.inspectImage(rec.image.id);
  } catch {
    return {};
  }
  return ((img.config as { config?: ImageDefaults }).config ?? {}) as ImageDefaults;
}

/** The engine's networks for the JSON of containers; none when it runs without networking. */
function networksFor(engine: EngineApi): NetworkList {
  try {
    return engine.listNetworks();
  } catch {
    return [];
  }
}

/**
 * A user-defined network must exist at create (the engine would only find out at start). A 400,
 * not Docker's 404: the docker CLI takes any 404 from create for a missing image and tries to pull.
 */
function checkNetwork(engine: EngineApi, mode: string | undefined): void {
  if (!mode || ['none', 'host', 'bridge', 'default'].includes(mode) || mode.startsWith('container:')) return;
  try {
    engine.inspectNetwork(mode);
  } catch (e) {
    if (errorKind(e) === 'not-found') throw badRequest(`network ${mode} not found`);
    // an engine without networking: its create says so in its own words
  }
}

export async function create(ctx: Ctx, engine: EngineApi): Promise<void> {
  const body = parseCreateBody(await jsonBody(ctx));
  const name = ctx.query.get('name') || undefined;
  const config = toContainerConfig(body, name);
  checkNetwork(engine, config.network);
  const rec = await engine.create(config);
  sendJson(ctx, 201, { Id: rec.id, Warnings: [] });
}

export function list(ctx: Ctx, engine: EngineApi): void {
  const filters = parseFilters(ctx.query.get('filters'));
  const all = boolParam(ctx.query, 'all') || (filters.get('status')?.some((s) => s !== 'running') ?? false) || filters.has('exited');
  let recs = engine.list({ all }).filter(containerFilter(filters));
  const limit = intParam(ctx.query, 'limit');
  if (limit && limit > 0) recs = recs.slice(0, limit);
  const nets = networksFor(engine);
  sendJson(ctx, 200, recs.map((r) => containerSummary(r, Date.now(), nets)));
}

export function inspect(ctx: Ctx, engine: EngineApi): void {
  const rec = engine.get(ctx.params[0]);
  sendJson(ctx, 200, containerInspect(rec, imageDefaults(engine, rec), networksFor(engine)));
}

export async function start(ctx: Ctx, engine: EngineApi): Promise<void> {
  const rec = engine.get(ctx.params[0]);
  if (isLive(rec)) return sendEmpty(ctx, 304);
  try {
    await engine.start(rec.id);
  } catch (e) {
    // Docker removes an --rm container whose start failed (no exit will ever remove it)
    if (rec.config.autoRemove) await engine.remove(rec.id, { force: true }).catch(() => {});
    throw e;
  }
  sendEmpty(ctx, 204);
}

export async function stop(ctx: Ctx, engine: EngineApi): Promise<void> {
  const rec = engine.get(ctx.params[0]);
  if (!isLive(rec) && rec.state.status !== 'restarting') return sendEmpty(ctx, 304);
  const t = intParam(ctx.query, 't');
  await engine.stop(rec.id, { timeoutSeconds: t === undefined || t < 0 ? undefined : t, signal: ctx.query.get('signal') || undefined });
  sendEmpty(ctx, 204);
}

export async function kill(ctx: Ctx, engine: EngineApi): Promise<void> {
  await engine.kill(ctx.params[0], ctx.query.get('signal') || 'SIGKILL');
  sendEmpty(ctx, 204);
}

export async function restart(ctx: Ctx, engine: EngineApi): Promise<void> {
  const t = intParam(ctx.query, 't');
  await engine.restart(ctx.params[0], { timeoutSeconds: t === undefined || t < 0 ? undefined : t });
  sendEmpty(ctx, 204);
}

export async function pause(ctx: Ctx, engine: EngineApi): Promise<void> {
  await engine.pause(ctx.params[0]);
  sendEmpty(ctx, 204);
}

export async function unpause(ctx: Ctx, engine: EngineApi): Promise<void> {
  await engine.unpause(ctx.params[0]);
  sendEmpty(ctx, 204);
}

export async function remove(ctx: Ctx, engine: EngineApi): Promise<void> {
  if (boolParam(ctx.query, 'link')) throw badRequest('glassbox: links are not supported (docker rm --link)');
  // v: its anonymous volumes go too (named ones stay, as with Docker)
  await engine.remove(ctx.params[0], { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
  sendEmpty(ctx, 204);
}

export async function rename(ctx: Ctx, engine: EngineApi): Promise<void> {
  const name = ctx.query.get('name');
  if (!name) throw badRequest('rename: the new name is required (?name=)');
  await engine.rename(ctx.params[0], name);
  sendEmpty(ctx, 204);
}

/**
 * POST /containers/{id}/wait. Headers go out at once (the client waits for them before it
 * starts the container), the body when the condition is met. A wait that arrives just after the
 * container ended (docker run of a fast command) is answered from the exit the adapter saw.
 */
export async function wait(ctx: Ctx, engine: EngineApi, state: AdapterState): Promise<void> {
  const condition = ctx.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
  let rec: ContainerRecord;
  try {
    rec = engine.get(ctx.params[0]);
  } catch (e) {
    const gone = condition !== 'next-exit' ? state.recentlyDestroyed(ctx.params[0]) : undefined;
    if (!gone) throw e;
    return sendJson(ctx, 200, { StatusCode: gone.exitCode, Error: null });
  }
  const res = ctx.res!;
  const recent = state.recentExit(rec.id);
  let result: { exitCode: number; error?: string };
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  if (condition === 'next-exit' && recent && rec.state.status === 'exited') {
    result = { exitCode: recent.exitCode };
  } else if (condition === 'removed' && rec.config.autoRemove && rec.state.status === 'exited' && recent) {
    // removal of an --rm container is under way: wait for it, but do not miss it
    result = await Promise.race([
      engine.wait(rec.id, 'removed'),
      new Promise<{ exitCode: number }>((resolve) => {
        const poll = setInterval(() => {
          if (state.recentlyDestroyed(rec.id) || !engine.list({ all: true }).some((r) => r.id === rec.id)) {
            clearInterval(poll);
            resolve({ exitCode: recent.exitCode });
          }
        }, 50);
      }),
    ]);
  } else {
    const abort = new Promise<never>((_, reject) => res.once('close', () => reject(new ApiError(499, 'client went away'))));
    abort.catch(() => {});
    try {
      result = await Promise.race([engine.wait(rec.id, condition as 'not-running' | 'next-exit' | 'removed'), abort]);
    } catch {
      res.destroy();
      return;
    }
  }
  res.end(JSON.stringify({ StatusCode: result.exitCode, Error: result.error ? { Message: result.error } : null }) + '\n');
}

export async function update(ctx: Ctx, engine: EngineApi): Promise<void> {
  const change = toEngineUpdate(await jsonBody(ctx));
  await engine.update(ctx.params[0], change);
  sendJson(ctx, 200, { Warnings: [] });
}

export async function top(ctx: Ctx, engine: EngineApi): Promise<void> {
  const r = await engine.top(ctx.params[0], ctx.query.get('ps_args') || undefined);
  sendJson(ctx, 200, { Titles: r.titles, Processes: r.processes });
}

export async function changes(ctx: Ctx, engine: EngineApi): Promise<void> {
  sendJson(ctx, 200, changesJson(await engine.changes(ctx.params[0])));
}

/** POST /containers/{id}/resize?h=&w= : through the live attach session, or a short one. */
export async function resize(ctx: Ctx, engine: EngineApi, state: AdapterState): Promise<void> {
  const h = intParam(ctx.query, 'h');
  const w = intParam(ctx.query, 'w');
  if (!h || !w || h < 0 || w < 0) throw badRequest('resize: h and w must be positive integers');
  const rec = engine.get(ctx.params[0]);
  if (!isLive(rec)) throw new ApiError(409, `Container ${rec.id} is not running`);
  const sessions = state.attachesOf(rec.id);
  if (sessions.length) for (const s of sessions) s.resize(h, w);
  else {
    const s = await engine.attach(rec.id);
    s.resize(h, w);
    setTimeout(() => s.detach(), 50).unref();
  }
  sendEmpty(ctx, 200);
}
