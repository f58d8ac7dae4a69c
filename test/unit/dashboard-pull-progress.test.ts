// The form's pull progress (components/lib/pull-progress.ts) against a real HTTP server on
// loopback standing in for POST /api/images/pull: a refused pull and a stream that fails half way
// both end in a failed state (the error shown, no layer left waiting), never a bar stuck at 0%.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failPull, initialPull, pullFraction, pullWithProgress, reducePull, type PullState } from '../../components/lib/pull-progress';

let server: Server;
let base = '';
const realFetch = globalThis.fetch;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const { image } = JSON.parse(body) as { image: string };
      if (image.startsWith('missing')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `pull access denied for ${image}: connection refused` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(JSON.stringify({ type: 'layer', id: 'aaaa', status: 'downloading', current: 10, total: 100 }) + '\n');
      res.end(JSON.stringify({ type: 'error', message: 'layer aaaa: digest mismatch' }) + '\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // the page calls a relative URL: send it to the stand-in server
  globalThis.fetch = ((url: string, init?: RequestInit) => realFetch(base + url, init)) as typeof fetch;
});

afterAll(async () => {
  globalThis.fetch = realFetch;
  await new Promise((r) => server.close(r));
});

describe('pull progress', () => {
  it('ends a refused pull in a failed state that names the error', async () => {
    const seen: PullState[] = [];
    await expect(pullWithProgress('missing:1', (s) => seen.push(s))).rejects.toThrow(/connection refused/);
    const last = seen[seen.length - 1];
    expect(last.error).toMatch(/pull access denied for missing:1/);
    expect(last.done).toBe(false);
  });

  it('marks the layers of a pull that failed half way as failed', async () => {
    const seen: PullState[] = [];
    await expect(pullWithProgress('half:1', (s) => seen.push(s))).rejects.toThrow(/digest mismatch/);
    const last = seen[seen.length - 1];
    expect(last.error).toBe('layer aaaa: digest mismatch');
    expect(last.layers.map((l) => l.status)).toEqual(['failed']);
  });

  it('keeps finished layers as they were when failing', () => {
    let s = initialPull('x');
    s = reducePull(s, { type: 'layer', id: 'a', status: 'complete', current: 5, total: 5 });
    s = reducePull(s, { type: 'layer', id: 'b', status: 'downloading', current: 1, total: 5 });
    const f = failPull(s, 'boom');
    expect(f.layers.map((l) => l.status)).toEqual(['complete', 'failed']);
    expect(f.error).toBe('boom');
    expect(pullFraction(f)).toBeLessThan(1);
  });
});
