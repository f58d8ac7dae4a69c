// What a learner sees of the host (issue 13: "the system views a learner gets show only their own
// containers"). Two learners A and B and the teacher each run a container with a secret in its
// command line, B also a terminal (an exec session) with another; A's diagrams, compare page, info
// and lab sessions are then searched for everything of B's and the teacher's: ids, names, IPs,
// veths, bridges, command lines, namespace inodes, pids. B's ids handed to A's views are not found,
// and A's limit drag on B's container leaves B's cgroup as it was.
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorKind, InspectHub, LearnerEngine, OWNER_LABEL, type ContainerRecord, type LearnerHub, type ExecProcess } from '../../server/engine/index.js';
import type { LoadedLab } from '../../server/labs/loader.js';
import { LABEL_LAB, LABEL_ROLE, LABEL_SESSION, LabSessions } from '../../server/labs/sessions.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from '../integration/support.js';

requireHost('learner views test', { root: true, commands: ['ip', 'iptables', 'nsenter'] });

let env: TestEnv;
let hub: InspectHub;
let a: LearnerEngine;
let b: LearnerEngine;
let hubA: LearnerHub;
let recA: ContainerRecord;
let recB: ContainerRecord;
let recT: ContainerRecord;
let termB: ExecProcess;

const SECRET_A = 'secret-of-a-7a1f';
const SECRET_B = 'secret-of-b-93c2';
const SECRET_B_TERM = 'terminal-of-b-5d0e';
const SECRET_T = 'secret-of-teacher-2b8e';
const policy = (learnerId: string, from: number) => ({ learnerId, ports: { from, to: from + 9 }, maxContainers: 6 });
const sleeper = (secret: string) => ({ image: 'base', cmd: ['sh', '-c', `sleep 3000; : ${secret}`] });

/** Everything of B's (and the teacher's) a view of A's must not contain, as strings to search for. */
function foreignStrings(): string[] {
  const out = [SECRET_B, SECRET_B_TERM, SECRET_T];
  for (const r of [recB, recT].map((x) => env.engine.get(x.id))) {
    out.push(r.id, r.id.slice(0, 12), r.name);
    if (r.network?.ipAddress) out.push(`"${r.network.ipAddress}`, `${r.network.ipAddress}/`);
  }
  for (const n of b.listNetworks()) out.push(n.name, n.id.slice(0, 12), ...(n.bridge ? [n.bridge] : []), ...(n.subnet ? [n.subnet] : []));
  for (const c of b.listNetworks().flatMap((n) => Object.values(n.containers))) out.push(c.veth, `"${c.ip}`, c.mac);
  return out.filter(Boolean);
}

function nsInodes(pid: number): number[] {
  const out: number[] = [];
  for (const t of ['pid', 'net', 'mnt', 'uts', 'ipc']) {
    try {
      const l = readlinkSync(`/proc/${pid}/ns/${t}`);
      out.push(Number(l.slice(l.indexOf('[') + 1, -1)));
    } catch {
      /* gone */
    }
  }
  return out;
}

function expectNothingForeign(what: string, value: unknown): void {
  const text = JSON.stringify(value);
  for (const s of foreignStrings()) expect(text.includes(s), `${what} contains ${s}`).toBe(false);
}

const notFound = async (what: string, fn: () => unknown) => {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(errorKind(err), `${what}: ${(err as Error)?.message}`).toBe('not-found');
};

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  hub = new InspectHub(env.engine, { sampleMs: 200 });
  a = new LearnerEngine(env.engine, policy('lrna', 20300));
  b = new LearnerEngine(env.engine, policy('lrnb', 20400));
  hubA = hub.forLearner(a);
  recA = await a.run({ ...sleeper(SECRET_A), name: 'box' });
  recB = await b.run({ ...sleeper(SECRET_B), name: 'box', ports: [{ hostPort: 20401, containerPort: 80, protocol: 'tcp' }] });
  recT = await env.engine.run({ ...sleeper(SECRET_T), name: 'teacherbox' });
  // B at a terminal: an exec session (a child of the server's helper, found by its cgroup)
  termB = await b.exec('box', { cmd: ['sh', '-c', `sleep 3000; : ${SECRET_B_TERM}`] });
  await hub.cgroups.tick();
}, 120_000);

afterAll(async () => {
  termB?.kill('SIGKILL');
  hub?.close();
  if (!env) return;
  for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
  for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id).catch(() => {});
  await env.cleanup();
});

describe("a learner's diagrams", () => {
  it('the teacher sees everyone: the searches below would find B', async () => {
    const ns = await hub.snapshot('namespaces');
    const text = JSON.stringify(ns);
    for (const s of [SECRET_A, SECRET_B, SECRET_B_TERM, SECRET_T, recB.id]) expect(text, s).toContain(s);
    const net = JSON.stringify(await hub.snapshot('network'));
    expect(net).toContain(recB.id);
    // and B's own cut has B's terminal, found as B's by its cgroup (it is no child of B's init)
    const mine = await hub.forLearner(b).snapshot('namespaces');
    expect(mine.processes.find((p) => p.cmdline.includes(SECRET_B_TERM))?.containerId).toBe(recB.id);
  });

  it("namespaces: A's processes and namespaces, nothing of B's or the teacher's, the host as counts", async () => {
    const snap = await hubA.snapshot('namespaces');
    expectNothingForeign('namespaces', snap);
    expect(snap.containers.map((c) => c.id)).toEqual([recA.id]);
    // A's own processes are there, with their host pids and command lines
    const mine = snap.processes.filter((p) => p.containerId === recA.id);
    expect(mine.some((p) => p.cmdline.includes(SECRET_A) && p.pid === env.engine.get(recA.id).state.pid)).toBe(true);
    expect(snap.processes.every((p) => p.containerId === recA.id)).toBe(true);
    // no host process is listed (pid 1, the server); they are counted
    expect(snap.processes.some((p) => p.pid === 1 || p.pid === process.pid)).toBe(false);
    expect(snap.omitted.hostProcesses).toBeGreaterThan(0);
    // B's and the teacher's namespaces are not in the picture at all, not even as inodes
    const inodes = new Set(Object.values(snap.types).flatMap((nodes) => nodes.map((n) => n.inode)));
    for (const pid of [recB, recT].map((r) => env.engine.get(r.id).state.pid)) for (const i of nsInodes(pid)) if (!Object.values(snap.host).includes(i)) expect(inodes.has(i), `inode ${i} of pid ${pid}`).toBe(false);
    const pids = new Set(Object.values(snap.types).flatMap((nodes) => nodes.flatMap((n) => n.pids)));
    for (const r of [recB, recT].map((x) => env.engine.get(x.id))) {
      expect(pids.has(r.state.pid)).toBe(false);
      expect(pids.has(r.state.monitorPid)).toBe(false);
    }
    // the host's namespaces are there, with how many others are in them
    const hostPid = snap.types.pid.find((n) => n.isHost)!;
    expect(hostPid.otherPids).toBeGreaterThan(0);
    expect(JSON.stringify(snap.pidTree)).not.toContain('"containerId":null');
  });

  it("network: A's bridge, veth and address only; the uplink without counters", async () => {
    const snap = await hubA.snapshot('network');
    expectNothingForeign('network', snap);
    expect(snap.endpoints.map((e) => e.containerId)).toEqual([recA.id]);
    const aNet = a.listNetworks()[0];
    expect(snap.bridges.map((x) => x.name)).toEqual([aNet.bridge]);
    expect(snap.endpoints[0].hostVeth).toBe(Object.values(aNet.containers)[0].veth);
    expect(snap.hostInterfaces.every((i) => i.counters === undefined && !i.name.startsWith('gb'))).toBe(true);
    // the teacher's view has the rules about B's bridge and B's published port; A's has A's only
    const bIp = env.engine.get(recB.id).network.ipAddress!;
    const bBridge = b.listNetworks()[0].bridge!;
    const teacher = (await hub.snapshot('network')).nat;
    expect(teacher.some((l) => l.includes(`${bIp}/32`)) && teacher.some((l) => l.includes(bBridge))).toBe(true);
    expect(snap.nat.some((l) => l.includes(bIp) || l.includes(bBridge))).toBe(false);
    expect(snap.nat.length).toBeGreaterThan(0);
    expect(snap.nat.every((l) => l.includes(aNet.bridge!) || l.includes(aNet.subnet!))).toBe(true);
  });

  it("cgroups, layers, mounts: A's container only", async () => {
    const cg = await hubA.snapshot('cgroups');
    expectNothingForeign('cgroups', cg);
    expect(cg.containers.map((c) => c.containerId)).toEqual([recA.id]);
    for (const kind of ['layers', 'mounts'] as const) {
      const def = await hubA.snapshot(kind);
      expect(def.containerId, `${kind} default`).toBe(recA.id);
      expectNothingForeign(kind, def);
      const byName = await hubA.snapshot(kind, 'box');
      expect(byName.containerId, `${kind} by A's name`).toBe(recA.id);
      expectNothingForeign(kind, byName);
    }
  });

  it("B's container, by id, id prefix or host name, is not found through any of A's diagram calls", async () => {
    const before = (await env.engine.stats(recB.id)).pids.limit;
    for (const key of [recB.id, recB.id.slice(0, 12), 'lrnb-box', recT.id, 'teacherbox']) {
      for (const kind of ['namespaces', 'layers', 'mounts', 'cgroups', 'network'] as const) await notFound(`snapshot ${kind} ${key}`, () => hubA.snapshot(kind, key));
      await notFound(`whichLayer ${key}`, () => hubA.whichLayer(key, '/etc/passwd'));
      await notFound(`setLimit ${key}`, () => hubA.setLimit(key, 'pids', 7));
      await notFound(`compareView ${key}`, () => hubA.compareView([key]));
      // a socket subscription gets the empty not-found snapshot, nothing of B's
      for (const kind of ['layers', 'mounts', 'cgroups'] as const) {
        const got = await new Promise<unknown>((resolve) => {
          const off = hubA.subscribe(kind, (s) => {
            off();
            resolve(s);
          }, key);
        });
        expectNothingForeign(`subscribe ${kind} ${key}`, { ...(got as object), containerId: null, message: null });
        expect(JSON.stringify(got)).not.toContain(SECRET_B);
      }
    }
    expect((await env.engine.stats(recB.id)).pids.limit).toBe(before);
    expect(env.engine.get(recB.id).state.status).toBe('running');
  });

  it("a subscription pushes A's cut, and A's limit drag on their own container works", async () => {
    const first = await new Promise<unknown>((resolve) => {
      const off = hubA.subscribe('namespaces', (s) => {
        off();
        resolve(s);
      });
    });
    expectNothingForeign('subscribed namespaces', first);
    expect(JSON.stringify(first)).toContain(SECRET_A);
    const writes = await hubA.setLimit('box', 'pids', 77);
    expect(writes.some((w) => w.file.includes(recA.id))).toBe(true);
    expect((await env.engine.stats(recA.id)).pids.limit).toBe(77);
  });
});

describe("a learner's compare page and info", () => {
  it("the host column shows A's processes with host pids, A's veth and A's mounts, and counts the rest", async () => {
    const view = await hubA.compareView(['box']);
    expectNothingForeign('compare page', view);
    const initPid = env.engine.get(recA.id).state.pid;
    expect(view.host.processes.map((p) => p.pid)).toContain(initPid);
    expect(view.host.processes.some((p) => p.pid === 1 || p.pid === process.pid)).toBe(false);
    const veth = Object.values(a.listNetworks()[0].containers)[0].veth;
    expect(view.host.links.map((l) => l.name)).toContain(veth);
    expect(view.host.links.every((l) => l.name === veth || l.name === a.listNetworks()[0].bridge)).toBe(true);
    expect(view.host.mounts.length).toBeGreaterThan(0);
    expect(view.host.hidden!.processes).toBeGreaterThan(0);
    expect(view.containers[0].who).toBe(recA.id);
    // inside A's container: A's pid namespace, where the init is pid 1
    expect(view.containers[0].processes.some((p) => p.pid === 1)).toBe(true);
  });

  it("info() counts A's containers, not the host's", () => {
    const i = a.info();
    expect(i.containers).toBe(1);
    expect(i.containersRunning).toBe(1);
    expect(env.engine.info().containers).toBe(3);
    expect(i.images).toBe(a.listImages().length);
  });
});

// ---------------------------------------------------------------- lab sessions

function tinyLab(id: string, containers: LoadedLab['containers']): LoadedLab {
  return {
    id,
    title: id,
    summary: 's',
    order: 99,
    dir: '/nonexistent',
    terminalRoles: [containers[0].role],
    containers,
    steps: [
      {
        id: 's0',
        title: 's0',
        checkLabel: 'l',
        terminalRole: containers[0].role,
        markdown: '',
        runBlocks: [],
        hints: [],
        whatHappened: '',
        // a check's detail line is shown to the learner: it reads through the learner's view
        check: async (k) => {
          const snap = await k.namespaces();
          return { passed: false, detail: JSON.stringify({ containers: snap.containers.map((c) => c.id), cmdlines: snap.processes.map((p) => p.cmdline) }) };
        },
      },
    ],
  };
}

describe("a learner's lab sessions", () => {
  const box = tinyLab('t-box', [{ role: 'box', config: { image: 'base', cmd: ['sleep', '600'], network: 'bridge' } }]);
  const priv = tinyLab('t-priv', [
    { role: 'ok', config: { image: 'base', cmd: ['sleep', '600'] } },
    { role: 'bad', config: { image: 'base', cmd: ['sleep', '600'], privileged: true } },
  ]);

  it("are A's: B and the listing of B do not see them, the teacher does; a check's detail is A's cut", async () => {
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [box, priv] });
    try {
      const s = await sessions.start('t-box', a);
      const rec = a.get(s.containers[0].id);
      expect(rec.name).toBe(`lrna-lab-${s.sessionId}-box`);
      expect(rec.config.labels?.[OWNER_LABEL]).toBe('lrna');
      expect(rec.config.labels?.[LABEL_SESSION]).toBe(s.sessionId);
      // the learner policy held: a user namespace, NET_RAW dropped, A's network
      expect(rec.config.namespaces?.user).toBe(true);
      expect(rec.config.capDrop).toContain('NET_RAW');
      expect(rec.config.network).toBe('lrna-net');
      expect(sessions.list(a).map((x) => x.sessionId)).toEqual([s.sessionId]);
      expect(sessions.list(b)).toEqual([]);
      expect(sessions.list().map((x) => x.owner)).toEqual(['lrna']);
      await notFound('get', () => sessions.get(s.sessionId, b));
      await notFound('labOf', () => sessions.labOf(s.sessionId, b));
      await notFound('subscribe', () => sessions.subscribe(s.sessionId, () => {}, b));
      await notFound('leave', () => sessions.leave(s.sessionId, b));
      const state = await sessions.get(s.sessionId, a);
      expect(state.owner).toBe('lrna');
      expectNothingForeign("a check's detail", state);
      expect(state.steps[0].detail).toContain(rec.id);
      expect((await sessions.get(s.sessionId)).sessionId).toBe(s.sessionId); // the teacher
      await sessions.leave(s.sessionId, a);
      expect(a.list({ all: true }).map((r) => r.id)).toEqual([recA.id]);
    } finally {
      for (const sid of sessions.sessionIds()) await sessions.leave(sid).catch(() => {});
      sessions.close();
    }
  });

  it('refuses what the policy refuses, the third session and an incompatible lab, with one line, leaving nothing', async () => {
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [box, priv] });
    try {
      const before = env.engine.list({ all: true }).length;
      await expect(sessions.start('t-priv', a)).rejects.toThrow(/^lab t-priv is not available in a learner's sandbox: container bad: --privileged: not allowed in a learner's sandbox$/);
      expect(env.engine.list({ all: true }).length).toBe(before);
      const one = await sessions.start('t-box', a);
      const two = await sessions.start('t-box', a);
      await expect(sessions.start('t-box', a)).rejects.toThrow('lab session quota: a learner may have at most 2 lab sessions at once (leave one first)');
      expect(env.engine.list({ all: true }).length).toBe(before + 2);
      // B's cap is B's own
      const other = await sessions.start('t-box', b);
      // A's reset: every session of A's goes, B's stays
      await sessions.leaveAllOf('lrna');
      expect(sessions.list().map((x) => x.sessionId)).toEqual([other.sessionId]);
      void one;
      void two;
      await sessions.leave(other.sessionId, b);
      expect(env.engine.list({ all: true }).length).toBe(before);
    } finally {
      for (const sid of sessions.sessionIds()) await sessions.leave(sid).catch(() => {});
      sessions.close();
    }
  });

  it('a learner cannot set lab labels; a restart adopts only the containers session.json names with its owner', async () => {
    for (const label of [LABEL_LAB, LABEL_SESSION, LABEL_ROLE, 'Glassbox.Lab.Session', 'glassbox.labs']) {
      await expect(a.create({ image: 'base', cmd: ['true'], labels: { [label]: 'x' } }), label).rejects.toThrow(/set by the lab runner only/);
    }
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [box] });
    const s = await sessions.start('t-box', a);
    sessions.close();
    // forged before the policy existed (made here through the teacher's engine): B's container
    // claiming a role in A's session, and one claiming to be A's with no record in session.json
    const forgedB = await env.engine.create({ image: 'base', cmd: ['true'], name: 'forged-b', labels: { [OWNER_LABEL]: 'lrnb', [LABEL_LAB]: 't-box', [LABEL_SESSION]: s.sessionId, [LABEL_ROLE]: 'extra' } });
    const forgedA = await env.engine.create({ image: 'base', cmd: ['true'], name: 'forged-a', labels: { [OWNER_LABEL]: 'lrna', [LABEL_LAB]: 't-box', [LABEL_SESSION]: s.sessionId, [LABEL_ROLE]: 'box2' } });
    const again = new LabSessions({ engine: env.engine, hub, labs: [box] });
    try {
      const state = await again.get(s.sessionId, a);
      expect(state.containers.map((c) => c.id)).toEqual([s.containers[0].id]);
      await notFound('B after restart', () => again.get(s.sessionId, b));
      await again.leave(s.sessionId, a);
      // leaving removed the session's container, not the forged ones (they were never part of it)
      expect(env.engine.get(forgedB.id).name).toBe('forged-b');
      expect(env.engine.get(forgedA.id).name).toBe('forged-a');
    } finally {
      again.close();
      await env.engine.remove(forgedB.id, { force: true });
      await env.engine.remove(forgedA.id, { force: true });
    }
  });

  it("a learner's symlinks do not point a check at a host file (its size, date or text in the detail)", async () => {
    // the canary: a host file the learner would like to learn about
    const dir = mkdtempSync('/tmp/gbtd-canary-');
    const canary = join(dir, 'secret');
    writeFileSync(canary, `canary-text-${'x'.repeat(77_777)}`);
    const lab = tinyLab('t-links', [{ role: 'box', config: { image: 'base', cmd: ['sleep', '600'], mounts: [{ type: 'bind', source: '{{scratch}}/volume', target: '/volume' }] } }]);
    lab.steps[0].check = async (k) => {
      const rec = k.container('box');
      const seen = {
        volume: await k.host.stat(`${k.scratchDir}/volume/app.log`),
        upper: await k.host.stat(`${rec.paths.upper}/tmp/stamp`),
        text: await k.host.read!(`${rec.paths.upper}/etc/motd`),
        viaRoot: await k.host.read!(`/proc/${rec.state.pid}/root/tmp/stamp`),
        foreignMounts: (await k.host.mounts()).filter((m) => m.mountPoint.includes(recB.id.slice(0, 12))).length,
      };
      return { passed: false, detail: JSON.stringify(seen) };
    };
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [lab] });
    try {
      const s = await sessions.start('t-links', a);
      const id = s.containers[0].id;
      const sh = async (cmd: string) => {
        const p = await a.exec(id, { cmd: ['sh', '-c', cmd] });
        await new Promise<number>((r) => p.onExit(r));
      };
      await sh(`ln -s ${canary} /volume/app.log; rm -rf /tmp; ln -s ${dir} /tmp; ln -s ${canary} /etc/motd; ln -s ${canary} /tmp/stamp 2>/dev/null; true`);
      const state = await sessions.get(s.sessionId, a);
      const detail = state.steps[0].detail ?? '';
      const seen = JSON.parse(state.steps[0].detail ?? '{}') as Record<string, unknown>;
      expect(detail).not.toContain('777');
      expect(seen.foreignMounts).toBe(0);
      expect(detail).not.toContain('canary-text');
      expect(seen.volume).toBeNull();
      expect(seen.upper).toBeNull();
      expect(seen.text).toBeNull();
      expect(seen.viaRoot).toBeNull();
      // a plain file of the learner's own is still read (the check works for honest answers)
      await sh('rm -f /volume/app.log; echo hi > /volume/app.log');
      const honest = JSON.parse((await sessions.get(s.sessionId, a)).steps[0].detail ?? '{}') as { volume: { size: number } | null };
      expect(honest.volume?.size).toBe(3);
      await sessions.leave(s.sessionId, a);
    } finally {
      for (const sid of sessions.sessionIds()) await sessions.leave(sid).catch(() => {});
      sessions.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the teacher's lab checks too: a path under /proc/<pid>/root is resolved inside that root", async () => {
    const dir = mkdtempSync('/tmp/gbtd-canary-');
    const canary = join(dir, 'secret');
    writeFileSync(canary, `canary-text-${'y'.repeat(55_555)}`);
    const lab = tinyLab('t-root', [{ role: 'box', config: { image: 'base', cmd: ['sleep', '600'] } }]);
    lab.steps[0].check = async (k) => {
      const pid = k.container('box').state.pid;
      const seen = {
        linked: await k.host.read!(`/proc/${pid}/root/etc/motd`),
        linkedStat: await k.host.stat(`/proc/${pid}/root/etc/motd`),
        own: await k.host.read!(`/proc/${pid}/root/etc/own`),
      };
      return { passed: false, detail: JSON.stringify(seen) };
    };
    const sessions = new LabSessions({ engine: env.engine, hub, labs: [lab] });
    try {
      const s = await sessions.start('t-root');
      const id = s.containers[0].id;
      const p = await env.engine.exec(id, { cmd: ['sh', '-c', `ln -sf ${canary} /etc/motd; echo mine > /etc/own`] });
      await new Promise<number>((r) => p.onExit(r));
      const detail = (await sessions.get(s.sessionId)).steps[0].detail ?? '';
      expect(detail).not.toContain('canary-text');
      expect(detail).not.toContain('55');
      const seen = JSON.parse(detail) as { linked: string | null; linkedStat: unknown; own: string | null };
      expect(seen.linked).toBeNull();
      expect(seen.linkedStat).toBeNull();
      expect(seen.own).toBe('mine\n');
      await sessions.leave(s.sessionId);
    } finally {
      for (const sid of sessions.sessionIds()) await sessions.leave(sid).catch(() => {});
      sessions.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
