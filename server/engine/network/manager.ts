// The network manager: the one class the engine drives (index.ts says in which order). It holds
// the network state and runs one mutation at a time; the work is in the modules beside it:
//   networks.ts        networks (a bridge each), subnet picking, the host/none pseudo networks
//   plan.ts            prepare(): the mode, the leases (leases.ts), the NetPlan
//   endpoint-files.ts  the /etc/hosts, resolv.conf and hostname files a container bind-mounts
//   wiring.ts          veth pairs into a container's namespace (attach, connect, detach)
//   port-bindings.ts   published ports: checks and userland proxies (ports.ts)
//   nat-sync.ts        our iptables chains from the state (nat.ts renders them)
//   firewall-check.ts  the reconcile loop that re-adds them if something removed them
//   sweep.ts           crash leftovers and teardown;  ip-forward.ts  the ip_forward sysctl
//   views.ts           counters() and topology() for the diagrams
// State is on disk under <root>/network/ (state-file.ts, atomic JSON), so a restarted server
// knows which addresses are leased and what to sweep.
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidArgument, NotFound } from '../types.js';
import { hostNames, prefixFromEnv, type HostNames } from '../host/naming.js';
import { refreshHosts, rewriteHosts } from './endpoint-files.js';
import { ReconcileTimer, reconcileFirewall, type FirewallCheck, type IsolationState } from './firewall-check.js';
import { enableForwarding, forgetForwarding, restoreForwarding } from './ip-forward.js';
import type { NetStep, Recorder } from './ip.js';
import { blankEndpoint, endpointOf, lease } from './leases.js';
import { CHAINS } from './nat.js';
import { syncNat } from './nat-sync.js';
import { createNetwork, ensureNetworks, findNetwork, inspectNetwork, listNetworks, removeNetwork } from './networks.js';
import { prepareEndpoint, type PrepareRequest } from './plan.js';
import { startProxies, stopAllProxies, stopProxies } from './port-bindings.js';
import { filesDir, filesRoot, loadState, saveState, saveStateAsync } from './state-file.js';
import { removeHostObjects, sweepLeftovers } from './sweep.js';
import type { IsolationChange, LinkCounters, NetPlan, NetState, NetworkCreateRequest, NetworkInfo, Topology } from './types.js';
import { counters, topology } from './views.js';
import { attachEndpoint, detachEndpoint, moveDefaultRoute, unwireAttachment, wireAttachment } from './wiring.js';

export type { NetStep } from './ip.js';
export type { Attachment, EndpointRecord, IsolationChange, LinkCounters, NetMode, NetPlan, NetworkCreateRequest, NetworkInfo, NetworkRecord, PortBinding, Topology } from './types.js';

const ID_RE = /^[0-9a-f]{12,64}$/;

export class NetworkManager {
  readonly root: string;
  readonly runRoot: string;
  /** networks, endpoints, proxies and rules: what the modules read and change */
  private readonly s: NetState;
  private queue: Promise<unknown> = Promise.resolve();
  /** mutations queued behind the one running */
  private waiting = 0;
  /** teardowns whose change is not on disk yet: resolved by the next state write (saveSoon) */
  private unsaved: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** the endpoints those teardowns changed: only their lease files are written */
  private readonly unsavedIds = new Set<string>();
  private initialized = false;
  /** what init() did, for the server's start-up log */
  readonly initSteps: NetStep[] = [];
  /** the names of this engine's host objects (bridge, veths, chains), from its prefix */
  readonly names: HostNames;
  private readonly isolation: IsolationState = { state: 'ok' };
  private readonly reconcileTimer = new ReconcileTimer();

  constructor(opts: { root: string; runRoot: string; names?: HostNames }) {
    this.root = opts.root;
    this.runRoot = opts.runRoot;
    this.names = opts.names ?? hostNames(prefixFromEnv());
    this.s = { root: opts.root, dir: join(opts.root, 'network'), names: this.names, networks: [], endpoints: {}, proxies: new Map(), rules: [] };
  }

  /**
   * One mutation at a time: leases, rules and files never interleave. `teardown`: the mutation
   * leaves its state write to saveSoon's group commit; any other one starts from a state on disk.
   */
  private serial<T>(fn: () => Promise<T>, opts: { teardown?: boolean } = {}): Promise<T> {
    this.waiting++;
    const run = async () => {
      this.waiting--;
      if (!opts.teardown) await this.flushSaves();
      try {
        return await fn();
      } finally {
        // the queue ran dry (nothing left to fold the write into), or enough are waiting for it
        if (this.waiting === 0 || this.unsaved.length >= 32) await this.flushSaves();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Group commit for teardowns (detach at exit, release at removal). Each wrote the whole state
   * (every endpoint: O(N)) twice, so `docker rm -f` of 500 wrote it a thousand times on the one
   * JavaScript thread. Now a teardown with more mutations queued behind it leaves the write to the
   * last of them (or to the 32nd), and the write runs on libuv's threads inside the queue, so the
   * teardowns that arrive meanwhile join the next one. Its caller still resolves only once a write
   * holding its change is on disk, so what a resolved release() says is as durable as before.
   */
  private saveSoon(containerId: string): { saved: Promise<void> } {
    this.unsavedIds.add(containerId);
    const saved = new Promise<void>((resolve, reject) => this.unsaved.push({ resolve, reject }));
    return { saved };
  }

  /** Never throws: a failed write (disk full) is each waiting teardown's error. Inside the queue only. */
  private async flushSaves(): Promise<void> {
    if (!this.unsaved.length) return;
    const done = this.unsaved;
    const ids = [...this.unsavedIds];
    this.unsaved = [];
    this.unsavedIds.clear();
    try {
      await saveStateAsync(this.s, ids);
    } catch (e) {
      for (const w of done) w.reject(e);
      return;
    }
    for (const w of done) w.resolve();
  }

  private needInit(): void {
    if (!this.initialized) throw new Error('NetworkManager: init() was not called');
  }

  filesDir(containerId: string): string {
    return filesDir(this.s, containerId);
  }

  /** The hosts file of a container (rewritten in place when its networks' membership changes). */
  hostsFilePath(containerId: string): string {
    return join(this.filesDir(containerId), 'hosts');
  }

  // ---------------------------------------------------------------- init

  async init(): Promise<void> {
    return this.serial(async () => {
      // 0711: a user-namespaced container's root (an unprivileged uid here) bind-mounts its files from here
      mkdirSync(filesRoot(this.s), { recursive: true, mode: 0o711 });
      chmodSync(this.s.dir, 0o711);
      chmodSync(filesRoot(this.s), 0o711);
      loadState(this.s);
      const rec: Recorder = (st) => this.initSteps.push(st);
      enableForwarding(this.s, rec);
      await ensureNetworks(this.s, rec);
      this.initialized = true;
      await syncNat(this.s, rec, 'iptables', true);
    });
  }

  // ---------------------------------------------------------------- networks

  listNetworks(): NetworkInfo[] {
    this.needInit();
    return listNetworks(this.s);
  }

  inspectNetwork(idOrName: string): NetworkInfo {
    this.needInit();
    return inspectNetwork(this.s, idOrName);
  }

  async createNetwork(req: NetworkCreateRequest): Promise<NetworkInfo> {
    this.needInit();
    return this.serial(() => createNetwork(this.s, req));
  }

  async removeNetwork(idOrName: string): Promise<void> {
    this.needInit();
    return this.serial(() => removeNetwork(this.s, idOrName));
  }

  // ---------------------------------------------------------------- containers

  /** Decides the container's network and writes its hosts/resolv.conf/hostname files. Touches no kernel state. */
  async prepare(containerId: string, req: PrepareRequest): Promise<NetPlan> {
    this.needInit();
    if (!ID_RE.test(containerId)) throw new InvalidArgument(`invalid container id ${JSON.stringify(containerId)}`);
    return this.serial(() => prepareEndpoint(this.s, containerId, req));
  }

  /**
   * Wires the container's namespace: call after its init exists and before its command runs.
   * `loopbackUp`: lo is up already (the helper's child did it inside the new namespace).
   */
  async attach(containerId: string, pid: number, opts: { loopbackUp?: boolean } = {}): Promise<NetStep[]> {
    this.needInit();
    if (!Number.isInteger(pid) || pid <= 1) throw new InvalidArgument(`invalid pid ${pid}`);
    return this.serial(async () => {
      const e = endpointOf(this.s, containerId);
      if (!existsSync(`/proc/${pid}/ns/net`)) throw new NotFound(`process ${pid} does not exist`);
      return attachEndpoint(this.s, e, pid, opts);
    });
  }

  /** At container exit: veths and port rules gone; the leases stay until release(). */
  async detach(containerId: string): Promise<void> {
    this.needInit();
    const r = await this.serial(
      async () => {
        const e = this.s.endpoints[containerId];
        if (!e) return undefined;
        await detachEndpoint(this.s, e, false);
        await syncNat(this.s);
        return this.saveSoon(containerId);
      },
      { teardown: true },
    );
    await r?.saved;
  }

  /** At container removal: leases freed, files removed, other containers' hosts files updated. */
  async release(containerId: string): Promise<void> {
    this.needInit();
    const r = await this.serial(
      async () => {
        const e = this.s.endpoints[containerId];
        if (!e) return undefined;
        await detachEndpoint(this.s, e, false);
        delete this.s.endpoints[containerId];
        await syncNat(this.s);
        refreshHosts(this.s, e.attachments.map((a) => a.networkId));
        return this.saveSoon(containerId);
      },
      { teardown: true },
    );
    await r?.saved;
    // its own files, which nothing else writes once the lease is gone: on libuv's threads,
    // outside the queue, so no other container's mutation waits for this disk work
    await rm(this.filesDir(containerId), { recursive: true, force: true });
  }

  async connect(idOrName: string, containerId: string, pid: number | null, opts: { ip?: string; aliases?: string[] } = {}): Promise<void> {
    this.needInit();
    if (!ID_RE.test(containerId)) throw new InvalidArgument(`invalid container id ${JSON.stringify(containerId)}`);
    return this.serial(async () => {
      const s = this.s;
      const net = findNetwork(s, idOrName);
      let e = s.endpoints[containerId];
      if (e && e.mode !== 'bridge') throw new InvalidArgument(`container ${e.name} uses network mode ${e.requested} and cannot be connected to another network`);
      if (e?.attachments.some((a) => a.networkId === net.id)) throw new Conflict(`endpoint with name ${e.name} already exists in network ${net.name}`);
      if (!e) {
        e = blankEndpoint(s, containerId, net.name);
        s.endpoints[containerId] = e;
      }
      if (opts.aliases?.length && net.builtin) throw new InvalidArgument('--alias: network-scoped alias is supported only for containers in user defined networks');
      const a = lease(s, e, net, { ip: opts.ip });
      e.attachments.push(a);
      if (opts.aliases?.length) e.aliases = [...new Set([...(e.aliases ?? []), ...opts.aliases])];
      const live = pid ?? e.pid;
      if (live) {
        try {
          await wireAttachment(a, net, live, e.attachments.length === 1);
          e.pid = live;
        } catch (err) {
          e.attachments.pop();
          throw err;
        }
      }
      saveState(s);
      if (live && e.attachments.length === 1 && e.ports.length) await startProxies(s, e);
      await syncNat(s);
      refreshHosts(s, e.attachments.map((x) => x.networkId));
    });
  }

  async disconnect(idOrName: string, containerId: string): Promise<void> {
    this.needInit();
    return this.serial(async () => {
      const s = this.s;
      const net = findNetwork(s, idOrName);
      const e = s.endpoints[containerId];
      const idx = e ? e.attachments.findIndex((a) => a.networkId === net.id) : -1;
      if (!e || idx < 0) throw new NotFound(`container ${containerId} is not connected to network ${net.name}`);
      const [a] = e.attachments.splice(idx, 1);
      await unwireAttachment(e, a);
      if (idx === 0) {
        await stopProxies(s, containerId);
        // the default route left with eth0: the next network's gateway takes over
        await moveDefaultRoute(s, e);
      }
      saveState(s);
      if (idx === 0 && e.pid && e.attachments[0]?.attached) await startProxies(s, e);
      await syncNat(s);
      refreshHosts(s, [net.id, ...e.attachments.map((x) => x.networkId)]);
      rewriteHosts(s, e);
    });
  }

  // ---------------------------------------------------------------- crash leftovers

  /**
   * Removes what containers that no longer exist left behind: veths, leases, port rules, files,
   * /run/netns/gb-* names. `running`, when given, is the subset still running: the others keep
   * their leases but lose veths and port rules. Networks are kept.
   */
  async sweep(liveContainerIds: Set<string>, running?: Set<string>): Promise<void> {
    this.needInit();
    const up = running ?? liveContainerIds;
    return this.serial(async () => {
      const released = await sweepLeftovers(this.s, liveContainerIds, up);
      saveState(this.s);
      await syncNat(this.s, undefined, undefined, true);
      refreshHosts(this.s, released);
    });
  }

  /** Stops the port proxies (server shutdown); the kernel state stays for the next start. */
  async close(): Promise<void> {
    this.stopReconcile();
    await this.serial(() => stopAllProxies(this.s));
  }

  /**
   * Removes everything Glassbox made on the host: veths, bridges, chains and jumps, and puts
   * ip_forward back. With removeState, also the state under <root>/network. For tests and uninstall.
   */
  async teardown(opts: { removeState?: boolean } = {}): Promise<void> {
    this.stopReconcile();
    await this.serial(async () => {
      if (!this.initialized) loadState(this.s); // a manager made only to clean up after a server
      await removeHostObjects(this.s);
      restoreForwarding(this.s);
      if (opts.removeState) rmSync(this.s.dir, { recursive: true, force: true });
      else forgetForwarding(this.s);
      this.initialized = false;
    });
  }

  // ---------------------------------------------------------------- for the diagrams

  async counters(): Promise<LinkCounters[]> {
    return counters(this.s);
  }

  async topology(): Promise<Topology> {
    return topology(this.s, this.isolation);
  }

  // ---------------------------------------------------------------- firewall reconcile

  /**
   * Checks that our jumps and chains are what we wrote and re-adds them if not. The state stays
   * 'missing' until a later check finds them in place, so the diagram can say so for a moment.
   */
  async reconcileFirewall(onChange?: (c: IsolationChange) => void): Promise<FirewallCheck> {
    this.needInit();
    return this.serial(() => reconcileFirewall(this.s, this.isolation, onChange));
  }

  /** Runs reconcileFirewall every intervalMs (the engine starts it; close() stops it). */
  startReconcile(intervalMs: number, onChange?: (c: IsolationChange) => void): void {
    this.reconcileTimer.start(intervalMs, () => this.reconcileFirewall(onChange), () => this.initialized);
  }

  stopReconcile(): void {
    this.reconcileTimer.stop();
  }

  /** The chains the default prefix owns, for documentation and checks (an instance's: names.chains). */
  static readonly chains = CHAINS;
}
