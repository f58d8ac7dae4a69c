// The server can be killed with SIGKILL at any moment: the next one re-adopts running containers
// (pid + start time) and cleans up after the ones that ended while no server was watching.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { hostLeftovers } from './support.js';
import { isSameProcess } from '../../server/engine/util/proc.js';

const base = mkdtempSync('/tmp/gbt-');
const root = join(base, 'root');
const runRoot = join(base, 'run');
let engine: Engine | null = null;

afterAll(async () => {
  if (engine) {
    for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
    await engine.close();
  }
  rmSync(base, { recursive: true, force: true });
});

/** Start a server in a child process, run containers in it, and SIGKILL it. */
async function runInDoomedServer(script: string): Promise<Record<string, string>> {
  const code = `
    import { Engine } from ${JSON.stringify(join(process.cwd(), 'server/engine/engine.ts'))};
    const engine = await Engine.open({ root: ${JSON.stringify(root)}, runRoot: ${JSON.stringify(runRoot)}, network: false });
    const out = {};
    ${script}
    console.log(JSON.stringify(out));
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (c) => reject(new Error(`server exited early with ${c}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return JSON.parse(line) as Record<string, string>;
}

describe('restore after the server is killed', () => {
  it('re-adopts running containers and finalizes the ones that ended meanwhile', async () => {
    mkdirSync(base, { recursive: true });
    const ids = await runInDoomedServer(`
      out.sleeper = (await engine.run({ image: 'base', init: true, cmd: ['/bin/sh', '-c', 'sleep 60'], limits: { memory: 64 * 1024 * 1024 } })).id;
      out.quick = (await engine.run({ image: 'base', cmd: ['/bin/sh', '-c', 'sleep 1; exit 7'] })).id;
    `);
    // The quick one ends while no server runs: its monitor writes exit.json and goes.
    await new Promise((r) => setTimeout(r, 1800));

    engine = await Engine.open({ root, runRoot, network: false });
    const sleeper = engine.get(ids.sleeper);
    expect(sleeper.state.status).toBe('running');
    expect(isSameProcess(sleeper.state.pid, sleeper.state.pidStartTime)).toBe(true);
    expect((await engine.stats(ids.sleeper)).memory.limit).toBe(64 * 1024 * 1024);

    const quick = engine.get(ids.quick);
    expect(quick.state.status).toBe('exited');
    expect(quick.state.exitCode).toBe(7);
    expect(existsSync(join(runRoot, ids.quick))).toBe(false);

    // The adopted container is still fully managed: stop reaches it, its exit is noticed.
    await engine.stop(ids.sleeper, { timeoutSeconds: 2 });
    expect(engine.get(ids.sleeper).state.status).toBe('exited');
    expect(engine.get(ids.sleeper).state.exitCode).toBe(143);

    for (const c of engine.list({ all: true })) await engine.remove(c.id);
    const left = hostLeftovers(root);
    expect(left.mounts).toEqual([]);
    expect(left.cgroups).toEqual([]);
  }, 60_000);
});
