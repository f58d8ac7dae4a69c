// Streaming container endpoints: attach (hijacked), logs, stats and events.
import type { Duplex } from 'node:stream';
import type { EngineApi } from '../../engine/index.js';
import { DEFAULT_DETACH_KEYS, detachScanner, parseDetachKeys, passThrough } from './detach-keys.js';
import { ApiError, badRequest } from './errors.js';
import { eventFilter, parseEventTime } from './events-json.js';
import { parseFilters } from './filters.js';
import { boolParam, sendJson, type Ctx } from './http.js';
import { statsJson, systemCpuUsageNs, type CpuSample } from './stats-json.js';
import type { AdapterState } from './state.js';
import { STDERR, STDOUT, muxFrame, upgradeResponse } from './stream.js';

/** POST /containers/{id}/attach: hijack the connection and splice it to init's stdio. */
export async function attach(ctx: Ctx, engine: EngineApi, state: AdapterState): Promise<void> {
  const rec = engine.get(ctx.params[0]);
  const q = ctx.query;
  const tty = rec.config.tty === true;
  const wantIn = boolParam(q, 'stdin');
  const wantOut = boolParam(q, 'stdout');
  const wantErr = boolParam(q, 'stderr');
  if (!boolParam(q, 'stream') && !boolParam(q, 'logs')) throw badRequest('attach: stream or logs must be set');
  if (rec.state.status === 'paused') throw new ApiError(409, `You cannot attach to a paused container, unpause it first`);
  if (['exited', 'dead'].includes(rec.state.status) && rec.state.startedAt && boolParam(q, 'stream') && !boolParam(q, 'logs')) {
    throw new ApiError(409, 'You cannot attach to a stopped container, start it first');
  }

  const keys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS);
  // Without an upgrade (a plain HTTP client), stream the output on the response.
  const sock: Duplex | null = ctx.socket ?? null;
  const out = sock ?? ctx.res!;
  if (sock) {
    sock.write(upgradeResponse(tty));
  } else {
    ctx.res!.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    // at once: a client that attaches and then starts (dockerode's run()) waits for these headers
    // before it sends the start, and the output only comes after the start
    ctx.res!.flushHeaders();
  }
  const write = (stream: number, data: Buffer) => {
    if (!data.length || (out as Duplex).destroyed || (out as Duplex).writableEnded) return;
    out.write(tty ? data : muxFrame(stream, data));
  };
  const end = () => {
    if (!(out as Duplex).writableEnded) out.end();
  };

  let closed = false;
  const onGone = () => (closed = true);
  (sock ?? ctx.res!).once('close', onGone);

  // the none log driver keeps no past output: attach then shows only what comes next
  if (boolParam(q, 'logs') && rec.logging?.driver !== 'none') {
    for await (const e of engine.logs(rec.id, { stdout: wantOut, stderr: wantErr })) {
      write(e.stream === 'stderr' ? STDERR : STDOUT, Buffer.from(e.log));
    }
  }
  if (!boolParam(q, 'stream')) return end();

  const session = await engine.attach(rec.id);
  if (closed) {
    session.detach();
    return;
  }
  const forget = state.addAttach(rec.id, session);
  if (wantOut) session.onStdout((d) => write(STDOUT, d));
  if (wantErr) session.onStderr((d) => write(STDERR, d));
  session.onExit(() => setImmediate(end));
  session.onClose(() => {
    forget();
    end();
  });
  if (sock) {
    if (wantIn) {
      // ctrl-p ctrl-q (or ?detachKeys=): the container goes on, the connection ends. Only on a
      // TTY, as in Docker: without one, stdin is data (a tar piped in may hold those bytes)
      const scan = tty ? detachScanner(keys) : passThrough;
      let detached = false;
      sock.on('data', (d: Buffer) => {
        if (detached) return;
        const r = scan(d);
        if (r.pass.length) session.write(r.pass);
        if (r.detached) {
          detached = true;
          forget();
          session.detach();
          end();
        }
      });
      // the client's EOF closes init's stdin only for StdinOnce (docker run -i), as in Docker: a
      // `docker attach` that leaves (or detaches) lets the container keep its stdin
      sock.on('end', () => {
        if (!detached && rec.config.stdinOnce) session.closeStdin();
      });
    } else {
      sock.on('data', () => {});
    }
    sock.resume();
  }
  (sock ?? ctx.res!).once('close', () => {
    forget();
    session.detach();
  });
}

function logTime(iso: string): string {
  return iso;
}

/** GET /containers/{id}/logs */
export async function logs(ctx: Ctx, engine: EngineApi): Promise<void> {
  const rec = engine.get(ctx.params[0]);
  const q = ctx.query;
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw badRequest('Bad parameters: you must choose at least one stream');
  const tailRaw = q.get('tail');
  // "all", and any negative number (Testcontainers sends -1), is every line, as in Docker
  const tail = !tailRaw || tailRaw === 'all' || /^-\d+$/.test(tailRaw) ? undefined : Number(tailRaw);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw badRequest(`invalid tail value: ${tailRaw}`);
  const since = q.get('since') ? parseEventTime(q.get('since'))! / 1000 : undefined;
  const until = q.get('until') ? parseEventTime(q.get('until'))! / 1000 : undefined;
  const timestamps = boolParam(q, 'timestamps');
  const tty = rec.config.tty === true;
  const res = ctx.res!;
  const ac = new AbortController();
  res.once('close', () => ac.abort());
  // before the headers: a driver with nothing to read (none) is an error response
  const entries = engine.logs(rec.id, { follow: boolParam(q, 'follow'), tail, since, until, stdout, stderr, signal: ac.signal });
  res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  res.flushHeaders();
  for await (const e of entries) {
    if (ac.signal.aborted) break;
    const text = timestamps ? `${logTime(e.time)} ${e.log}` : e.log;
    const data = Buffer.from(text);
    res.write(tty ? data : muxFrame(e.stream === 'stderr' ? STDERR : STDOUT, data));
  }
  res.end();
}

/** GET /containers/{id}/stats: one object (stream=false) or one a second. */
export async function stats(ctx: Ctx, engine: EngineApi): Promise<void> {
  const rec = engine.get(ctx.params[0]);
  const stream = boolParam(ctx.query, 'stream', true);
  const oneShot = boolParam(ctx.query, 'one-shot');
  const version = engine.info().cgroupVersion;
  const sample = async (): Promise<CpuSample | null> => {
    try {
      return { stats: await engine.stats(rec.id), systemNs: systemCpuUsageNs() };
    } catch {
      return null; // not running (any more): Docker answers with zeros
    }
  };
  const body = (cur: CpuSample | null, pre: CpuSample | null) =>
    cur
      ? statsJson({ id: rec.id, name: engine.get(rec.id).name, cur, pre, cgroupVersion: version })
      : { name: `/${rec.name}`, id: rec.id, read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {}, cpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, precpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, memory_stats: {} };

  if (!stream) {
    let pre: CpuSample | null = null;
    if (!oneShot) {
      // Docker waits for a second sample so that precpu_stats is filled: CPU % needs two
      pre = await sample();
      await new Promise((r) => setTimeout(r, 500));
    }
    return sendJson(ctx, 200, body(await sample(), pre));
  }
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  let closed = false;
  res.once('close', () => (closed = true));
  let pre: CpuSample | null = null;
  while (!closed) {
    const cur = await sample();
    res.write(JSON.stringify(body(cur, pre)) + '\n');
    if (!cur) break;
    pre = cur;
    await new Promise((r) => setTimeout(r, 1000));
  }
  res.end();
}

/** GET /events: recent events (since), then live ones until `until` or the client leaves. */
export async function events(ctx: Ctx, state: AdapterState): Promise<void> {
  const filter = eventFilter(parseFilters(ctx.query.get('filters')));
  const now = Date.now();
  const since = parseEventTime(ctx.query.get('since'), now);
  const until = parseEventTime(ctx.query.get('until'), now);
  if (since !== undefined && until !== undefined && until < since) throw badRequest('`since` time must be before `until`');
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const send = (e: { timeNano: number }) => res.write(JSON.stringify(e) + '\n');
  if (since !== undefined) {
    for (const e of state.events) {
      const ms = e.timeNano / 1e6;
      if (ms >= since && (until === undefined || ms <= until) && filter(e)) send(e);
    }
  }
  if (until !== undefined && until <= Date.now()) return void res.end();
  await new Promise<void>((resolve) => {
    const off = state.subscribe((e) => {
      if (filter(e)) send(e);
    });
    const timer = until !== undefined ? setTimeout(finish, until - Date.now()) : null;
    function finish() {
      off();
      if (timer) clearTimeout(timer);
      resolve();
    }
    res.once('close', finish);
  });
  if (!res.writableEnded) res.end();
}

