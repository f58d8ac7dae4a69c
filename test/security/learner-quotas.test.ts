// Quotas held by the kernel (issue 13): every container a learner owns lives in the learner's own
// cgroup, <parent>/learners/<lid>/<id>, in every hierarchy; the learner's quota is written on that
// group, so all their containers together meet it. Attacks, for real: memory beyond the quota
// (two containers of 40 MiB under 64 MiB), a fork bomb and a log flood next to another learner
// typing in a terminal, and bad quota values. Then a restart: the group is found again.
import { existsSync, readFileSync } from 'node:fs';
import { cpus as cpuList } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { errorKind, LearnerEngine, type ExecProcess } from '../../server/engine/index.js';
import { requireHost, requireKernelFeature } from '../helpers.js';
import { openTestEngine, type TestEnv } from '../integration/support.js';

requireHost('learner quota test', { root: true });

const MiB = 1024 * 1024;
const cpuCount = () => cpuList().length || 1;
let env: TestEnv;
const A = 'lrnqa';
const B = 'lrnqb';
const learner = (lid: string, from: number) => new LearnerEngine(env.engine, { learnerId: lid, ports: { from, to: from + 9 }, maxContainers: 4 });

beforeAll(async () => {
  env = await openTestEngine();
}, 120_000);

afterAll(async () => {
  if (!env) return;
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
  for (const lid of [A, B, 'lrnqz']) await env.engine.removeTenant(lid).catch(() => {});
  await env.cleanup();
});

async function removeAll(): Promise<void> {
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true });
}

/** /proc/<pid>/cgroup as hierarchy -> path ("memory" -> "/glassbox-t7/learners/a/<id>"). */
function procCgroups(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers, path] = line.split(':');
    out[controllers || 'unified'] = path;
  }
  return out;
}

const parent = () => env.engine.names.cgroupParent;
const run = (l: LearnerEngine, cmd: string) => l.run({ image: 'base', network: 'none', init: true, cmd: ['/bin/sh', '-c', cmd] });

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a learner's containers live in the learner's group", () => {
  it('puts both containers under learners/<lid>/ in every hierarchy, and the OCI cgroupsPath says the same', async () => {
    const a = learner(A, 21100);
    const ids = [(await run(a, 'sleep 300')).id, (await run(a, 'sleep 300')).id];
    const driverPaths = env.engine.cgroups.paths(ids[0]);
    expect(Object.keys(driverPaths).length).toBeGreaterThan(0);
    for (const id of ids) {
      const rec = env.engine.get(id);
      const want = `/${parent()}/learners/${A}/${id}`;
      const seen = procCgroups(rec.state.pid!);
      // every hierarchy the driver uses (v1: memory, cpu,cpuacct, pids ...; v2: the one tree)
      for (const [hierarchy, dir] of Object.entries(env.engine.cgroups.paths(id))) {
        expect(dir.endsWith(want), `${hierarchy}: ${dir}`).toBe(true);
        expect(seen[hierarchy], `/proc/${rec.state.pid}/cgroup, ${hierarchy}`).toBe(want);
      }
      const oci = env.engine.ociConfig(id) as { linux: { cgroupsPath: string } };
      expect(oci.linux.cgroupsPath).toBe(want);
      expect(env.engine.cgroups.groupOf(id)).toBe(`learners/${A}`);
    }
    expect(await env.engine.cgroups.list()).toEqual(expect.arrayContaining(ids));
    // the teacher's own container stays where it was: <parent>/<id>
    const t = await env.engine.run({ image: 'base', network: 'none', cmd: ['sleep', '300'] });
    expect(procCgroups(env.engine.get(t.id).state.pid!).memory ?? procCgroups(env.engine.get(t.id).state.pid!).unified).toBe(`/${parent()}/${t.id}`);
    await removeAll();
    // the group outlives its containers: it holds the learner's quota
    expect(await env.engine.cgroups.groups()).toContain(`learners/${A}`);
    await env.engine.removeTenant(A);
    expect(await env.engine.cgroups.groups()).not.toContain(`learners/${A}`);
  });
});

describe('memory beyond the quota', () => {
  it("OOM-kills inside that learner's group only: another learner's container is untouched", async () => {
    const a = learner(A, 21100);
    const b = learner(B, 21200);
    await env.engine.setTenantLimits(A, { memory: 64 * MiB });
    await env.engine.setTenantLimits(B, { memory: 64 * MiB });
    // tail holds all it read (no newline ends a line) and blocks writing it to sleep: 40 MiB held
    const hold = 'head -c 41943040 /dev/zero | tail | sleep 300';
    const b1 = await run(b, hold);
    const a1 = await run(a, hold);
    await until(async () => (await env.engine.tenantUsage(A)).memory.current >= 40 * MiB, 20_000, "A's first 40 MiB");
    await until(async () => (await env.engine.tenantUsage(B)).memory.current >= 40 * MiB, 20_000, "B's 40 MiB");
    const a2 = await run(a, hold); // together 80 MiB: above A's 64 MiB
    await until(async () => (await env.engine.tenantUsage(A)).memory.oomKills >= 1, 30_000, 'an OOM kill in A');
    const ua = await env.engine.tenantUsage(A);
    const ub = await env.engine.tenantUsage(B);
    expect(ua.memory.limit).toBe(64 * MiB);
    expect(ua.memory.current).toBeLessThanOrEqual(64 * MiB);
    // the victim is one of A's two containers' processes (whichever held more)
    const killsA = (await env.engine.stats(a1.id)).memory.events.oomKill + (await env.engine.stats(a2.id)).memory.events.oomKill;
    expect(killsA).toBeGreaterThanOrEqual(1);
    // B: nothing killed, still holding its 40 MiB, still running
    expect(ub.memory.oomKills).toBe(0);
    expect((await env.engine.stats(b1.id)).memory.events.oomKill).toBe(0);
    expect(ub.memory.current).toBeGreaterThanOrEqual(40 * MiB);
    expect(env.engine.get(b1.id).state.status).toBe('running');
    if (env.engine.cgroups.version === 1) {
      // v1: memory+swap is held to memory on the group: no way out through swap
      expect(ua.paths.memory).toBeTruthy();
      expect(readFileSync(join(ua.paths.memory!, 'memory.memsw.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * MiB));
    }
    await removeAll();
  }, 120_000);
});

/** One key -> echo round trip in a raw tty running cat: written, read back (ms). */
async function echoSampler(l: LearnerEngine, id: string): Promise<{ sample(): Promise<number>; close(): void }> {
  const p: ExecProcess = await l.exec(id, { cmd: ['/bin/sh', '-c', 'stty raw -echo; echo ready; exec cat'], tty: true });
  let buf = '';
  let waiter: (() => void) | null = null;
  p.onData((d) => {
    buf += d.toString();
    waiter?.();
  });
  await until(() => buf.includes('ready'), 10_000, 'the terminal');
  buf = '';
  return {
    async sample() {
      const key = String.fromCharCode(97 + Math.floor(Math.random() * 26));
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        waiter = () => {
          if (buf.includes(key)) {
            waiter = null;
            resolve();
          }
        };
        p.write(key);
      });
      buf = '';
      return performance.now() - t0;
    },
    close: () => p.kill('SIGKILL'),
  };
}

function p95(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
}

/**
 * Quiet and attacked round trips, interleaved: A's containers are frozen (quiet) and thawed
 * (attacking) in turns, so what else runs on the host meanwhile weighs on both sides alike. Many
 * short phases rather than a few long ones: a burst of other work on the host (another test file
 * in the same run) then lands on both sides instead of on one. Each phase drops its first round
 * trips (the freeze or thaw settling).
 */
async function echoUnderAttack(sample: () => Promise<number>, freeze: () => Promise<void>, thaw: () => Promise<void>, phases = 24, n = 30): Promise<{ quiet: number[]; attacked: number[] }> {
  const quiet: number[] = [];
  const attacked: number[] = [];
  let frozen = false;
  const set = async (attacking: boolean) => {
    if (attacking === !frozen) return;
    await (attacking ? thaw() : freeze());
    frozen = !attacking;
  };
  await set(false);
  for (let i = 0; i < 30; i++) await sample(); // warm-up
  for (let ph = 0; ph < phases; ph++) {
    const attacking = ph % 2 === 1;
    await set(attacking);
    await new Promise((res) => setTimeout(res, 200));
    for (let i = 0; i < n; i++) {
      const ms = await sample();
      if (i >= 5) (attacking ? attacked : quiet).push(ms);
      await new Promise((res) => setTimeout(res, 5)); // a typist, not a benchmark loop
    }
  }
  await set(true);
  return { quiet, attacked };
}

describe("a fork bomb and a log flood next to another learner's terminal", () => {
  it("leave B's key -> echo p95 within 2x of its quiet value", async () => {
    const a = learner(A, 21100);
    const b = learner(B, 21200);
    // a quarter of the host for the attacker: 0.5 CPU of this 2-core host (a class shares it)
    const cpus = Math.max(0.1, cpuCount() / 4);
    await env.engine.setTenantLimits(A, { memory: 256 * MiB, cpus, pids: 64 });
    const bTerm = await run(b, 'sleep 600');
    const term = await echoSampler(b, bTerm.id);
    try {
      const bombHost = await run(a, 'sleep 600');
      const flood = await run(a, 'yes "flood flood flood flood flood flood flood flood flood flood"');
      // the bomb: every shell starts two more until forks fail at A's pids.max (a shell whose
      // fork fails gives up, so each attack phase lights a new one)
      const bombs: ExecProcess[] = [];
      const lightBomb = async () => {
        bombs.push(await a.exec(bombHost.id, { cmd: ['/bin/sh', '-c', 'b() { b | b & }; b'] }));
      };
      await lightBomb();
      await until(async () => (await env.engine.tenantUsage(A)).pids.refused > 0, 20_000, "the fork bomb to meet A's pids.max");
      const aIds = [bombHost.id, flood.id];
      const { quiet, attacked } = await echoUnderAttack(
        term.sample,
        async () => {
          for (const id of aIds) await env.engine.pause(id);
        },
        async () => {
          for (const id of aIds) await env.engine.unpause(id);
          await lightBomb();
        },
      );
      const usage = await env.engine.tenantUsage(A);
      // pids.current is the kernel's counter, and a fork that fails adds to it before it takes
      // back (pids_try_charge): read in the middle of a bomb it can show limit + 1. What the
      // limit promises is about tasks that exist, so those are counted: every process in A's
      // containers' groups, monitors included.
      let tasks = 0;
      for (const id of aIds) tasks += (await env.engine.cgroups.pids(id)).length;
      for (const bomb of bombs) bomb.kill('SIGKILL');
      const q = p95(quiet);
      const at = p95(attacked);
      console.log(`B key->echo p95 over ${quiet.length}+${attacked.length} round trips: quiet ${q.toFixed(2)} ms, A bombing + flooding ${at.toFixed(2)} ms; A: ${tasks} processes, pids.current ${usage.pids.current}/${usage.pids.limit}, ${usage.pids.refused} forks refused, cpus ${usage.cpus}`);
      expect(tasks).toBeLessThanOrEqual(64);
      expect(usage.pids.limit).toBe(64);
      expect(usage.pids.refused).toBeGreaterThan(0);
      expect(env.engine.get(flood.id).state.status).toBe('running');
      // The bound is 2 x the quiet p95, and never tighter than 3 ms: a round trip through two
      // ptys and this test's own event loop, on a 2-core host where another test file runs beside
      // this one, varies by a millisecond or so whatever A does (quiet p95s here are 0.5-1.3 ms).
      // It holds on a kernel that preempts: one that cannot (User-mode Linux) runs A's failing
      // forks to their next scheduling point first.
      const bound = 2 * Math.max(q, 1.5);
      if (at > bound) requireKernelFeature('preemption', `B's p95 within 2x of quiet (${at.toFixed(2)} ms against ${q.toFixed(2)} ms quiet)`, 'every other check of this test passed');
      expect(at).toBeLessThanOrEqual(bound);
    } finally {
      term.close();
      await removeAll();
    }
  }, 240_000);
});

describe('bad quota input', () => {
  it('is refused with a message naming the field, and nothing is written', async () => {
    const fresh = 'lrnqz';
    const groupDirs = () => Object.values(env.engine.cgroups.groupPaths(`learners/${fresh}`));
    const refused = async (what: string, fn: () => Promise<unknown>, message: RegExp, kind = 'invalid') => {
      let err: unknown = null;
      await fn().catch((e) => (err = e));
      expect(errorKind(err), `${what}: ${(err as Error)?.message}`).toBe(kind);
      expect((err as Error).message, what).toMatch(message);
    };
    await refused('negative memory', () => env.engine.setTenantLimits(fresh, { memory: -1 }), /memory/);
    await refused('cpus 0', () => env.engine.setTenantLimits(fresh, { cpus: 0 }), /cpus/);
    await refused('pids 0', () => env.engine.setTenantLimits(fresh, { pids: 0 }), /pids/);
    await refused('an unknown field', () => env.engine.setTenantLimits(fresh, { disk: 5 } as never), /disk/);
    for (const bad of ['a/b', '..', '../x', '', 'a b']) {
      await refused(`learner id ${JSON.stringify(bad)}`, () => env.engine.setTenantLimits(bad, { memory: 64 * MiB }), /learner id/);
      await refused(`usage of ${JSON.stringify(bad)}`, () => env.engine.tenantUsage(bad), /learner id/);
    }
    for (const d of groupDirs()) expect(existsSync(d), d).toBe(false);
    expect(existsSync(join(env.root, 'tenants.json')) ? JSON.parse(readFileSync(join(env.root, 'tenants.json'), 'utf8'))[fresh] : undefined).toBeUndefined();

    // an existing group keeps its limits when a bad value comes along with good ones
    await env.engine.setTenantLimits(fresh, { memory: 64 * MiB, pids: 50 });
    const before = await env.engine.tenantUsage(fresh);
    await refused('good memory, bad cpus', () => env.engine.setTenantLimits(fresh, { memory: 32 * MiB, cpus: -1 }), /cpus/);
    const after = await env.engine.tenantUsage(fresh);
    expect(after.memory.limit).toBe(before.memory.limit);
    expect(after.pids.limit).toBe(50);

    // an owner label that cannot be a cgroup name is refused at create (the teacher's API)
    await refused('owner label ../x', () => env.engine.create({ image: 'base', network: 'none', cmd: ['true'], labels: { 'glassbox.owner': '../x' } }), /learner id/);
    // a learner can read their own quota, not set it, and not see another's
    const z = learner(fresh, 21300);
    await refused("a learner's setTenantLimits", async () => z.setTenantLimits(), /teacher/, 'permission-denied');
    await refused("a learner's removeTenant", async () => z.removeTenant(), /teacher/, 'permission-denied');
    await refused("another learner's usage", () => z.tenantUsage(A), /no such learner/, 'not-found');
    expect((await z.tenantUsage(fresh)).pids.limit).toBe(50);
    if (env.engine.cgroups.version === 1) {
      // v1 refuses a container's CFS quota above its group's: in the learner's terms, before a write
      await env.engine.setTenantLimits(fresh, { cpus: 0.5 });
      await refused('--cpus above the quota', () => z.run({ image: 'base', network: 'none', cmd: ['true'], limits: { cpus: 1 } }), /above the learner's CPU quota of 0.5/);
      await removeAll();
    }
    await env.engine.removeTenant(fresh);
    for (const d of groupDirs()) expect(existsSync(d), d).toBe(false);
  });
});

describe('after a restart', () => {
  it("finds the learner's containers and their group; the sweep removes a group left empty", async () => {
    const a = learner(A, 21100);
    await env.engine.setTenantLimits(A, { memory: 96 * MiB, pids: 80 });
    const c = await run(a, 'sleep 300');
    const { root, runRoot } = env;
    await env.engine.close();
    env.engine = await Engine.open({ root, runRoot, network: false });
    expect(env.engine.get(c.id).state.status).toBe('running');
    expect(await env.engine.cgroups.list()).toContain(c.id);
    expect(env.engine.cgroups.groupOf(c.id)).toBe(`learners/${A}`);
    const u = await env.engine.tenantUsage(A);
    expect(u.exists).toBe(true);
    expect(u.memory.limit).toBe(96 * MiB);
    expect(u.pids.current).toBeGreaterThan(0);
    // the reopened engine still drives it: stats, stop and remove find learners/<lid>/<id>
    expect((await env.engine.stats(c.id)).pids.current).toBeGreaterThan(0);
    await env.engine.remove(c.id, { force: true });
    expect(await env.engine.cgroups.groups()).toContain(`learners/${A}`);

    await env.engine.close();
    env.engine = await Engine.open({ root, runRoot, network: false });
    expect(await env.engine.cgroups.groups()).not.toContain(`learners/${A}`);
    const gone = await env.engine.tenantUsage(A);
    expect(gone.exists).toBe(false);
    expect(gone.memory.limit).toBe(96 * MiB); // the quota is kept ...
    const again = await run(learner(A, 21100), 'sleep 300');
    const back = await env.engine.tenantUsage(A); // ... and written again with the next container
    expect(back.exists).toBe(true);
    expect(back.memory.limit).toBe(96 * MiB);
    expect(back.pids.limit).toBe(80);
    await env.engine.remove(again.id, { force: true });
    await env.engine.removeTenant(A);
    expect(await env.engine.cgroups.groups()).toEqual([]);
  }, 120_000);
});
