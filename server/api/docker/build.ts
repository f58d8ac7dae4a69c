// POST /build: the classic builder's endpoint (docker build with DOCKER_BUILDKIT=0). The body is
// the context tar; the query names the options; the answer is Docker's JSON stream:
//   {"stream":"Step 1/3 : FROM base\n"} … {"aux":{"ID":"sha256:…"}} {"stream":"Successfully built …"}
// and, when a step fails, {"errorDetail":{"code":1,"message":…},"error":…} as the last line.
// Options Glassbox cannot honour are refused by name before anything is read.
import type { EngineApi } from '../../engine/index.js';
import { BuildStepError } from '../../engine/index.js';
import { badRequest, toHttpError, unsupported } from './errors.js';
import { boolParam, sendJson, type Ctx } from './http.js';
import { familiarName } from './images.js';

function jsonParam<T>(ctx: Ctx, name: string, check: (v: unknown) => v is T): T | undefined {
  const raw = ctx.query.get(name);
  if (!raw) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw badRequest(`build: ${name} is not valid JSON`);
  }
  if (!check(v)) throw badRequest(`build: ${name} must be a JSON object of strings`);
  return v;
}

const stringMap = (v: unknown): v is Record<string, string> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
const argMap = (v: unknown): v is Record<string, string | null> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' || x === null);

export async function build(ctx: Ctx, engine: EngineApi): Promise<void> {
  const q = ctx.query;
  if (q.get('remote')) throw unsupported('build from a remote context (remote=)', 'send the context as a tar body');
  if (q.get('version') === '2') throw unsupported('the BuildKit builder (version=2)', 'use DOCKER_BUILDKIT=0: the classic builder');
  for (const name of ['squash', 'pull']) if (boolParam(q, name)) throw unsupported(`build --${name}`);
  const platform = q.get('platform');
  if (platform && !/^linux(\/(amd64|x86_64))?$/.test(platform)) throw unsupported(`build --platform ${platform}`);
  for (const name of ['cpusetcpus', 'cpusetmems', 'cpuquota', 'cpuperiod', 'memory', 'memswap', 'shmsize', 'cgroupparent', 'isolation']) {
    const v = q.get(name);
    if (v && v !== '0') throw unsupported(`build option ${name}`);
  }
  if (q.get('extrahosts')) throw unsupported('build --add-host');
  const tags = q.getAll('t').filter(Boolean).map((t) => familiarName(t));
  const res = ctx.res;
  if (!res) throw badRequest('build: not an upgrade request');
  const quiet = boolParam(q, 'q');
  const opts = {
    dockerfile: q.get('dockerfile') || undefined,
    tags,
    buildArgs: jsonParam(ctx, 'buildargs', argMap),
    labels: jsonParam(ctx, 'labels', stringMap),
    target: q.get('target') || undefined,
    noCache: boolParam(q, 'nocache'),
    network: q.get('networkmode') && q.get('networkmode') !== 'default' ? q.get('networkmode')! : undefined,
  };
  const write = (obj: unknown) => {
    if (res.destroyed || res.writableEnded) return;
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify(obj) + '\r\n');
  };
  try {
    const r = await engine.build(ctx.req, opts, (e) => {
      if (e.type === 'aux') write({ aux: { ID: e.id } });
      else if (!quiet) write({ stream: e.text });
    });
    if (quiet) write({ stream: `${r.id}\n` });
  } catch (e) {
    ctx.req.resume();
    const { status, message } = toHttpError(e);
    if (!res.headersSent && !(e instanceof BuildStepError) && status !== 500 && quiet) return sendJson(ctx, status, { message });
    write({ errorDetail: { ...(e instanceof BuildStepError && e.code !== undefined ? { code: e.code } : {}), message }, error: message });
  }
  if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
  if (!res.writableEnded) res.end();
}
