// One learner cannot take the class down: with learner A running a fork bomb in a terminal of
// their container and a log flood (`yes` in another container, its log followed live on
// /containers), A's group holds the bomb (256 tasks, half a core), B's terminal keeps answering,
// and B's key→echo p95 under attack over its quiet value is printed. Everything through
// the web, as the two browsers would: POST /api/join, REST with each learner's token, socket.io
// with their page cookie and token. A's client runs in a process of its own (classroom-attacker.ts),
// so reading the flood does not slow the process that times B's keys.
//
// 2 cores, other work on the machine: each round is B quiet, then B under attack, and the
// figure is the median of three rounds' p95 ratios, each p95 over 200 keys after a warm-up.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanupDirs, removeAll, repo, startServer, type RunningServer } from './dashboard-support';
import { connect, createClass, createContainer, joinClass, median, percentile, Terminal, typeKeys, type Learner } from './classroom-support';

const ROUNDS = 3;
const KEYS = 200;
const WARMUP = 20;
const PAUSE_MS = 40;

let srv: RunningServer;
let a: Learner;
let b: Learner;
let bTerm: Terminal;
let attacker: ChildProcess | null = null;

const GROUP_PIDS = 256;
let classId = '';

/** A's parent cgroup as the teacher's roster reads it. */
async function groupOf(learnerId: string): Promise<{ pids: { current: number; limit: number | null; refused: number } } | null> {
  const r = await api<{ learners: { id: string; usage: { pids: { current: number; limit: number | null; refused: number } } | null }[] }>(srv, `/api/classes/${classId}`);
  return r.body.learners.find((l) => l.id === learnerId)?.usage ?? null;
}

interface Stats {
  pids: { current: number; limit: number | null; refused: number };
}

beforeAll(async () => {
  srv = await startServer();
  // the class quota, held by each learner's parent cgroup: A's bomb and flood share half a core
  // and 256 tasks, whatever A's containers ask for
  const cls = await createClass(srv, { name: 'isolation', seats: 2, quota: { cpus: 0.5, pids: GROUP_PIDS } });
  classId = cls.id;
  a = await joinClass(srv, cls.code, 'Attacker');
  b = await joinClass(srv, cls.code, 'Bystander');
  const bc = await createContainer(srv, b.token, { name: 'b' });
  bTerm = new Terminal(await connect(srv, '/terminal', b));
  await bTerm.open(bc);
}, 180_000);

afterAll(async () => {
  if (attacker?.exitCode === null) attacker.kill('SIGKILL');
  bTerm?.socket.close();
  if (srv) {
    await removeAll(srv).catch(() => {});
    await srv.stop();
    await cleanupDirs(srv);
  }
}, 120_000);

/** Starts A's client (fork bomb + log flood) and resolves once both are at full strength. */
async function startAttack(bomb: string): Promise<{ proc: ChildProcess; last: () => { flood: string; logEntries: number; termChars: number } | null; err: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repo, 'test', 'e2e', 'classroom-attacker.ts'), JSON.stringify({ base: srv.base, token: a.token, cookie: a.cookie, bomb })], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  attacker = proc;
  let last: { flood: string; logEntries: number; termChars: number } | null = null;
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) last = JSON.parse(line);
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d));
  // full strength: the flood reaches A's page and the bomb has filled A's group's pids.max (forks
  // refused: counted in the container's cgroup or the group's, as the kernel does)
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the attacker exited (${proc.exitCode}): ${err}`);
    const st = await api<Stats>(srv, `/api/containers/${bomb}/stats`, { token: a.token });
    const group = await groupOf(a.id);
    const cur = last as { logEntries: number } | null;
    if (cur && cur.logEntries > 2_000 && st.status === 200 && (st.body.pids.refused > 0 || (group?.pids.refused ?? 0) > 0)) break;
    if (Date.now() > deadline) throw new Error(`the attack did not reach full strength in 60 s: ${JSON.stringify({ last: cur, stats: st.body, err })}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { proc, last: () => last, err: () => err };
}

describe('learner isolation through the web', () => {
  // The 2× bound itself is asserted at the kernel's level, where the quota acts
  // (test/security/learner-quotas.test.ts); through the web the server's own event loop is shared
  // too, and the ratio is printed here as a figure, not asserted (timed bounds live in benchmarks).
  it("A's fork bomb and log flood are held by A's group; B's terminal keeps answering (the p95 ratio printed)", async () => {
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const bomb = await createContainer(srv, a.token, { name: `bomb${round}` });

      await typeKeys(bTerm, WARMUP, PAUSE_MS);
      const quiet = await typeKeys(bTerm, KEYS, PAUSE_MS);

      const attack = await startAttack(bomb);
      const before = attack.last()!.logEntries;
      await typeKeys(bTerm, WARMUP, PAUSE_MS);
      const loaded = await typeKeys(bTerm, KEYS, PAUSE_MS);
      const st = (await api<Stats>(srv, `/api/containers/${bomb}/stats`, { token: a.token })).body;
      const group = (await groupOf(a.id))!;
      const flooded = attack.last()!.logEntries - before;
      const { flood } = attack.last()!;

      // what held the bomb: A's group (the class quota), all of A's containers together
      expect(group.pids.limit).toBe(GROUP_PIDS);
      expect(group.pids.current).toBeLessThanOrEqual(GROUP_PIDS);
      expect(st.pids.refused + group.pids.refused).toBeGreaterThan(0);
      // A's flood was flowing to A's page all along, at the dashboard's follow rate (1000 lines/s)
      expect(flooded).toBeGreaterThan(2_000);

      const exited = new Promise((r) => attack.proc.once('exit', r));
      attack.proc.kill('SIGKILL');
      await exited;
      for (const id of [bomb, flood]) expect((await api(srv, `/api/containers/${id}?force=1`, { method: 'DELETE', token: a.token })).status).toBe(204);

      const q95 = percentile(quiet, 95);
      const l95 = percentile(loaded, 95);
      ratios.push(l95 / q95);
      console.log(
        `round ${round + 1}: B key→echo quiet p50 ${median(quiet).toFixed(2)} p95 ${q95.toFixed(2)} ms; under attack p50 ${median(loaded).toFixed(2)} p95 ${l95.toFixed(2)} ms (${(l95 / q95).toFixed(2)}×); ` +
          `A's bomb: ${st.pids.current} pids in it, A's group ${group.pids.current}/${group.pids.limit}, ${st.pids.refused + group.pids.refused} forks refused; A's page got ${flooded} log lines meanwhile`,
      );
    }
    // B's terminal is still B's and works
    expect(await bTerm.run('echo still-$((40+2))')).toContain('still-42');
    const verdict = median(ratios);
    console.log(`B's p95 ratio, attack / quiet, median of ${ROUNDS} rounds: ${verdict.toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(', ')})`);
    expect(Number.isFinite(verdict)).toBe(true);
  }, 600_000);
});
