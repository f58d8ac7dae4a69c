// The classroom: classes and learners (the store), each learner's sandbox (a LearnerEngine over the
// one Engine), and the clock that ends what nobody ends by hand: a class past its end time, a
// sandbox idle past its limit (a warning first). The web layer asks it who a token belongs to and
// tells it when a learner did something; it tells the web layer (events) what changed, so the
// teacher's roster and the learner's page follow.
//
//   join(code, name)    a learner's record and token; their quota group is made
//   principalFor(token) the teacher, a learner (with their LearnerEngine), or null
//   reset(lid)          removes everything the learner made; the session stays
//   revoke(lid)         reset, and the token stops working
//   endClass(id)        revoke every learner of the class; the class is closed
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LearnerEngine, type Engine, type EngineApi } from '../engine/index.js';
import { checkTenantLimits, OWNER_LABEL } from '../engine/index.js';
import type { Principal } from './principal.js';
import { ClassroomError, ClassroomStore, type ClassRecord, type LearnerRecord } from './store.js';

/** How often the clock looks at end times and idle sandboxes. */
export const SWEEP_EVERY_MS = 15_000;
/** The idle warning comes this long before the sandbox is removed (or at half the idle time). */
export const IDLE_WARNING_MS = 2 * 60_000;

/** One lab session of a learner: the steps passed of the lab's steps. */
export interface LabProgress {
  id: string;
  sessionId: string;
  passed: number;
  total: number;
}

export type SandboxRemovedReason = 'reset' | 'revoked' | 'idle' | 'class-ended';

export interface ClassroomEvents {
  /** something a roster shows changed: a learner joined, left, was reset */
  changed: [classId: string];
  /** the learner's sandbox will be removed in `secondsLeft` unless they do something */
  'idle-warning': [learnerId: string, secondsLeft: number];
  'sandbox-removed': [learnerId: string, reason: SandboxRemovedReason];
  /** the learner's token no longer works: close their sockets */
  revoked: [learnerId: string];
}

export interface ClassroomOptions {
  engine: Engine;
  /** default: <engine root>/classroom.json */
  store?: ClassroomStore;
  /** the teacher's token check (the server's token) */
  isTeacherToken: (token: string) => boolean;
  now?: () => number;
  /** false: no timer (tests call sweep() themselves) */
  clock?: boolean;
  /** the lab sessions: a learner's are left when their sandbox is removed */
  labs?: { leaveAllOf(learnerId: string): Promise<void>; progressOf(learnerId: string): LabProgress[] };
}

export class Classroom extends EventEmitter<ClassroomEvents> {
  readonly store: ClassroomStore;
  /** keys the learners' page cookies; kept on disk so they outlive a restart */
  readonly pageSecret: Buffer;
  private readonly engine: Engine;
  private readonly labs: ClassroomOptions['labs'];
  private readonly isTeacherToken: (token: string) => boolean;
  private readonly now: () => number;
  private readonly engines = new Map<string, LearnerEngine>();
  /** activity in memory, exact; the store keeps it to the minute */
  private readonly lastActive = new Map<string, number>();
  private readonly warned = new Set<string>();
  private readonly timer: NodeJS.Timeout | null;
  private sweeping: Promise<void> | null = null;

  constructor(opts: ClassroomOptions) {
    super();
    this.engine = opts.engine;
    this.store = opts.store ?? new ClassroomStore(opts.engine.root);
    this.isTeacherToken = opts.isTeacherToken;
    this.labs = opts.labs;
    this.now = opts.now ?? Date.now;
    this.pageSecret = loadSecret(join(opts.engine.root, 'page-secret'));
    for (const l of this.store.learners()) this.lastActive.set(l.id, Date.parse(l.lastActive));
    this.timer = opts.clock === false ? null : setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer?.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  // ------------------------------------------------------------------ who is asking

  /** The principal a token belongs to, or null. The teacher's engine is the Engine itself. */
  principalFor(token: string | null | undefined): Principal | null {
    if (!token) return null;
    if (this.isTeacherToken(token)) return { role: 'teacher', engine: this.engine as EngineApi };
    const learner = this.store.authenticate(token);
    if (!learner) return null;
    return { role: 'learner', learner, classId: learner.classId, engine: this.engineOf(learner) };
  }

  /** The learner's view of the engine (one per learner: their events listener is shared). */
  engineOf(learner: LearnerRecord): LearnerEngine {
    let e = this.engines.get(learner.id);
    if (!e) {
      const cls = this.store.getClass(learner.classId);
      e = new LearnerEngine(this.engine, {
        learnerId: learner.id,
        ports: this.store.portsOf(learner),
        maxContainers: cls.quota.containers,
        diskPerContainer: Math.floor(cls.quota.disk / cls.quota.containers),
      });
      this.engines.set(learner.id, e);
    }
    return e;
  }

  /** The learner did something (a request, a keystroke): the idle clock starts again. */
  touch(learnerId: string): void {
    this.lastActive.set(learnerId, this.now());
    if (this.warned.delete(learnerId)) this.emit('idle-warning', learnerId, -1);
    this.store.touch(learnerId, new Date(this.now()));
  }

  lastActivity(learnerId: string): number | null {
    return this.lastActive.get(learnerId) ?? null;
  }

  // ------------------------------------------------------------------ the teacher's verbs

  /** A class whose quota this host cannot hold (more CPUs than it has) is refused before it is made. */
  createClass(input: unknown): ClassRecord {
    const q = (input as { quota?: { memory?: unknown; cpus?: unknown; pids?: unknown } } | null)?.quota;
    if (q && typeof q === 'object') {
      try {
        checkTenantLimits({ memory: q.memory, cpus: q.cpus, pids: q.pids });
      } catch (e) {
        throw new ClassroomError('invalid', (e as Error).message.replace(/^learner quota /, 'quota.'));
      }
    }
    return this.store.createClass(input);
  }

  /**
   * A learner joins: their record and token, and their parent cgroup with the class's quota (all
   * their containers together: memory, CPU, pids), held by the kernel from their first container.
   */
  async join(code: unknown, displayName: unknown): Promise<{ learner: LearnerRecord; token: string; class: ClassRecord }> {
    if (typeof code !== 'string' || typeof displayName !== 'string') throw new ClassroomError('invalid', 'send { code, name }: the class code and your display name');
    const r = this.store.join(code, displayName);
    const cls = this.store.getClass(r.learner.classId);
    try {
      await this.engine.setTenantLimits(r.learner.id, { memory: cls.quota.memory, cpus: cls.quota.cpus, pids: cls.quota.pids });
    } catch (e) {
      // no sandbox without its quota: the seat is given back
      this.store.revoke(r.learner.id);
      throw e;
    }
    this.lastActive.set(r.learner.id, this.now());
    this.emit('changed', r.learner.classId);
    return { ...r, class: cls };
  }

  learner(classId: string, learnerId: string): LearnerRecord {
    const l = this.store.learners(classId).find((x) => x.id === learnerId);
    if (!l) throw new ClassroomError('not-found', `no learner ${learnerId} in class ${classId}`);
    return l;
  }

  /** The learner's containers, running or not (lab containers included). */
  containersOf(learnerId: string) {
    return this.engine.list({ all: true }).filter((r) => r.config.labels?.[OWNER_LABEL] === learnerId);
  }

  /** Removes everything the learner made (containers, lab sessions' containers, networks, volumes). */
  async removeSandbox(learnerId: string, reason: SandboxRemovedReason): Promise<void> {
    // the lab sessions first: leaving one removes its containers and its directory
    await this.labs?.leaveAllOf(learnerId).catch((e: Error) => console.error(`glassbox: leaving ${learnerId}'s lab sessions: ${e.message}`));
    const mine = this.containersOf(learnerId);
    await Promise.all(mine.map((r) => this.engine.remove(r.id, { force: true }).catch(() => {})));
    for (const n of this.engine.listNetworks().filter((x) => x.labels[OWNER_LABEL] === learnerId)) await this.engine.removeNetwork(n.id).catch(() => {});
    // their volumes too (the last one takes their pool's filesystem with it)
    for (const v of this.engine.listVolumes().filter((x) => x.labels[OWNER_LABEL] === learnerId)) {
      try {
        this.engine.removeVolume(v.name, { force: true });
      } catch (e) {
        console.error(`glassbox: removing ${learnerId}'s volume ${v.name}: ${(e as Error).message}`);
      }
    }
    this.warned.delete(learnerId);
    this.emit('sandbox-removed', learnerId, reason);
    const l = this.store.learners().find((x) => x.id === learnerId);
    if (l) this.emit('changed', l.classId);
  }

  async reset(classId: string, learnerId: string): Promise<void> {
    this.learner(classId, learnerId);
    await this.removeSandbox(learnerId, 'reset');
  }

  async revoke(classId: string, learnerId: string): Promise<LearnerRecord> {
    this.learner(classId, learnerId);
    const rec = this.store.revoke(learnerId);
    this.engines.delete(learnerId);
    this.emit('revoked', learnerId);
    await this.removeSandbox(learnerId, 'revoked');
    await this.removeQuotaGroup(learnerId);
    return rec;
  }

  /** A revoked learner's parent cgroup goes once their containers have. */
  private async removeQuotaGroup(learnerId: string): Promise<void> {
    await this.engine.removeTenant(learnerId).catch((e: Error) => console.error(`glassbox: removing ${learnerId}'s cgroup: ${e.message}`));
  }

  /** The learner's lab sessions and how far they are (the roster shows it). */
  labProgress(learnerId: string): LabProgress[] {
    return this.labs?.progressOf(learnerId) ?? [];
  }

  /** What the learner uses of their quota, read from their parent cgroup (the roster shows it). */
  usage(learnerId: string) {
    return this.engine.tenantUsage(learnerId);
  }

  async endClass(classId: string): Promise<ClassRecord> {
    const cls = this.store.getClass(classId);
    for (const l of this.store.learners(classId)) {
      if (!l.revokedAt) this.store.revoke(l.id);
      this.engines.delete(l.id);
      this.emit('revoked', l.id);
    }
    // a revoked learner's sandbox may still stand (a revoke interrupted by a crash): remove all
    for (const l of this.store.learners(classId)) {
      await this.removeSandbox(l.id, 'class-ended');
      await this.removeQuotaGroup(l.id);
    }
    const ended = cls.endedAt ? cls : this.store.endClass(classId);
    this.emit('changed', classId);
    return ended;
  }

  // ------------------------------------------------------------------ the clock

  /** Ends classes past their end time; warns, then empties, idle sandboxes. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const now = this.now();
    for (const c of this.store.classes()) {
      if (c.endedAt) continue;
      if (Date.parse(c.endsAt) <= now) {
        await this.endClass(c.id).catch((e: Error) => console.error(`glassbox: ending class ${c.id}: ${e.message}`));
        continue;
      }
      const idleMs = c.quota.idleMinutes * 60_000;
      const warnMs = Math.min(IDLE_WARNING_MS, idleMs / 2);
      for (const l of this.store.learners(c.id)) {
        if (l.revokedAt) continue;
        if (!this.containersOf(l.id).length) continue; // nothing to remove: an idle learner with an empty sandbox costs nothing
        const idle = now - (this.lastActive.get(l.id) ?? Date.parse(l.lastActive));
        if (idle >= idleMs) await this.removeSandbox(l.id, 'idle');
        else if (idle >= idleMs - warnMs && !this.warned.has(l.id)) {
          this.warned.add(l.id);
          this.emit('idle-warning', l.id, Math.ceil((idleMs - idle) / 1000));
        }
      }
    }
  }
}

/** 32 random bytes in a 0600 file, made on first use. */
function loadSecret(file: string): Buffer {
  try {
    const b = readFileSync(file);
    if (b.length === 32) return b;
  } catch {
    /* first start */
  }
  const b = randomBytes(32);
  writeFileSync(file, b, { mode: 0o600 });
  return b;
}
