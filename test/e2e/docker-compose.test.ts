// Debian's docker-compose (1.29, docker-py) against Glassbox's Docker API: a three-service project
// (web + worker + a one-shot job; a named volume, a user network, depends_on with a healthcheck,
// a published port, env_file). up -d, ps, logs, exec, then down -v leaves nothing behind.
// It leans on volumes (named, shared by two services), healthchecks and Attachable networks.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerApi } from '../../server/api/docker/server.js';
import { freePort, requireHost, until } from '../helpers.js';
import { openTestEngine, type TestEnv } from '../integration/support.js';

const COMPOSE = '/usr/bin/docker-compose';
requireHost('docker-compose e2e', { root: true, binaries: [COMPOSE], commands: ['ip', 'iptables'] });

let env: TestEnv;
let api: Awaited<ReturnType<typeof startDockerApi>>;
let sock = '';
let dir = '';
let port = 0;

/**
 * docker-compose with stdin at EOF (/dev/null), as a script runs it: compose's `exec` pumps its
 * stdin into the exec session (dockerpty), and a stdin pipe that never closes races the end of
 * the output.
 */
function compose(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(COMPOSE, ['-p', 'gbtc1', '-f', join(dir, 'docker-compose.yml'), ...args], {
      env: { ...process.env, DOCKER_HOST: `unix://${sock}`, COMPOSE_INTERACTIVE_NO_CLI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('error', (e) => err += String(e));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

const okCompose = async (...args: string[]) => {
  const r = await compose(...args);
  if (r.code !== 0) throw new Error(`docker-compose ${args.join(' ')} → ${r.code}: ${r.err}${r.out}`);
  return r.out + r.err;
};

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  sock = join(env.root, '..', 'docker.sock');
  api = await startDockerApi(env.engine, { socketPath: sock });
  dir = join(env.root, '..', 'project');
  mkdirSync(dir, { recursive: true });
  port = await freePort();
  writeFileSync(join(dir, 'web.env'), 'GREETING=hello-from-env-file\n');
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    `version: "3.8"
services:
  web:
    image: base
    command: ["sh", "-c", "mkdir -p /www && echo \\"$$GREETING\\" > /www/index.html && echo web up && exec httpd -f -p 8080 -h /www"]
    env_file: web.env
    ports: ["127.0.0.1:${port}:8080"]
    networks: [app]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 2s
      retries: 30
  worker:
    image: base
    command: ["sh", "-c", "while true; do wget -q -O- http://web:8080/ >> /data/fetched; echo fetched; sleep 1; done"]
    depends_on:
      web:
        condition: service_healthy
    networks: [app]
    volumes: ["data:/data"]
  job:
    image: base
    command: ["sh", "-c", "echo job ran > /data/job"]
    depends_on: [web]
    volumes: ["data:/data"]
volumes:
  data: {}
networks:
  app: {}
`,
  );
}, 120_000);

afterAll(async () => {
  if (dir) await compose('down', '-v', '--remove-orphans').catch(() => {});
  await api?.close();
  if (!env) return;
  for (const n of env.engine.listNetworks()) if (n.name.startsWith('gbtc1')) await env.engine.removeNetwork(n.id).catch(() => {});
  await env.cleanup();
}, 120_000);

describe('docker-compose against Glassbox', () => {
  it('up -d starts web (healthy) before worker; ps lists them; the port answers', async () => {
    await okCompose('up', '-d');
    const ps = await okCompose('ps');
    expect(ps).toMatch(/gbtc1_web_1\s.*Up.*\(healthy\)/);
    expect(ps).toMatch(/gbtc1_worker_1\s.*Up/);
    const body = await until(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      return r.text();
    }, 20_000);
    expect(body).toBe('hello-from-env-file\n');
  }, 180_000);

  it('logs and exec: the worker reached web by its service name through the named volume', async () => {
    await until(async () => {
      const logs = await okCompose('logs', '--no-color', 'worker');
      if (!/fetched/.test(logs)) throw new Error(logs);
    }, 20_000);
    expect(await okCompose('logs', '--no-color', 'web')).toMatch(/web up/);
    const fetched = await okCompose('exec', '-T', 'web', 'cat', '/data/fetched');
    expect(fetched).toMatch(/hello-from-env-file/);
    expect(await okCompose('exec', '-T', 'worker', 'cat', '/data/job')).toMatch(/job ran/);
  }, 120_000);

  it('down -v removes the containers, the network and the volume', async () => {
    await okCompose('down', '-v');
    expect(env.engine.list({ all: true })).toEqual([]);
    expect(env.engine.listNetworks().filter((n) => n.name.startsWith('gbtc1'))).toEqual([]);
  }, 120_000);
});
