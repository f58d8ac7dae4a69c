// One owner of the host's objects (issue #11, part 6). A second engine on the host (a test run, a
// benchmark, a second server) used to sweep or tear down the gb0, GLASSBOX-* chains and veths of
// a live server, whose networks then silently lost their isolation. Here:
//   - an engine holds /run/glassbox/owner[-<prefix>].lock: a second one with the same prefix is
//     refused, naming the holder's pid, and changes nothing; the lock dies with its holder;
//   - "the server" (prefix A) keeps two isolated networks while "a test run" (prefix B) opens,
//     runs containers on networks of its own, sweeps, closes and tears down beside it: A's bridge,
//     chains, jumps and veths are untouched, and A's isolation holds before, during and after;
//   - something outside deletes A's FORWARD jump and flushes A's chain: the firewall check puts
//     both back within seconds, says so in an event and in the network diagram's data.
// Prefixes: A is the run's own (GLASSBOX_PREFIX from vitest.config.ts), B the next free one.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { hostNames, prefixFromEnv, type HostNames } from '../../server/engine/host/naming.js';
import { HostOwned } from '../../server/engine/host/owner-lock.js';
import { NetworkInspector } from '../../server/engine/inspect/network.js';
import { InvalidArgument, type EngineEvent } from '../../server/engine/types.js';
import { until } from '../helpers.js';

if (process.getuid?.() !== 0) throw new Error('host-owner.test needs root (bridges, iptables, cgroups): a test that cannot run fails');

const A = hostNames(prefixFromEnv());
if (A.isDefault) throw new Error('host-owner.test must run with a test prefix (vitest.config.ts sets GLASSBOX_PREFIX): it would take the serving gb0');
/** another test prefix whose lock nobody holds */
function otherPrefix(...not: string[]): HostNames {
  for (let k = 0; k < 1296; k++) {
    const p = `gbt${k.toString(36).padStart(2, '0')}`;
    if (not.includes(p)) continue;
    const n = hostNames(p);
    if (!existsSync(`/sys/class/net/${n.bridge}`) && !execFileSync('iptables-save', { encoding: 'utf8' }).includes(n.chains.forward)) return n;
  }
  throw new Error('no free test prefix');
}
const B = otherPrefix(A.prefix);

const bases: string[] = [];
function stateDirs(tag: string): { root: string; runRoot: string } {
  const base = mkdtempSync(`/tmp/gbt-${tag}-`);
  chmodSync(base, 0o711);
  bases.push(base);
  return { root: join(base, 'root'), runRoot: join(base, 'r') };
}

/** Every host object of a prefix: its links and every iptables line naming its chains. */
function hostObjects(n: HostNames): string[] {
  const links = readdirSync('/sys/class/net').filter((l) => l === n.bridge || l.startsWith(`${n.prefix}r-`) || n.vethRe.test(l));
  const save = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n');
  const rules = save.filter((l) => Object.values(n.chains).some((c) => new RegExp(`(^:| -j |^-A )${c}( |$)`).test(l))).map((l) => l.replace(/\[\d+:\d+\]/, ''));
  return [...links.map((l) => `link ${l}`), ...rules.map((r) => `iptables ${r}`)].sort();
}

async function execCode(engine: Engine, id: string, cmd: string[]): Promise<number> {
  const p = await engine.exec(id, { cmd });
  return new Promise((r) => p.onExit((c) => r(c)));
}

const sleeper = (network: string, name: string) => ({ image: 'base', name, cmd: ['sleep', '600'], network });

describe('one owner of the host objects', () => {
  let server: Engine | undefined;
  let holder: ChildProcess | undefined;
  const ips: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await Engine.open({ ...stateDirs('srv'), prefix: A.prefix, network: true, reconcileMs: 300 });
    await server.createNetwork({ name: 'gbt-front' });
    await server.createNetwork({ name: 'gbt-back' });
    for (const [name, net] of [['front1', 'gbt-front'], ['front2', 'gbt-front'], ['back1', 'gbt-back']]) {
      const r = await server.run(sleeper(net, `gbt-${name}`));
      ids[name] = r.id;
      ips[name] = server.get(r.id).network.ipAddress!;
    }
  });

  afterAll(async () => {
    if (holder && holder.exitCode === null) holder.kill('SIGKILL');
    if (server) {
      for (const c of server.list({ all: true })) await server.remove(c.id, { force: true }).catch(() => {});
      for (const n of server.listNetworks()) if (!n.builtin) await server.removeNetwork(n.id).catch(() => {});
      await server.close();
      await server.network?.teardown({ removeState: true });
    }
    for (const b of bases) rmSync(b, { recursive: true, force: true });
    expect(hostObjects(A)).toEqual([]);
    expect(hostObjects(B)).toEqual([]);
  });

  /** The server's isolation: same network reachable, the other network not. */
  async function expectIsolated(when: string): Promise<void> {
    const same = await execCode(server!, ids.front1, ['ping', '-c1', '-W2', ips.front2]);
    const across = await execCode(server!, ids.front1, ['ping', '-c1', '-W1', ips.back1]);
    const back = await execCode(server!, ids.back1, ['ping', '-c1', '-W1', ips.front1]);
    expect({ when, same, across, back }).toEqual({ when, same: 0, across: 1, back: 1 });
  }

  it('refuses a second engine with the same prefix, naming the pid that owns it, and changes nothing', async () => {
    const dirs = stateDirs('hold');
    holder = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'hold-owner-lock.ts'), B.prefix, dirs.root, dirs.runRoot], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    holder.stdout!.on('data', (d) => (out += d));
    await until(async () => {
      if (!/ready \d+/.test(out)) throw new Error(`holder not ready: ${out}`);
    }, 60_000);
    const fresh = stateDirs('refused');
    const err = await Engine.open({ ...fresh, prefix: B.prefix, network: true }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(HostOwned);
    expect(err!.message).toBe(
      `another Glassbox (pid ${holder.pid}) owns this host's ${B.bridge}, ${B.chains.forward.replace(/FORWARD$/, '*')} chains and ${B.cgroupParent}/ cgroups; stop it, or give this one its own GLASSBOX_PREFIX`,
    );
    expect((err as HostOwned).pid).toBe(holder.pid);
    // refused before anything was made: no state root, no bridge, no chains
    expect(existsSync(fresh.root)).toBe(false);
    expect(hostObjects(B)).toEqual([]);

    // the lock is the kernel's: SIGKILL the holder (no clean-up code runs) and the prefix is free
    const gone = new Promise((r) => holder!.once('exit', r));
    holder.kill('SIGKILL');
    await gone;
    const again = await Engine.open({ ...dirs, prefix: B.prefix, network: false });
    // and within one process too: a second open of the same prefix names this pid
    await expect(Engine.open({ ...stateDirs('twice'), prefix: B.prefix, network: false })).rejects.toThrow(`another Glassbox (pid ${process.pid}) owns`);
    await again.close();
    // the server's prefix is held by the server
    await expect(Engine.open({ ...stateDirs('srv2'), prefix: A.prefix, network: false })).rejects.toBeInstanceOf(HostOwned);
  });

  it('refuses a state root or run dir that another prefix uses (its sweep would remove ours), changing nothing', async () => {
    const dirs = stateDirs('shared');
    const first = await Engine.open({ ...dirs, prefix: B.prefix, network: false });
    await first.close();
    const C = otherPrefix(A.prefix, B.prefix);
    await expect(Engine.open({ ...dirs, prefix: C.prefix, network: false })).rejects.toThrow(
      `GLASSBOX_ROOT ${dirs.root} belongs to the Glassbox prefix ${B.prefix}, not ${C.prefix}: give this engine a GLASSBOX_ROOT of its own, or open it with GLASSBOX_PREFIX=${B.prefix}`,
    );
    const fresh = stateDirs('shared-run');
    await expect(Engine.open({ root: fresh.root, runRoot: dirs.runRoot, prefix: C.prefix, network: false })).rejects.toThrow(`GLASSBOX_RUN ${dirs.runRoot} belongs to the Glassbox prefix ${B.prefix}`);
    expect(existsSync(fresh.root)).toBe(false);
  });

  it('refuses a prefix that is not a Glassbox prefix, by its option name', async () => {
    await expect(Engine.open({ ...stateDirs('bad'), prefix: 'eth', network: false })).rejects.toThrow(/^prefix "eth" is not a Glassbox prefix/);
    await expect(Engine.open({ ...stateDirs('bad'), prefix: 'gbv1', network: false })).rejects.toBeInstanceOf(InvalidArgument);
    const saved = process.env.GLASSBOX_PREFIX;
    process.env.GLASSBOX_PREFIX = 'gbt-x';
    try {
      await expect(Engine.open({ ...stateDirs('bad'), network: false })).rejects.toThrow(/^GLASSBOX_PREFIX "gbt-x" is not a Glassbox prefix/);
    } finally {
      process.env.GLASSBOX_PREFIX = saved;
    }
  });

  it("a test run with its own prefix opens, runs, sweeps, closes and tears down beside the server without touching it", async () => {
    await expectIsolated('before the test run');
    const before = hostObjects(A);
    expect(before).toEqual(expect.arrayContaining([`link ${A.bridge}`, `link ${A.veth(ids.front1, 0)}`, `iptables -A FORWARD -j ${A.chains.forward}`]));

    const dirs = stateDirs('run');
    let run = await Engine.open({ ...dirs, prefix: B.prefix, network: true, reconcileMs: 300 });
    await run.createNetwork({ name: 'gbt-run-net' });
    const r1 = await run.run(sleeper('bridge', 'gbt-r1'));
    const r2 = await run.run(sleeper('gbt-run-net', 'gbt-r2'));
    expect(readdirSync('/sys/class/net')).toEqual(expect.arrayContaining([B.bridge, B.veth(r1.id, 0), B.veth(r2.id, 0)]));
    // B's own isolation works too, and B cannot reach A's networks
    expect(await execCode(run, r1.id, ['ping', '-c1', '-W1', run.get(r2.id).network.ipAddress!])).toBe(1);
    expect(await execCode(run, r1.id, ['ping', '-c1', '-W1', ips.front1])).toBe(1);
    // while B runs (its chains come first in FORWARD), A's traffic still gets A's verdicts
    await expectIsolated('while the test run is up');
    expect(hostObjects(A)).toEqual(before);

    // the sweep of a restarted B (crash leftovers) keeps to B's names
    await run.close();
    run = await Engine.open({ ...dirs, prefix: B.prefix, network: true });
    expect(hostObjects(A)).toEqual(before);
    for (const c of run.list({ all: true })) await run.remove(c.id, { force: true });
    for (const n of run.listNetworks()) if (!n.builtin) await run.removeNetwork(n.id);
    await run.close();
    await run.network!.teardown({ removeState: true });

    expect(hostObjects(B)).toEqual([]);
    expect(hostObjects(A)).toEqual(before);
    expect(execFileSync('sysctl', ['-n', 'net.ipv4.ip_forward'], { encoding: 'utf8' }).trim()).toBe('1'); // A still forwards
    await expectIsolated('after the test run');
  });

  it('puts back a deleted jump and a flushed chain within seconds, and says isolation was missing', async () => {
    const engine = server!;
    const before = hostObjects(A);
    const events: EngineEvent[] = [];
    let seenMissing: Promise<{ topo: string; diagram: string | undefined; text: string | undefined }> | undefined;
    const off = engine.onEvent((e) => {
      if (e.type !== 'network' || !e.action.startsWith('isolation-')) return;
      events.push(e);
      // what the diagram gets right when the check found the hole
      if (e.action === 'isolation-missing' && !seenMissing) {
        seenMissing = (async () => {
          const topo = (await engine.network!.topology()).isolation;
          const snap = await new NetworkInspector(engine.network).snapshot(engine.list(), engine);
          return { topo, diagram: snap.isolation, text: snap.isolationDetail };
        })();
      }
    });
    try {
      // only the jump of this run's own prefix: a serving Glassbox's GLASSBOX-FORWARD stays
      execFileSync('iptables', ['-w', '-D', 'FORWARD', '-j', A.chains.forward]);
      await until(async () => {
        execFileSync('iptables', ['-w', '-C', 'FORWARD', '-j', A.chains.forward], { stdio: 'ignore' });
      }, 10_000, 100);
      expect(events[0]).toMatchObject({ type: 'network', action: 'isolation-missing', name: A.bridge });
      expect((events[0] as { detail?: string }).detail).toContain(`FORWARD -j ${A.chains.forward}`);
      const seen = await seenMissing!;
      expect(seen.topo).toBe('missing');
      expect(seen.diagram).toBe('missing');
      expect(seen.text).toMatch(/^isolation rules missing — re-adding/);
      await until(async () => {
        if (!events.some((e) => e.type === 'network' && e.action === 'isolation-restored')) throw new Error('not restored yet');
      }, 10_000, 100);
      expect((await new NetworkInspector(engine.network).snapshot(engine.list(), engine)).isolation).toBe('ok');
      await expectIsolated('after the jump came back');

      // a flush of the chain's rules (the jump stays): the rules come back, in the same order
      events.length = 0;
      execFileSync('iptables', ['-w', '-F', A.chains.forward]);
      await until(async () => {
        if (JSON.stringify(hostObjects(A)) !== JSON.stringify(before)) throw new Error('not back yet');
      }, 10_000, 100);
      expect(events.some((e) => e.type === 'network' && e.action === 'isolation-missing' && /changed/.test((e as { detail?: string }).detail ?? ''))).toBe(true);
      await expectIsolated('after the chain was refilled');
    } finally {
      off();
    }
  });
});
