// A stand-in EngineApi for the Docker API adapter's tests that need no kernel: "containers" are
// host processes (spawned with child_process), records live in memory. Not a container engine.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AttachSession, EngineApi, EngineInfo, ExecProcess, ImageDetail, LogEntry, LogOptions } from '../../server/engine/api.js';
import type { CgroupStats } from '../../server/engine/cgroups/types.js';
import { Conflict, NotFound, type ContainerConfig, type ContainerRecord, type EngineEvent } from '../../server/engine/types.js';

const IMAGE_ID = 'sha256:' + 'b'.repeat(64);

export class FakeEngine implements EngineApi {
  readonly recs = new Map<string, ContainerRecord>();
  readonly logsOf = new Map<string, LogEntry[]>();
  private readonly procs = new Map<string, ChildProcess>();
  private readonly ev = new EventEmitter();
  private readonly pending = new Map<string, ((s: AttachSession) => void)[]>();
  private readonly sessions = new Map<string, EventEmitter[]>();
  private n = 0;
  tags = ['base:latest'];
  lastUpdate: unknown = null;

  async runtimes() {
    return [{ name: 'builtin', description: 'fake', exec: 'setns' as const, default: true, available: true, path: 'gb-helper', version: 'fake', error: null }];
  }

  info(): EngineInfo {
    const all = [...this.recs.values()];
    return {
      id: 'fake', kernelVersion: '6.0-fake', operatingSystem: 'Fake OS', architecture: 'x86_64', cpus: 2, memTotal: 1 << 30,
      cgroupLayout: 'hybrid', cgroupVersion: 1, cgroupDriver: 'cgroupfs', storageDriver: 'overlay2', root: '/tmp/fake', runRoot: '/tmp/fake-run',
      containers: all.length, containersRunning: all.filter((r) => r.state.status === 'running').length, containersPaused: 0,
      containersStopped: all.filter((r) => r.state.status !== 'running').length, images: 1, runtimes: ['builtin'], defaultRuntime: 'builtin',
      helperVersion: 'fake', swapLimitSupport: true,
    };
  }

  private emit(action: Extract<EngineEvent, { type: 'container' }>['action'], r: ContainerRecord, attributes?: Record<string, string>) {
    this.ev.emit('e', { type: 'container', action, id: r.id, name: r.name, image: r.image.ref, time: Date.now(), attributes } satisfies EngineEvent);
  }

  async create(config: ContainerConfig): Promise<ContainerRecord> {
    if (config.image !== 'base' && config.image !== 'base:latest') throw new NotFound(`No such image: ${config.image}:latest`);
    this.n++;
    const id = randomBytes(32).toString('hex');
    const name = config.name ?? `fake_${this.n}`;
    for (const r of this.recs.values()) if (r.name === name) throw new Conflict(`Conflict. The container name "/${name}" is already in use`);
    const argv = [...(config.entrypoint ?? []), ...(config.cmd ?? ['sh'])];
    const rec: ContainerRecord = {
      id, name, created: new Date().toISOString(), config, image: { ref: config.image, id: IMAGE_ID }, path: argv[0], args: argv.slice(1),
      limits: { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [], ...(config.limits ?? {}) },
      state: { status: 'created', pid: 0, pidStartTime: null, monitorPid: 0, monitorStartTime: null, exitCode: 0, signal: null, oomKilled: false, error: '', startedAt: null, finishedAt: null, restartCount: 0 },
      timeline: [],
      paths: { bundle: '/b', rootfs: '/b/rootfs', upper: '/c/upper', work: '/c/work', lowers: ['/l/1', '/l/2'], log: '/c/log', cgroups: { memory: '/sys/fs/cgroup/memory/glassbox/' + id } },
      network: { mode: config.network ?? 'none' },
    };
    this.recs.set(id, rec);
    this.logsOf.set(id, []);
    this.emit('create', rec);
    return rec;
  }

  async start(idOrName: string): Promise<ContainerRecord> {
    const rec = this.get(idOrName);
    const child = spawn(rec.path, rec.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.procs.set(rec.id, child);
    rec.state = { ...rec.state, status: 'running', pid: child.pid ?? 0, startedAt: new Date().toISOString(), finishedAt: null };
    const sessions = this.sessions.get(rec.id) ?? [];
    for (const resolve of this.pending.get(rec.id) ?? []) resolve(this.session(rec.id, sessions));
    this.pending.delete(rec.id);
    const out = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
      this.logsOf.get(rec.id)!.push({ stream, time: new Date().toISOString(), log: d.toString() });
      for (const s of this.sessions.get(rec.id) ?? []) s.emit(stream, d);
    };
    child.stdout!.on('data', out('stdout'));
    child.stderr!.on('data', out('stderr'));
    if (!rec.config.openStdin) child.stdin!.end();
    child.on('close', (code, sig) => {
      rec.state = { ...rec.state, status: 'exited', pid: 0, exitCode: code ?? (sig ? 137 : 0), finishedAt: new Date().toISOString() };
      this.procs.delete(rec.id);
      for (const s of this.sessions.get(rec.id) ?? []) {
        s.emit('exit', rec.state.exitCode);
        s.emit('close');
      }
      this.sessions.delete(rec.id);
      this.emit('die', rec, { exitCode: String(rec.state.exitCode) });
      if (rec.config.autoRemove) void this.remove(rec.id, { force: true });
    });
    this.emit('start', rec);
    return rec;
  }

  private session(id: string, list: EventEmitter[]): AttachSession {
    const em = new EventEmitter();
    list.push(em);
    this.sessions.set(id, list);
    return {
      onStdout: (cb) => em.on('stdout', cb),
      onStderr: (cb) => em.on('stderr', cb),
      onExit: (cb) => em.on('exit', cb),
      onClose: (cb) => em.on('close', cb),
      write: (d) => this.procs.get(id)?.stdin?.write(d),
      closeStdin: () => this.procs.get(id)?.stdin?.end(),
      resize: () => {},
      detach: () => {
        const l = this.sessions.get(id);
        if (l) this.sessions.set(id, l.filter((x) => x !== em));
      },
    };
  }

  async run(config: ContainerConfig) {
    const r = await this.create(config);
    return this.start(r.id);
  }
  async stop(idOrName: string) {
    const r = this.get(idOrName);
    this.procs.get(r.id)?.kill('SIGKILL');
    await this.wait(r.id);
    this.emit('stop', r);
  }
  async kill(idOrName: string, signal = 'SIGKILL') {
    const r = this.get(idOrName);
    if (r.state.status !== 'running') throw new Conflict(`Cannot kill container: ${r.name}: container ${r.id} is not running`);
    this.procs.get(r.id)?.kill(signal as NodeJS.Signals);
    this.emit('kill', r, { signal });
  }
  async restart(idOrName: string) {
    await this.stop(idOrName);
    await this.start(idOrName);
  }
  async pause(idOrName: string) {
    const r = this.get(idOrName);
    r.state.status = 'paused';
    this.emit('pause', r);
  }
  async unpause(idOrName: string) {
    const r = this.get(idOrName);
    r.state.status = 'running';
    this.emit('unpause', r);
  }
  async remove(idOrName: string, opts: { force?: boolean } = {}) {
    const r = this.get(idOrName);
    if (r.state.status === 'running' && !opts.force) throw new Conflict(`You cannot remove a running container ${r.id}. Stop the container before attempting removal or force remove`);
    this.procs.get(r.id)?.kill('SIGKILL');
    this.recs.delete(r.id);
    this.emit('destroy', r);
  }
  async rename(idOrName: string, newName: string) {
    this.get(idOrName).name = newName;
  }
  async wait(idOrName: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running') {
    const r = this.get(idOrName);
    if (condition === 'not-running' && r.state.status !== 'running') return { exitCode: r.state.exitCode, oomKilled: false };
    await new Promise<void>((resolve) => {
      const off = this.onEvent((e) => {
        if (e.type === 'container' && e.id === r.id && (condition === 'removed' ? e.action === 'destroy' : e.action === 'die' || e.action === 'destroy')) {
          off();
          resolve();
        }
      });
    });
    return { exitCode: r.state.exitCode, oomKilled: false };
  }
  get(idOrName: string): ContainerRecord {
    const k = idOrName.replace(/^\//, '');
    const r = this.recs.get(k) ?? [...this.recs.values()].find((x) => x.name === k || (k.length >= 3 && x.id.startsWith(k)));
    if (!r) throw new NotFound(`No such container: ${idOrName}`);
    return r;
  }
  list(opts: { all?: boolean } = {}) {
    return [...this.recs.values()].filter((r) => opts.all || r.state.status === 'running' || r.state.status === 'paused');
  }
  async update(idOrName: string, limits: Record<string, unknown>) {
    this.lastUpdate = limits;
    Object.assign(this.get(idOrName).limits, limits);
    return [];
  }
  async stats(idOrName: string): Promise<CgroupStats> {
    const r = this.get(idOrName);
    if (r.state.status !== 'running') throw new Conflict('not running');
    return {
      time: Date.now(),
      memory: { current: 5 << 20, limit: r.limits.memory, swapLimit: null, peak: 6 << 20, stat: { anon: 4 << 20, file: 1 << 20, inactive_file: 1 << 19 }, events: { max: 0, oom: 0, oomKill: 0 } },
      cpu: { usageNs: process.cpuUsage().user * 1000, userNs: 0, systemNs: 0, nrPeriods: 0, nrThrottled: 0, throttledNs: 0, cpus: r.limits.cpus, weight: 100, shares: 1024 },
      pids: { current: 1, limit: r.limits.pids, refused: 0 },
      io: { readBytes: 4096, writeBytes: 8192, readOps: 1, writeOps: 2 },
      frozen: false,
    };
  }
  async top() {
    return { titles: ['UID', 'PID', 'CMD'], processes: [['root', '1', 'sleep 100']] };
  }
  async changes() {
    return [
      { path: '/tmp', kind: 'modified' as const, isDir: true },
      { path: '/tmp/new', kind: 'added' as const, size: 3 },
      { path: '/etc/motd', kind: 'deleted' as const },
    ];
  }
  async *logs(idOrName: string, opts: LogOptions = {}): AsyncIterable<LogEntry> {
    let entries = this.logsOf.get(this.get(idOrName).id) ?? [];
    if (opts.tail !== undefined) entries = entries.slice(-opts.tail);
    for (const e of entries) yield e;
  }
  ociConfig() {
    return {};
  }
  timeline() {
    return [];
  }
  signalProcess(): never {
    throw new Error('the fake engine has no processes to signal');
  }
  imageView(): never {
    throw new Error('the fake engine has no content store');
  }
  setTenantLimits(): never {
    throw new Error('the fake engine has no cgroups');
  }
  tenantUsage(): never {
    throw new Error('the fake engine has no cgroups');
  }
  removeTenant(): never {
    throw new Error('the fake engine has no cgroups');
  }
  async attach(idOrName: string): Promise<AttachSession> {
    const r = this.get(idOrName);
    if (r.state.status === 'running') return this.session(r.id, this.sessions.get(r.id) ?? []);
    return new Promise((resolve) => this.pending.set(r.id, [...(this.pending.get(r.id) ?? []), resolve]));
  }
  async exec(idOrName: string, opts: { cmd: string[]; tty?: boolean }): Promise<ExecProcess> {
    const r = this.get(idOrName);
    if (r.state.status !== 'running') throw new Conflict(`Container ${r.id} is not running`);
    const child = spawn(opts.cmd[0], opts.cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const em = new EventEmitter();
    child.stdout!.on('data', (d) => em.emit('data', d));
    child.stderr!.on('data', (d) => em.emit(opts.tty ? 'data' : 'err', d));
    child.on('close', (code) => em.emit('exit', code ?? 137, null));
    return {
      execId: 'x', containerId: r.id, pid: child.pid ?? 0, tty: opts.tty ?? false,
      onData: (cb) => em.on('data', cb), onStderr: (cb) => em.on('err', cb), onExit: (cb) => em.on('exit', cb), failure: () => null,
      write: (d) => child.stdin!.write(d), end: () => child.stdin!.end(), resize: () => {}, pause: () => {}, resume: () => {},
      kill: (s) => child.kill(s ?? 'SIGKILL'),
    };
  }
  listImages() {
    return [{ id: IMAGE_ID, repoTags: this.tags, created: '2024-01-01T00:00:00Z', size: 1234567, layers: 2 }];
  }
  inspectImage(ref: string): ImageDetail {
    const tag = ref.includes(':') || ref.startsWith('sha256') ? ref : `${ref}:latest`;
    if (!this.tags.includes(tag) && ref !== IMAGE_ID) throw new NotFound(`No such image: ${ref}`);
    return {
      ...this.listImages()[0],
      config: { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh'] } },
      manifestDigest: 'sha256:' + 'c'.repeat(64),
      layerDetails: [
        { diffId: 'sha256:' + '1'.repeat(64), dir: '/l/1', size: 1000, createdBy: 'busybox' },
        { diffId: 'sha256:' + '2'.repeat(64), dir: '/l/2', size: 234, createdBy: 'glassbox files' },
      ],
      history: [
        { created: '2024-01-01T00:00:00Z', createdBy: 'ADD busybox /', emptyLayer: false, size: 1000, id: '' },
        { created: '2024-01-01T00:00:01Z', createdBy: 'ADD etc /etc', emptyLayer: false, size: 234, id: '' },
      ],
    };
  }
  tagImage(_source: string, target: string) {
    this.tags.push(target.includes(':') ? target : `${target}:latest`);
  }
  removeImage(ref: string) {
    const tag = ref.includes(':') ? ref : `${ref}:latest`;
    if (!this.tags.includes(tag)) throw new NotFound(`No such image: ${ref}`);
    this.tags = this.tags.filter((t) => t !== tag);
    return { untagged: [tag], deleted: [] };
  }
  // no registry, archives or commits in the stand-in
  async pullImage(ref: string): Promise<never> {
    throw new NotFound(`pull access denied for ${ref}: the stand-in engine has no registry`);
  }
  async loadImages(): Promise<never> {
    throw new NotFound('the stand-in engine cannot load images');
  }
  async saveImages(): Promise<never> {
    throw new NotFound('the stand-in engine cannot save images');
  }
  async commit(): Promise<never> {
    throw new NotFound('the stand-in engine cannot commit');
  }
  async build(): Promise<never> {
    throw new NotFound('the stand-in engine cannot build');
  }
  // the stand-in has no networking, like an engine opened with network: false
  listNetworks() {
    return [];
  }
  inspectNetwork(idOrName: string): never {
    throw new NotFound(`network ${idOrName} not found`);
  }
  async createNetwork(): Promise<never> {
    throw new NotFound('the stand-in engine has no networking');
  }
  async removeNetwork(idOrName: string): Promise<void> {
    throw new NotFound(`network ${idOrName} not found`);
  }
  async connectNetwork(network: string): Promise<void> {
    throw new NotFound(`network ${network} not found`);
  }
  async disconnectNetwork(network: string): Promise<void> {
    throw new NotFound(`network ${network} not found`);
  }
  // the stand-in keeps no volumes and no files
  listVolumes() {
    return [];
  }
  inspectVolume(name: string): never {
    throw new NotFound(`get ${name}: no such volume`);
  }
  createVolume(): never {
    throw new NotFound('the stand-in engine has no volumes');
  }
  removeVolume(name: string): never {
    throw new NotFound(`get ${name}: no such volume`);
  }
  async statPath(): Promise<never> {
    throw new NotFound('the stand-in engine has no files');
  }
  async getArchive(): Promise<never> {
    throw new NotFound('the stand-in engine has no files');
  }
  async putArchive(): Promise<never> {
    throw new NotFound('the stand-in engine has no files');
  }
  async exportContainer(): Promise<never> {
    throw new NotFound('the stand-in engine has no files');
  }
  async importImage(): Promise<never> {
    throw new NotFound('the stand-in engine cannot import images');
  }
  async pruneContainers() {
    return { deleted: [], spaceReclaimed: 0 };
  }
  pruneImages() {
    return { deleted: [], untagged: [], spaceReclaimed: 0 };
  }
  async pruneNetworks() {
    return { deleted: [] };
  }
  pruneVolumes() {
    return { deleted: [], spaceReclaimed: 0 };
  }
  diskUsage() {
    return { layersSize: 0, images: [], containers: [], volumes: [], buildCache: [] };
  }
  onEvent(cb: (e: EngineEvent) => void) {
    this.ev.on('e', cb);
    return () => void this.ev.off('e', cb);
  }
}
