// The real docker CLI against a Glassbox Docker API socket, for the e2e tests.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DOCKER = '/usr/local/bin/docker';

export interface DockerResult {
  code: number;
  out: string;
  err: string;
}

/**
 * `docker` resolves with the exit code and output; `ok` throws unless the command succeeded.
 * Always async: the API server runs in the test's own process, a sync spawn would deadlock it.
 */
export function dockerClient(socket: () => string, opts: { timeoutMs?: number; maxBuffer?: number } = {}) {
  async function docker(...args: string[]): Promise<DockerResult> {
    try {
      const r = await run(DOCKER, ['-H', `unix://${socket()}`, ...args], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: opts.maxBuffer ?? 16 << 20 });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (e) {
      const x = e as { code: number | string; stdout: string; stderr: string };
      return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? String(e) };
    }
  }
  async function ok(...args: string[]): Promise<string> {
    const r = await docker(...args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} → ${r.code}: ${r.err}${r.out}`);
    return r.out;
  }
  return { docker, ok };
}

/** One request on a Docker API unix socket; the answer's body as JSON where it is JSON. */
export function socketRequest(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; json: unknown; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {
          /* plain text */
        }
        resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
