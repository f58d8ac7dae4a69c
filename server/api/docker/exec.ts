// docker exec: create (remembered here), start (hijacked like attach, or detached), resize, inspect.
import { z } from 'zod';
import type { EngineApi } from '../../engine/index.js';
import { DEFAULT_DETACH_KEYS, detachScanner, parseDetachKeys, passThrough } from './detach-keys.js';
import { ApiError, badRequest } from './errors.js';
import { intParam, jsonBody, sendEmpty, sendJson, type Ctx } from './http.js';
import type { AdapterState, ExecEntry } from './state.js';
import { STDERR, STDOUT, muxFrame, upgradeResponse } from './stream.js';

const execCreateSchema = z.looseObject({
  User: z.string().optional(),
  Privileged: z.boolean().optional(),
  Tty: z.boolean().optional(),
  ConsoleSize: z.array(z.number().int().min(0)).length(2).nullish(),
  AttachStdin: z.boolean().optional(),
  AttachStdout: z.boolean().optional(),
  AttachStderr: z.boolean().optional(),
  Detach: z.boolean().optional(),
  DetachKeys: z.string().optional(),
  Env: z.array(z.string()).nullish(),
  WorkingDir: z.string().optional(),
  Cmd: z.array(z.string()).min(1, 'No exec command specified'),
});

const execStartSchema = z.looseObject({
  Detach: z.boolean().optional(),
  Tty: z.boolean().optional(),
  ConsoleSize: z.array(z.number().int().min(0)).length(2).nullish(),
});

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new ApiError(400, `invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export async function execCreate(ctx: Ctx, engine: EngineApi, state: AdapterState): Promise<void> {
  const body = parse(execCreateSchema, await jsonBody(ctx), 'exec config');
  const rec = engine.get(ctx.params[0]);
  if (rec.state.status === 'paused') throw new ApiError(409, `Container ${rec.id} is paused, unpause the container before exec`);
  if (rec.state.status !== 'running') throw new ApiError(409, `Container ${rec.id} is not running`);
  const detachKeys = parseDetachKeys(body.DetachKeys || DEFAULT_DETACH_KEYS);
  const entry = state.newExec({
    containerId: rec.id,
    cmd: body.Cmd,
    tty: body.Tty === true,
    attachStdin: body.AttachStdin === true,
    attachStdout: body.AttachStdout !== false,
    attachStderr: body.AttachStderr !== false,
    env: body.Env ?? undefined,
    user: body.User || undefined,
    workingDir: body.WorkingDir || undefined,
    privileged: body.Privileged === true,
    consoleSize: body.ConsoleSize ? [body.ConsoleSize[0], body.ConsoleSize[1]] : undefined,
    detachKeys,
  });
  sendJson(ctx, 201, { Id: entry.id });
}

function findExec(state: AdapterState, id: string): ExecEntry {
  const e = state.findExec(id);
  if (!e) throw new ApiError(404, `No such exec instance: ${id}`);
  return e;
}

export async function execStart(ctx: Ctx, engine: EngineApi, state: AdapterState): Promise<void> {
  const entry = findExec(state, ctx.params[0]);
  const body = parse(execStartSchema, await jsonBody(ctx, {}), 'exec start config');
  if (entry.running || entry.exitCode !== null) throw new ApiError(409, `exec ${entry.id} has already been started`);
  const tty = body.Tty ?? entry.tty;
  const size = body.ConsoleSize ?? entry.consoleSize;
  entry.running = true;
  let proc;
  try {
    proc = await engine.exec(entry.containerId, {
      cmd: entry.cmd,
      tty,
      env: entry.env,
      user: entry.user,
      workingDir: entry.workingDir,
      privileged: entry.privileged,
      ...(size && size[0] && size[1] ? { rows: size[0], cols: size[1] } : {}),
    });
  } catch (e) {
    entry.running = false;
    entry.exitCode = 126;
    entry.markEnded();
    throw e;
  }
  entry.process = proc;
  proc.onExit((code) => {
    entry.exitCode = code;
    entry.running = false;
    entry.markEnded();
  });

  if (body.Detach) {
    proc.onData(() => {});
    proc.onStderr(() => {});
    if (!tty) proc.end();
    return sendEmpty(ctx, 200);
  }

  const sock = ctx.socket;
  const out = sock ?? ctx.res!;
  let detached = false;
  if (sock) sock.write(upgradeResponse(tty));
  else ctx.res!.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  const write = (stream: number, data: Buffer) => {
    if (!data.length || out.writableEnded || (sock?.destroyed ?? false)) return;
    out.write(tty ? data : muxFrame(stream, data));
  };
  proc.onData((d) => {
    if (entry.attachStdout || tty) write(STDOUT, d);
  });
  proc.onStderr((d) => {
    if (entry.attachStderr) write(STDERR, d);
  });
  void entry.ended.then(() => setImmediate(() => !out.writableEnded && out.end()));
  if (sock) {
    if (entry.attachStdin) {
      // the detach keys leave the process running (as Docker's exec does) and end the connection;
      // only with a TTY, as in Docker: `docker exec -i` without one copies stdin as it is
      const scan = tty ? detachScanner(entry.detachKeys ?? parseDetachKeys(DEFAULT_DETACH_KEYS)) : passThrough;
      sock.on('data', (d: Buffer) => {
        if (detached) return;
        const { pass, detached: now } = scan(d);
        if (pass.length) proc.write(pass);
        if (now) {
          detached = true;
          proc.onData(() => {});
          if (!out.writableEnded) out.end();
        }
      });
      sock.on('end', () => {
        if (!tty && !detached) proc.end();
      });
    } else {
      sock.on('data', () => {});
      if (!tty) proc.end();
    }
    sock.resume();
    sock.once('close', () => {
      // the client left (killed docker exec): the process goes with it, as with a closed pty
      if (entry.running && !detached) proc.kill('SIGKILL');
    });
  } else if (!tty) proc.end();
}

export function execResize(ctx: Ctx, state: AdapterState): void {
  const entry = findExec(state, ctx.params[0]);
  const h = intParam(ctx.query, 'h');
  const w = intParam(ctx.query, 'w');
  if (!h || !w || h < 0 || w < 0) throw badRequest('resize: h and w must be positive integers');
  if (!entry.process) throw new ApiError(409, `exec ${entry.id} is not running`);
  entry.process.resize(w, h);
  sendEmpty(ctx, 200);
}

export function execInspect(ctx: Ctx, state: AdapterState): void {
  const e = findExec(state, ctx.params[0]);
  sendJson(ctx, 200, {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: { tty: e.tty, entrypoint: e.cmd[0], arguments: e.cmd.slice(1), privileged: e.privileged, user: e.user ?? '' },
    OpenStdin: e.attachStdin,
    OpenStderr: e.attachStderr,
    OpenStdout: e.attachStdout,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: '',
    Pid: e.process?.pid ?? 0,
  });
}
