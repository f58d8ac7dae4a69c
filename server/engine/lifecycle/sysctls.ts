// --sysctl: namespaced kernel parameters, written while the container's namespaces exist and its
// command has not run (at the create barrier). /proc/sys shows the namespace of the process that
// opens the file, so each value is written by a short process that joined the container's net or
// IPC namespace with nsenter(1) (setns(2)); only that namespace changes, never the host's.
// validate-extras.ts has already refused every key that is not namespaced.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgument } from '../types.js';
import { sysctlNamespace } from '../containers/validate-extras.js';

const run = promisify(execFile);

export async function applySysctls(pid: number, sysctls: Record<string, string>): Promise<{ call: string; ms: number }[]> {
  const steps: { call: string; ms: number }[] = [];
  for (const [key, value] of Object.entries(sysctls)) {
    const ns = sysctlNamespace(key);
    if (!ns) throw new InvalidArgument(`--sysctl ${key}: not a namespaced sysctl`);
    const file = `/proc/sys/${key.replace(/\./g, '/')}`;
    const t = performance.now();
    try {
      // sh -c 'printf ... > file' with the path and value as arguments: nothing is parsed as shell
      await run('nsenter', [`--target=${pid}`, `--${ns}`, '--', '/bin/sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'sysctl', value, file], { timeout: 10_000 });
    } catch (e) {
      const msg = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').at(-1) ?? '';
      throw new InvalidArgument(`--sysctl ${key}=${value}: ${/No such file|nonexistent/.test(msg) ? 'no such sysctl in the container' : msg}`);
    }
    steps.push({ call: `setns(${ns}); write("${file}", "${value}")`, ms: performance.now() - t });
  }
  return steps;
}
