// OCI hooks: programs the runtime runs in its own namespaces at points of the lifecycle, with the
// container's state JSON on their stdin (prestart/createRuntime in create, poststart in start,
// poststop in delete). A failing prestart/createRuntime hook fails the create; poststart and
// poststop failures are warnings (runtime spec, "Lifecycle").
import { spawn } from 'node:child_process';
import type { HookName, OciHook } from '../engine/runtime/bundle.js';

export function runHook(h: OciHook, state: Record<string, unknown>, name: HookName): Promise<void> {
  return new Promise((resolveHook, reject) => {
    const child = spawn(h.path, (h.args ?? [h.path]).slice(1), {
      argv0: h.args?.[0] ?? h.path,
      env: hookEnv(h.env ?? []) as NodeJS.ProcessEnv,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString().slice(0, 2000)));
    child.stdin!.on('error', () => {});
    child.stdin!.end(JSON.stringify(state));
    const timer = h.timeout && h.timeout > 0 ? setTimeout(() => child.kill('SIGKILL'), h.timeout * 1000) : null;
    child.on('error', (e) => reject(new Error(`${name} hook ${h.path}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolveHook();
      else reject(new Error(`${name} hook ${h.path} failed (${signal ? `killed by ${signal}` : `exit status ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

/** prestart/createRuntime: the first failure fails the lifecycle step. */
export async function runHooks(hooks: OciHook[] | undefined, state: Record<string, unknown>, name: HookName): Promise<void> {
  for (const h of hooks ?? []) await runHook(h, state, name);
}

/** poststart/poststop: a failure is a warning, and the remaining hooks still run. */
export async function runHooksWarning(hooks: OciHook[] | undefined, state: Record<string, unknown>, name: HookName, warn: (msg: string) => void): Promise<void> {
  for (const h of hooks ?? []) {
    try {
      await runHook(h, state, name);
    } catch (e) {
      warn((e as Error).message);
    }
  }
}

/** The hook's environment is exactly its env list (none of the runtime's own variables). */
function hookEnv(list: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of list) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  return env;
}
