// Lab sessions: a lab's containers, made when a learner starts it and removed when they leave, and
// the evaluation of its checks.
//
//   start(labId)  ensure the images, create every container as lab-<sid>-<role> with the labels
//                 glassbox.lab=<id>, glassbox.lab.session=<sid>, glassbox.lab.role=<role>, start them
//   get(sid)      evaluate every check now (a throw is red with its message; green latches)
//   subscribe     evaluate every 500 ms and right after engine events, call back on change only
//   leave(sid)    remove the containers and the session's directory
//
// A session is its containers (found again by their labels) plus <root>/labs/<sid>/session.json
// (latched steps, the checks' memo): a restarted server picks up every session where it was.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError, InvalidArgument, NotFound, type ContainerConfig, type ContainerRecord, type Engine, type InspectHub } from '../engine/index.js';
import type { CheckOutcome } from './format.js';
import { ensureLabImages } from './images.js';
import { SessionKernel } from './kernel.js';
import type { LoadedLab } from './loader.js';

const SCRATCH = '{{scratch}}';
export const LABEL_LAB = 'glassbox.lab';
export const LABEL_SESSION = 'glassbox.lab.session';
export const LABEL_ROLE = 'glassbox.lab.role';

/** Session ids are short (they are in container names) and made of [a-z0-9]. */
export const SESSION_ID_RE = /^[a-z0-9]{10}$/;
const EVAL_EVERY_MS = 500;
/** a check that does not answer in this time is red for this round */
const CHECK_TIMEOUT_MS = 3000;

export interface LabSessionContainer {
  role: string;
  id: string;
  name: string;
  status: string;
}

export interface LabStepState {
  id: string;
  passed: boolean;
  detail?: string;
}

export interface LabSessionState {
  sessionId: string;
  labId: string;
  steps: LabStepState[];
  containers: LabSessionContainer[];
}

interface SessionFile {
  sessionId: string;
  labId: string;
  created: string;
  /** step id -> the detail shown when it went green */
  latched: Record<string, string | null>;
  memo: Record<string, unknown>;
}

interface Session {
  file: SessionFile;
  lab: LoadedLab;
  /** role -> container id */
  containers: Record<string, string>;
  subscribers: Set<(s: LabSessionState) => void>;
  timer: NodeJS.Timeout | null;
  /** the evaluation running now, and whether another was asked for meanwhile */
  running: Promise<LabSessionState> | null;
  again: Promise<LabSessionState> | null;
  lastPushed: string | null;
  saved: string;
  ended: boolean;
}

export interface LabSessionsOptions {
  engine: Engine;
  hub: InspectHub;
  labs: LoadedLab[];
  /** default <engine root>/labs */
  stateDir?: string;
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      const seconds = ms / 1000;
      t = setTimeout(() => reject(new Error(`${what} did not answer within ${seconds} s`)), ms);
      t.unref?.();
    }),
  ]);
}

export class LabSessions {
  readonly stateDir: string;
  private readonly engine: Engine;
  private readonly hub: InspectHub;
  private readonly labs = new Map<string, LoadedLab>();
  private readonly sessions = new Map<string, Session>();
  private offEvents: (() => void) | null = null;
  private eventTimer: NodeJS.Timeout | null = null;

  constructor(opts: LabSessionsOptions) {
    this.engine = opts.engine;
    this.hub = opts.hub;
    for (const l of opts.labs) this.labs.set(l.id, l);
    this.stateDir = opts.stateDir ?? join(opts.engine.root, 'labs');
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    this.restore();
    // something happened in the kernel: the watched sessions are re-read at once, not at the next tick
    this.offEvents = this.engine.onEvent((e) => {
      if (e.type !== 'container' && e.type !== 'network') return;
      if (this.eventTimer) return;
      this.eventTimer = setTimeout(() => {
        this.eventTimer = null;
        for (const s of this.sessions.values()) if (s.subscribers.size) void this.evaluate(s).catch(() => {});
      }, 50);
      this.eventTimer.unref?.();
    });
  }

  lab(id: string): LoadedLab {
    const lab = this.labs.get(id);
    if (!lab) throw new NotFound(`no lab with the id "${id}"`);
    return lab;
  }

  listLabs(): LoadedLab[] {
    return [...this.labs.values()];
  }

  /** Sessions are rebuilt from the containers' labels and their session.json. */
  private restore(): void {
    const bySession = new Map<string, ContainerRecord[]>();
    for (const c of this.engine.list({ all: true })) {
      const sid = c.config.labels?.[LABEL_SESSION];
      if (!sid || !SESSION_ID_RE.test(sid)) continue;
      bySession.set(sid, [...(bySession.get(sid) ?? []), c]);
    }
    for (const [sid, recs] of bySession) {
      const labId = recs[0].config.labels![LABEL_LAB];
      const lab = this.labs.get(labId);
      if (!lab) continue; // a lab that no longer loads: its containers stay, visible in the list
      const file = this.readFile(sid) ?? { sessionId: sid, labId, created: recs[0].created, latched: {}, memo: {} };
      const containers: Record<string, string> = {};
      for (const r of recs) containers[r.config.labels![LABEL_ROLE]] = r.id;
      this.sessions.set(sid, this.newSession(file, lab, containers));
    }
    // a directory no container belongs to any more is what a left (or half-made) session left
    for (const name of existsSync(this.stateDir) ? readdirSync(this.stateDir) : []) {
      if (SESSION_ID_RE.test(name) && !this.sessions.has(name)) rmSync(join(this.stateDir, name), { recursive: true, force: true });
    }
  }

  private newSession(file: SessionFile, lab: LoadedLab, containers: Record<string, string>): Session {
    return { file, lab, containers, subscribers: new Set(), timer: null, running: null, again: null, lastPushed: null, saved: JSON.stringify(file), ended: false };
  }

  private dirOf(sid: string): string {
    return join(this.stateDir, sid);
  }

  private readFile(sid: string): SessionFile | null {
    try {
      const f = JSON.parse(readFileSync(join(this.dirOf(sid), 'session.json'), 'utf8')) as SessionFile;
      return { sessionId: sid, labId: f.labId, created: f.created, latched: f.latched ?? {}, memo: f.memo ?? {} };
    } catch {
      return null;
    }
  }

  private save(s: Session): void {
    const text = JSON.stringify(s.file);
    if (text === s.saved || s.ended) return;
    const path = join(this.dirOf(s.file.sessionId), 'session.json');
    writeFileSync(path + '.tmp', text, { mode: 0o600 });
    renameSync(path + '.tmp', path);
    s.saved = text;
  }

  private session(sid: unknown): Session {
    if (typeof sid !== 'string' || !SESSION_ID_RE.test(sid)) throw new InvalidArgument(`session id: expected 10 characters [a-z0-9], got ${JSON.stringify(sid)?.slice(0, 40)}`);
    const s = this.sessions.get(sid);
    if (!s) throw new NotFound(`no lab session ${sid}`);
    return s;
  }

  /** Make the lab's containers and start them. On any failure, what was made is removed again. */
  async start(labId: string): Promise<{ sessionId: string; containers: LabSessionContainer[] }> {
    const lab = this.lab(labId);
    await ensureLabImages(lab, this.engine);
    const sid = randomBytes(8).toString('hex').slice(0, 10);
    const dir = this.dirOf(sid);
    mkdirSync(join(dir, 'scratch'), { recursive: true, mode: 0o700 });
    const file: SessionFile = { sessionId: sid, labId, created: new Date().toISOString(), latched: {}, memo: {} };
    const made: Record<string, string> = {};
    try {
      for (const c of lab.containers) {
        const rec = await this.engine.create({
          ...c.config,
          mounts: scratchMounts(c.config.mounts, join(dir, 'scratch')),
          name: `lab-${sid}-${c.role}`,
          labels: { ...c.config.labels, [LABEL_LAB]: lab.id, [LABEL_SESSION]: sid, [LABEL_ROLE]: c.role },
        });
        made[c.role] = rec.id;
      }
      for (const c of lab.containers) if (c.start !== false) await this.engine.start(made[c.role]);
    } catch (e) {
      for (const id of Object.values(made)) await this.engine.remove(id, { force: true }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      if (e instanceof EngineError) throw new EngineError(e.kind, `lab ${lab.id}: ${e.message}`);
      throw e;
    }
    const s = this.newSession(file, lab, made);
    s.saved = '';
    this.sessions.set(sid, s);
    this.save(s);
    // a first evaluation: checks can note in the memo how things were before the learner's first step
    await this.evaluate(s).catch(() => {});
    return { sessionId: sid, containers: this.containersOf(s) };
  }

  private containersOf(s: Session): LabSessionContainer[] {
    return s.lab.containers.map((c) => {
      const id = s.containers[c.role];
      let rec: ContainerRecord | null = null;
      try {
        rec = id ? this.engine.get(id) : null;
      } catch {
        rec = null;
      }
      return { role: c.role, id: rec?.id ?? id ?? '', name: rec?.name ?? `lab-${s.file.sessionId}-${c.role}`, status: rec?.state.status ?? 'removed' };
    });
  }

  /** The session's state with every check evaluated now. */
  async get(sid: string): Promise<LabSessionState> {
    return this.evaluate(this.session(sid));
  }

  /** The lab a session belongs to (REST checks the path's lab id against it). */
  labOf(sid: string): string {
    return this.session(sid).file.labId;
  }

  sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  /** One evaluation at a time per session; asked during one, one more runs after it. */
  private evaluate(s: Session): Promise<LabSessionState> {
    if (!s.running) {
      s.running = this.evaluateNow(s).finally(() => {
        s.running = null;
      });
      return s.running;
    }
    s.again ??= s.running.catch(() => undefined).then(() => {
      s.again = null;
      return this.evaluate(s);
    });
    return s.again;
  }

  private async evaluateNow(s: Session): Promise<LabSessionState> {
    const kernel = new SessionKernel({ engine: this.engine, hub: this.hub, containers: s.containers, scratchDir: join(this.dirOf(s.file.sessionId), 'scratch'), memo: s.file.memo });
    const steps: LabStepState[] = [];
    // steps in order: a check may read what an earlier one put in the memo
    for (const step of s.lab.steps) {
      if (step.id in s.file.latched) {
        const d = s.file.latched[step.id];
        steps.push({ id: step.id, passed: true, ...(d ? { detail: d } : {}) });
        continue;
      }
      let outcome: CheckOutcome;
      try {
        outcome = await timeout(Promise.resolve(step.check(kernel)), CHECK_TIMEOUT_MS, `the check of step ${step.id}`);
      } catch (e) {
        outcome = { passed: false, detail: (e as Error).message };
      }
      const o = typeof outcome === 'boolean' ? { passed: outcome } : { passed: !!outcome?.passed, detail: outcome?.detail };
      if (o.passed) s.file.latched[step.id] = o.detail ?? null;
      steps.push({ id: step.id, passed: o.passed, ...(o.detail ? { detail: String(o.detail).slice(0, 500) } : {}) });
    }
    // the memo must stay plain JSON (it is saved): a check that put something else there loses it
    s.file.memo = JSON.parse(JSON.stringify(kernel.memo ?? {})) as Record<string, unknown>;
    this.save(s);
    const state: LabSessionState = { sessionId: s.file.sessionId, labId: s.file.labId, steps, containers: this.containersOf(s) };
    this.push(s, state);
    return state;
  }

  private push(s: Session, state: LabSessionState): void {
    const text = JSON.stringify(state);
    if (text === s.lastPushed) return;
    s.lastPushed = text;
    for (const cb of s.subscribers) {
      try {
        cb(state);
      } catch {
        /* a subscriber's problem */
      }
    }
  }

  /** cb gets the state at once and then every change. Returns the unsubscribe. */
  subscribe(sid: string, cb: (s: LabSessionState) => void): () => void {
    const s = this.session(sid);
    s.subscribers.add(cb);
    void this.evaluate(s)
      .then((state) => cb(state))
      .catch(() => {});
    if (!s.timer) {
      s.timer = setInterval(() => void this.evaluate(s).catch(() => {}), EVAL_EVERY_MS);
      s.timer.unref?.();
    }
    return () => {
      s.subscribers.delete(cb);
      if (!s.subscribers.size && s.timer) {
        clearInterval(s.timer);
        s.timer = null;
      }
    };
  }

  /** Remove the session's containers and its directory. */
  async leave(sid: string): Promise<void> {
    const s = this.session(sid);
    s.ended = true;
    if (s.timer) clearInterval(s.timer);
    s.timer = null;
    s.subscribers.clear();
    this.sessions.delete(sid);
    await s.running?.catch(() => {});
    for (const id of Object.values(s.containers)) {
      await this.engine.remove(id, { force: true }).catch((e: unknown) => {
        if (!(e instanceof NotFound)) throw e;
      });
    }
    rmSync(this.dirOf(sid), { recursive: true, force: true });
  }

  close(): void {
    this.offEvents?.();
    if (this.eventTimer) clearTimeout(this.eventTimer);
    for (const s of this.sessions.values()) {
      if (s.timer) clearInterval(s.timer);
      s.timer = null;
      s.subscribers.clear();
    }
  }
}

/**
 * A bind source `{{scratch}}` or `{{scratch}}/<name>` is the session's scratch directory (or a
 * directory in it, made now): a lab's way to share files between a container and the host's view
 * of them (LabKernel.host.stat). A named directory is mode 1777, like /tmp, so that a container in a
 * user namespace, which writes as its own host uid, may write there too.
 */
export function scratchMounts(mounts: ContainerConfig['mounts'], scratchDir: string): ContainerConfig['mounts'] {
  if (!mounts) return mounts;
  return mounts.map((m) => {
    if (m.type !== 'bind' || !m.source?.startsWith(SCRATCH)) return m;
    const rest = m.source.slice(SCRATCH.length);
    if (rest && !/^\/[a-z0-9][a-z0-9._-]*$/.test(rest)) throw new InvalidArgument(`bind source ${m.source}: {{scratch}} takes one plain directory name after it`);
    const source = scratchDir + rest;
    if (rest) {
      mkdirSync(source, { recursive: true });
      chmodSync(source, 0o1777);
      // scratch/, <sid>/ and labs/ were made 0700: the container's host uid may pass through (not list)
      for (let d = scratchDir, i = 0; i < 3; i++, d = dirname(d)) chmodSync(d, 0o711);
    }
    return { ...m, source };
  });
}
