// What the adapter remembers between requests: exec sessions (created before they start), live
// attach sessions (for resize), recent exits (so a wait that arrives after a fast exit still
// answers) and a ring of recent events (for `docker events --since`).
import { randomBytes } from 'node:crypto';
import type { AttachSession, EngineApi, ExecProcess } from '../../engine/index.js';
import type { EngineEvent } from '../../engine/index.js';
import { dockerEvent, type DockerEvent } from './events-json.js';

export interface ExecEntry {
  id: string;
  containerId: string;
  cmd: string[];
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  env?: string[];
  user?: string;
  workingDir?: string;
  privileged: boolean;
  consoleSize?: [number, number];
  /** the byte sequence that detaches from the exec (ctrl-p ctrl-q unless DetachKeys says) */
  detachKeys?: Buffer;
  process?: ExecProcess;
  running: boolean;
  exitCode: number | null;
  /** resolves when the process has ended */
  ended: Promise<void>;
  markEnded: () => void;
}

export interface ExitNote {
  exitCode: number;
  oomKilled: boolean;
  at: number;
  name: string;
}

const RECENT_MS = 10_000;
const EVENT_RING = 1024;

export class AdapterState {
  readonly execs = new Map<string, ExecEntry>();
  private readonly attaches = new Map<string, Set<AttachSession>>();
  private readonly exits = new Map<string, ExitNote>();
  private readonly destroyed = new Map<string, ExitNote>();
  private readonly oom = new Set<string>();
  readonly events: DockerEvent[] = [];
  private readonly listeners = new Set<(e: DockerEvent) => void>();
  private readonly off: () => void;

  constructor(readonly engine: EngineApi) {
    this.off = engine.onEvent((e) => this.onEngineEvent(e));
  }

  close(): void {
    this.off();
    for (const e of this.execs.values()) if (e.running) e.process?.kill('SIGKILL');
    for (const set of this.attaches.values()) for (const s of set) s.detach();
    this.listeners.clear();
  }

  private onEngineEvent(e: EngineEvent): void {
    if (e.type === 'container') {
      if (e.action === 'start' || e.action === 'restart') {
        this.exits.delete(e.id);
        this.oom.delete(e.id);
      } else if (e.action === 'oom') this.oom.add(e.id);
      else if (e.action === 'die') {
        this.exits.set(e.id, { exitCode: Number(e.attributes?.exitCode ?? 0), oomKilled: this.oom.has(e.id), at: Date.now(), name: e.name });
      } else if (e.action === 'destroy') {
        const exit = this.exits.get(e.id) ?? { exitCode: 0, oomKilled: false, at: Date.now(), name: e.name };
        this.destroyed.set(e.id, { ...exit, at: Date.now(), name: e.name });
        this.exits.delete(e.id);
        for (const [k, x] of this.execs) if (x.containerId === e.id && !x.running) this.execs.delete(k);
      }
      this.prune();
    }
    let labels: Record<string, string> = {};
    if (e.type === 'container') {
      try {
        labels = this.engine.get(e.id).config.labels ?? {};
      } catch {
        /* removed already */
      }
    }
    const de = dockerEvent(e, labels);
    this.events.push(de);
    if (this.events.length > EVENT_RING) this.events.splice(0, this.events.length - EVENT_RING);
    for (const l of this.listeners) l(de);
  }

  private prune(): void {
    const old = Date.now() - RECENT_MS;
    for (const [k, v] of this.exits) if (v.at < old) this.exits.delete(k);
    for (const [k, v] of this.destroyed) if (v.at < old) this.destroyed.delete(k);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  subscribe(cb: (e: DockerEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** An exit that happened in the last few seconds (the wait request came after it). */
  recentExit(id: string): ExitNote | undefined {
    const n = this.exits.get(id);
    return n && n.at > Date.now() - RECENT_MS ? n : undefined;
  }

  /** A container removed in the last few seconds, by full id, id prefix or name. */
  recentlyDestroyed(idOrName: string): ExitNote | undefined {
    const key = idOrName.replace(/^\//, '');
    for (const [id, n] of this.destroyed) {
      if (n.at < Date.now() - RECENT_MS) continue;
      if (id === key || n.name === key || (key.length >= 4 && id.startsWith(key))) return n;
    }
    return undefined;
  }

  addAttach(id: string, s: AttachSession): () => void {
    const set = this.attaches.get(id) ?? new Set();
    set.add(s);
    this.attaches.set(id, set);
    return () => {
      set.delete(s);
      if (set.size === 0) this.attaches.delete(id);
    };
  }

  attachesOf(id: string): AttachSession[] {
    return [...(this.attaches.get(id) ?? [])];
  }

  newExec(fields: Omit<ExecEntry, 'id' | 'running' | 'exitCode' | 'ended' | 'markEnded'>): ExecEntry {
    let markEnded!: () => void;
    const ended = new Promise<void>((r) => (markEnded = r));
    const entry: ExecEntry = { ...fields, id: randomBytes(32).toString('hex'), running: false, exitCode: null, ended, markEnded };
    this.execs.set(entry.id, entry);
    return entry;
  }

  findExec(id: string): ExecEntry | undefined {
    return this.execs.get(id) ?? [...this.execs.values()].find((e) => id.length >= 4 && e.id.startsWith(id));
  }
}
