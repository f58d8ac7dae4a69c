// Starting the cluster's processes for its test and benchmark: a Glassbox node (server/main.ts) or
// the front (server/front/main.ts) run with tsx, ready when a line says so, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { repo } from './e2e/dashboard-support.js';

export interface ScriptProc {
  name: string;
  proc: ChildProcess;
  port: number;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `script` with tsx, resolving once `ready` appears in its output (or rejecting when it exits). */
export async function runScript(name: string, script: string, args: string[], env: Record<string, string>, ready: RegExp, port: number): Promise<ScriptProc> {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repo, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 120 s:\n${out}`)), 120_000);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready:\n${out}`));
    });
  });
  return { name, proc, port, base: `http://127.0.0.1:${port}`, output: () => out, exited };
}

export async function stopScript(p: ScriptProc | undefined): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  process.kill(p.proc.pid!, 'SIGTERM');
  const t = setTimeout(() => p.proc.exitCode === null && process.kill(p.proc.pid!, 'SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(t);
}

