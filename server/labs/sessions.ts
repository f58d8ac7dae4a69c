// Lab sessions: a lab's containers, made when a learner starts it and removed when they leave, and
// the evaluation of its checks.
//
//   start(labId)  ensure the images, create every container as lab-<sid>-<role> with the labels
//                 glassbox.lab=<id>, glassbox.lab.session=<sid>, glassbox.lab.role=<role>, start them
//   get(sid)      evaluate every check now (a throw is red with its message; green latches)
//   subscribe     evaluate every 500 ms and right after engine events, call back on change only
//   leave(sid)    remove the containers and the session's directory
//
// A session is its containers plus <root>/labs/<sid>/session.json (its owner, its containers' ids,
// latched steps, the checks' memo): a restarted server picks up every session where it was.
//
// Owned sessions (a class): start(labId, learnerEngine) makes the containers through the learner's
// engine, so the learner policy holds for a lab too (user namespace, no privileged, their own
// network, their container quota); the session belongs to the learner and every other call takes
// the caller's principal (a learner reaches their own sessions only, the teacher all). A restart
// adopts only what session.json names, with the owner it records: labels alone are not trusted
// (the learner policy refuses glassbox.lab* labels from a learner, and an older container could
// still carry forged ones).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError, InvalidArgument, LearnerEngine, NotFound, OWNER_LABEL, PermissionDenied, type ContainerConfig, type ContainerRecord, type Engine, type InspectHub } from '../engine/index.js';
import { learnerAvailability, type LabAvailability } from './learner-labs.js';
import type { CheckOutcome } from './format.js';
import { ensureLabImages } from './images.js';
import { SessionKernel, type LabKernelOptions } from './kernel.js';
import type { LoadedLab } from './loader.js';

const SCRATCH = '{{scratch}}';
export const LABEL_LAB = 'glassbox.lab';
export const LABEL_SESSION = 'glassbox.lab.session';
export const LABEL_ROLE = 'glassbox.lab.role';

/** Session ids are short (they are in container names) and made of [a-z0-9]. */
export const SESSION_ID_RE = /^[a-z0-9]{10}$/;
const EVAL_EVERY_MS = 500;
/** lab sessions a learner may have at once (each is a few containers of their quota) */
export const DEFAULT_MAX_SESSIONS_PER_LEARNER = 2;

/**
 * Who asks: undefined for the teacher (every session), or a learner (their LearnerEngine, or
 * anything with their id): their own sessions only, NotFound for the others'.
 */
export type LabPrincipal = { readonly learnerId: string } | undefined;
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
  /** the learner whose session it is; absent for the teacher's */
  owner?: string;
  steps: LabStepState[];
  containers: LabSessionContainer[];
}

interface SessionFile {
  sessionId: string;
  labId: string;
  created: string;
  /** the learner who owns the session (their id); absent: the teacher's */
  owner?: string;
  /** role -> container id: what a restart adopts (absent in files written before owners existed) */
  containers?: Record<string, string>;
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
  /** lab sessions a learner may have at once (default 2) */
  maxSessionsPerLearner?: number;
}

/** One session as the list shows it. */
export interface LabSessionSummary {
  sessionId: string;
  labId: string;
  owner?: string;
  created: string;
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
  private readonly maxPerLearner: number;
  /** learner id -> starts under way (they count against the cap before their session exists) */
  private readonly starting = new Map<string, number>();

  constructor(opts: LabSessionsOptions) {
    this.engine = opts.engine;
    this.hub = opts.hub;
    this.maxPerLearner = opts.maxSessionsPerLearner ?? DEFAULT_MAX_SESSIONS_PER_LEARNER;
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

  /** The labs, for the teacher; for a learner only those a learner's sandbox can run (see availability). */
  listLabs(principal?: LabPrincipal): LoadedLab[] {
    const all = [...this.labs.values()];
    return principal ? all.filter((l) => learnerAvailability(l).learners) : all;
  }

  /** Whether a learner can run the lab and, if not, the one-line reason (for the teacher's class form). */
  availability(labId: string): LabAvailability {
    return learnerAvailability(this.lab(labId));
  }

  /**
   * Sessions are rebuilt from their session.json: its containers (by id) when it names them, else
   * (a file from before owners) the containers labelled with its id; each adopted container must
   * carry the session's id and the owner the file records (none for the teacher's).
   */
  private restore(): void {
    const records = this.engine.list({ all: true });
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const sid of existsSync(this.stateDir) ? readdirSync(this.stateDir) : []) {
      if (!SESSION_ID_RE.test(sid)) continue;
      const file = this.readFile(sid);
      const lab = file ? this.labs.get(file.labId) : undefined;
      if (!file || !lab) continue; // a lab that no longer loads: its containers stay, visible in the list
      const candidates: [string, ContainerRecord | undefined][] = file.containers
        ? Object.entries(file.containers).map(([role, id]) => [role, byId.get(id)])
        : records.filter((r) => r.config.labels?.[LABEL_SESSION] === sid).map((r) => [r.config.labels?.[LABEL_ROLE] ?? '', r]);
      const containers: Record<string, string> = {};
      for (const [role, r] of candidates) {
        const labels = r?.config.labels ?? {};
        if (!r || labels[LABEL_SESSION] !== sid || labels[LABEL_ROLE] !== role || labels[LABEL_LAB] !== file.labId) continue;
        if ((labels[OWNER_LABEL] ?? null) !== (file.owner ?? null)) continue; // not the owner's: never part of the session
        containers[role] = r.id;
      }
      if (!Object.keys(containers).length) continue;
      file.containers = containers;
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
      if (typeof f.labId !== 'string' || (f.owner !== undefined && typeof f.owner !== 'string')) return null;
      const containers = f.containers && typeof f.containers === 'object' ? Object.fromEntries(Object.entries(f.containers).filter(([, id]) => typeof id === 'string')) : undefined;
      return { sessionId: sid, labId: f.labId, created: f.created, ...(f.owner ? { owner: f.owner } : {}), ...(containers ? { containers } : {}), latched: f.latched ?? {}, memo: f.memo ?? {} };
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

  /** The session, when the principal may reach it; someone else's is not found, like a missing one. */
  private session(sid: unknown, principal?: LabPrincipal): Session {
    if (typeof sid !== 'string' || !SESSION_ID_RE.test(sid)) throw new InvalidArgument(`session id: expected 10 characters [a-z0-9], got ${JSON.stringify(sid)?.slice(0, 40)}`);
    const s = this.sessions.get(sid);
    if (!s || (principal && s.file.owner !== principal.learnerId)) throw new NotFound(`no lab session ${sid}`);
    return s;
  }

  /** The sessions the principal may reach (a learner's own; all for the teacher). */
  list(principal?: LabPrincipal): LabSessionSummary[] {
    return [...this.sessions.values()]
      .filter((s) => !principal || s.file.owner === principal.learnerId)
      .map((s) => ({ sessionId: s.file.sessionId, labId: s.file.labId, ...(s.file.owner ? { owner: s.file.owner } : {}), created: s.file.created }));
  }

  /**
   * How far a learner is in each of their lab sessions, for the teacher's roster: the steps whose
   * check has passed (they latch green) out of the lab's steps. Read from memory, nothing evaluated.
   */
  progressOf(learnerId: string): { id: string; sessionId: string; passed: number; total: number }[] {
    return [...this.sessions.values()]
      .filter((s) => s.file.owner === learnerId)
      .map((s) => ({ id: s.file.labId, sessionId: s.file.sessionId, passed: Object.keys(s.file.latched).length, total: this.labs.get(s.file.labId)?.steps.length ?? 0 }));
  }

  /** A learner's hold on one more session, or the refusal naming the cap. Returns the release. */
  private reserve(learnerId: string): () => void {
    const now = this.list({ learnerId }).length + (this.starting.get(learnerId) ?? 0);
    if (now >= this.maxPerLearner) throw new PermissionDenied(`lab session quota: a learner may have at most ${this.maxPerLearner} lab sessions at once (leave one first)`);
    this.starting.set(learnerId, (this.starting.get(learnerId) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.starting.get(learnerId) ?? 1) - 1;
      if (n > 0) this.starting.set(learnerId, n);
      else this.starting.delete(learnerId);
    };
  }

  /**
   * Make the lab's containers and start them; with an owner, through the learner's engine (their
   * policy, network and quota), as `<learner>-lab-<sid>-<role>`. On any failure, what was made is
   * removed again and the error says why in one line (a learner's refusal: PermissionDenied).
   */
  async start(labId: string, owner?: LearnerEngine): Promise<{ sessionId: string; containers: LabSessionContainer[] }> {
    const lab = this.lab(labId);
    if (owner) {
      const a = learnerAvailability(lab);
      if (!a.learners) throw new PermissionDenied(`lab ${lab.id} is not available in a learner's sandbox: ${a.reason}`);
    }
    const release = owner ? this.reserve(owner.learnerId) : () => {};
    try {
      return await this.startNow(lab, owner);
    } finally {
      release();
    }
  }

  private async startNow(lab: LoadedLab, owner: LearnerEngine | undefined): Promise<{ sessionId: string; containers: LabSessionContainer[] }> {
    await ensureLabImages(lab, this.engine);
    const sid = randomBytes(8).toString('hex').slice(0, 10);
    const dir = this.dirOf(sid);
    const scratchDir = join(dir, 'scratch');
    mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
    const file: SessionFile = { sessionId: sid, labId: lab.id, created: new Date().toISOString(), ...(owner ? { owner: owner.learnerId } : {}), containers: {}, latched: {}, memo: {} };
    const made: Record<string, string> = {};
    try {
      for (const c of lab.containers) {
        const mounts = scratchMounts(c.config.mounts, scratchDir);
        const endpoint = roleLinks(c.config.endpoint, made);
        const labels = { [LABEL_LAB]: lab.id, [LABEL_SESSION]: sid, [LABEL_ROLE]: c.role };
        const name = `lab-${sid}-${c.role}`;
        let rec: ContainerRecord;
        if (owner) {
          // the lab's own scratch binds are the runner's to add; any other bind meets the policy
          const scratch = (mounts ?? []).filter((m) => m.type === 'bind' && !!m.source && (m.source === scratchDir || m.source.startsWith(`${scratchDir}/`)));
          const rest = (mounts ?? []).filter((m) => !scratch.includes(m));
          rec = await owner.createForLab({ ...c.config, ...(c.config.mounts ? { mounts: rest } : {}), ...(endpoint ? { endpoint } : {}), name }, { labels, scratchDir, binds: scratch });
        } else {
          rec = await this.engine.create({ ...c.config, mounts, ...(endpoint ? { endpoint } : {}), name, labels: { ...c.config.labels, ...labels } });
        }
        made[c.role] = rec.id;
      }
      for (const c of lab.containers) if (c.start !== false) await (owner ?? this.engine).start(made[c.role]);
    } catch (e) {
      for (const id of Object.values(made)) await this.engine.remove(id, { force: true }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      if (e instanceof EngineError) throw new EngineError(e.kind, `lab ${lab.id}: ${e.message}`);
      throw e;
    }
    file.containers = { ...made };
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
      const name = `${s.file.owner ? `${s.file.owner}-` : ''}lab-${s.file.sessionId}-${c.role}`;
      return { role: c.role, id: rec?.id ?? id ?? '', name: rec?.name ?? name, status: rec?.state.status ?? 'removed' };
    });
  }

  /** The session's state with every check evaluated now. */
  async get(sid: string, principal?: LabPrincipal): Promise<LabSessionState> {
    return this.evaluate(this.session(sid, principal));
  }

  /** The lab a session belongs to (REST checks the path's lab id against it). */
  labOf(sid: string, principal?: LabPrincipal): string {
    return this.session(sid, principal).file.labId;
  }

  /** The learner who owns the session (undefined: the teacher's). */
  ownerOf(sid: string, principal?: LabPrincipal): string | undefined {
    return this.session(sid, principal).file.owner;
  }

  sessionIds(principal?: LabPrincipal): string[] {
    return this.list(principal).map((s) => s.sessionId);
  }

  /**
   * What a check of the session reads through: for a learner's session their view of the engine
   * and of the diagrams (a check's detail line is shown to the learner: it must not quote another
   * learner's process or address), read-only (it only ever looks).
   */
  private readersOf(s: Session): Pick<LabKernelOptions, 'engine' | 'hub' | 'learner'> {
    if (!s.file.owner) return { engine: this.engine, hub: this.hub };
    const view = new LearnerEngine(this.engine, { learnerId: s.file.owner, ports: { from: 1, to: 0 }, maxContainers: 0 });
    const ownsContainerPath = (path: string) => {
      const own = new Set(view.list({ all: true }).map((r) => r.id));
      // a path naming a container (its state dir, overlay, cgroup) names it by its full id
      return !this.engine.list({ all: true }).some((r) => !own.has(r.id) && path.includes(r.id.slice(0, 12)));
    };
    return { engine: view, hub: this.hub.forLearner(view), learner: { ownsContainerPath } };
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
    const kernel = new SessionKernel({ ...this.readersOf(s), containers: s.containers, scratchDir: join(this.dirOf(s.file.sessionId), 'scratch'), memo: s.file.memo });
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
    const state: LabSessionState = { sessionId: s.file.sessionId, labId: s.file.labId, ...(s.file.owner ? { owner: s.file.owner } : {}), steps, containers: this.containersOf(s) };
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
  subscribe(sid: string, cb: (s: LabSessionState) => void, principal?: LabPrincipal): () => void {
    const s = this.session(sid, principal);
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
  async leave(sid: string, principal?: LabPrincipal): Promise<void> {
    const s = this.session(sid, principal);
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

  /** Leave every session of a learner (their reset, revoke or the class's end). */
  async leaveAllOf(learnerId: string): Promise<void> {
    for (const sid of this.sessionIds({ learnerId })) await this.leave(sid);
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
 * A link target `{{role}}` is that role's container in this session (made before this one: roles
 * are made in the lab's order): `--link` as a lab writes it, before the session's names exist.
 */
export function roleLinks(endpoint: ContainerConfig['endpoint'], made: Record<string, string>): ContainerConfig['endpoint'] {
  if (!endpoint?.links?.length) return endpoint;
  const links = endpoint.links.map((l) => {
    const role = /^\{\{([a-z][a-z0-9-]*)\}\}$/.exec(l.container)?.[1];
    if (role === undefined) return l;
    if (!made[role]) throw new InvalidArgument(`link to {{${role}}}: no container of that role was made before this one (roles are made in the lab's order)`);
    return { ...l, container: made[role] };
  });
  return { ...endpoint, links };
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
