// Classes and learner sessions, kept on disk so a server restart (even SIGKILL) finds them again
// and a learner's browser reconnects to the same sandbox. The teacher (the server's token) makes a
// class; a learner joins with its code and a display name and gets a token of their own, stored
// here only as a SHA-256 (a stolen classroom.json opens no session). One JSON file, written by
// rename so it is never half-written.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { EngineError, writeFileAtomic } from '../engine/index.js';

/** Join codes avoid 0/O and 1/I/L, so a code read aloud in a classroom is typed right. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 6;
/** host ports each learner may publish (on 127.0.0.1) */
export const PORTS_PER_LEARNER = 10;
const DEFAULT_PORT_BASE = 20000;

export const classRequestSchema = z
  .object({
    name: z.string().trim().min(1, 'a class needs a name').max(80),
    seats: z.number().int().min(1).max(500),
    labs: z.array(z.string().regex(/^[a-z0-9-]+$/, 'a lab id is [a-z0-9-]')).max(64).default([]),
    quota: z
      .object({
        /** bytes, all the learner's containers together */
        memory: z.number().int().min(32 * 1024 * 1024),
        cpus: z.number().min(0.05).max(64),
        pids: z.number().int().min(16).max(65536),
        containers: z.number().int().min(1).max(50),
        /** bytes of container layers, all together */
        disk: z.number().int().min(16 * 1024 * 1024),
        /** minutes without activity before the sandbox is stopped and removed (a warning comes first) */
        idleMinutes: z.number().int().min(1).max(24 * 60),
      })
      .strict(),
    /** ISO time the class ends: everything it made is removed then */
    endsAt: z.iso.datetime({ offset: true }),
    /** the first host port learners' ranges are cut from (default: after the open classes' ranges, from 20000) */
    portBase: z.number().int().min(1024).max(65535 - PORTS_PER_LEARNER).optional(),
  })
  .strict()
  .refine((c) => (c.portBase ?? DEFAULT_PORT_BASE) + c.seats * PORTS_PER_LEARNER - 1 <= 65535, { message: 'the learners\' port ranges run past 65535: lower portBase or seats', path: ['portBase'] })
  .refine((c) => Date.parse(c.endsAt) > Date.now(), { message: 'the class would end in the past', path: ['endsAt'] });

export type ClassRequest = z.input<typeof classRequestSchema>;

/**
 * A class's id and code, given by the teacher instead of made here: the classroom front
 * (server/front/) makes a class on its first node and replays it to the others with the same id and
 * code, so one join code and one class id mean the same class on every node.
 */
export const classIdentitySchema = z
  .object({
    id: z.string().regex(/^[0-9a-f]{12}$/, 'a class id is 12 hex digits').optional(),
    code: z
      .string()
      .regex(new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`), `a join code is ${CODE_LENGTH} of ${CODE_ALPHABET}`)
      .optional(),
  })
  .strict();

export interface ClassRecord extends Omit<z.output<typeof classRequestSchema>, 'portBase'> {
  portBase: number;
  id: string;
  code: string;
  createdAt: string;
  /** set when the teacher ended it (or its end time passed and the sweep removed what it made) */
  endedAt: string | null;
}

export interface LearnerRecord {
  /** [a-z0-9]{10}: container, network and cgroup names carry it */
  id: string;
  classId: string;
  displayName: string;
  /** sha256 of the learner's token, hex */
  tokenHash: string;
  seat: number;
  joinedAt: string;
  lastActive: string;
  revokedAt: string | null;
}

interface StoreFile {
  version: 1;
  classes: ClassRecord[];
  learners: LearnerRecord[];
}

/** The classroom's errors carry the engine's kinds, so both APIs map them to codes the same way. */
export class ClassroomError extends EngineError {
  constructor(kind: 'invalid' | 'not-found' | 'conflict', message: string) {
    super(kind, message);
    this.name = 'ClassroomError';
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function formatIssues(e: z.ZodError): string {
  return e.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export class ClassroomStore {
  private data: StoreFile;
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'classroom.json');
    this.data = ClassroomStore.read(this.file);
  }

  private static read(file: string): StoreFile {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return { version: 1, classes: [], learners: [] };
    }
    const parsed = JSON.parse(text) as StoreFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.classes) || !Array.isArray(parsed.learners)) throw new Error(`${file}: not a classroom file of version 1`);
    return parsed;
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file, JSON.stringify(this.data, null, 1));
  }

  private newCode(): string {
    for (;;) {
      let code = '';
      for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
      if (!this.data.classes.some((c) => c.code === code && !c.endedAt)) return code;
    }
  }

  /** `input` may also carry `id` and `code` (classIdentitySchema): the same class on several nodes. */
  createClass(input: unknown): ClassRecord {
    const isObject = input !== null && typeof input === 'object' && !Array.isArray(input);
    const { id, code, ...request } = isObject ? (input as Record<string, unknown>) : {};
    const r = classRequestSchema.safeParse(isObject ? request : input);
    if (!r.success) throw new ClassroomError('invalid', formatIssues(r.error));
    const given = classIdentitySchema.safeParse({ id, code });
    if (!given.success) throw new ClassroomError('invalid', formatIssues(given.error));
    if (given.data.id && this.data.classes.some((c) => c.id === given.data.id)) throw new ClassroomError('conflict', `a class with id ${given.data.id} exists already`);
    if (given.data.code && this.data.classes.some((c) => c.code === given.data.code && !c.endedAt)) throw new ClassroomError('conflict', `an open class has the code ${given.data.code} already`);
    const portBase = this.portBaseFor(r.data.portBase, r.data.seats);
    const rec: ClassRecord = { ...r.data, portBase, id: given.data.id ?? randomBytes(6).toString('hex'), code: given.data.code ?? this.newCode(), createdAt: new Date().toISOString(), endedAt: null };
    this.data.classes.push(rec);
    this.save();
    return rec;
  }

  /**
   * Two open classes never share a port: a learner of one could otherwise take the port a learner
   * of the other was told is theirs. The given base must not overlap; without one, the first free.
   */
  private portBaseFor(wanted: number | undefined, seats: number): number {
    const span = seats * PORTS_PER_LEARNER;
    const taken = this.data.classes.filter((c) => !c.endedAt).map((c) => ({ from: c.portBase, to: c.portBase + c.seats * PORTS_PER_LEARNER - 1 }));
    const clash = (base: number) => taken.find((t) => base <= t.to && base + span - 1 >= t.from);
    if (wanted !== undefined) {
      const c = clash(wanted);
      if (c) throw new ClassroomError('conflict', `portBase: ports ${wanted}-${wanted + span - 1} overlap an open class's ports ${c.from}-${c.to}`);
      return wanted;
    }
    let base = DEFAULT_PORT_BASE;
    for (let c = clash(base); c; c = clash(base)) base = c.to + 1;
    if (base + span - 1 > 65535) throw new ClassroomError('conflict', 'no free port range is left for this class: end a class or give fewer seats');
    return base;
  }

  classes(): ClassRecord[] {
    return this.data.classes.map((c) => ({ ...c }));
  }

  getClass(id: string): ClassRecord {
    const c = this.data.classes.find((x) => x.id === id);
    if (!c) throw new ClassroomError('not-found', `no such class: ${id}`);
    return { ...c };
  }

  /** A learner joins with the class code: their record and their token (shown once, kept only hashed). */
  join(code: string, displayName: string): { learner: LearnerRecord; token: string } {
    const name = displayName.trim();
    if (!name || name.length > 40 || /[\u0000-\u001f\u007f]/.test(name)) throw new ClassroomError('invalid', 'a display name is 1 to 40 printable characters');
    const cls = this.data.classes.find((c) => c.code === code.trim().toUpperCase() && !c.endedAt);
    if (!cls || Date.parse(cls.endsAt) <= Date.now()) throw new ClassroomError('not-found', 'no open class has this code');
    const seated = this.data.learners.filter((l) => l.classId === cls.id && !l.revokedAt);
    if (seated.length >= cls.seats) throw new ClassroomError('conflict', `the class is full (${cls.seats} seats)`);
    // a revoked learner's seat (and port range) is free again: revoking removes their sandbox
    const taken = new Set(seated.map((l) => l.seat));
    let seat = 0;
    while (taken.has(seat)) seat++;
    if (seat >= cls.seats) throw new ClassroomError('conflict', `the class is full (${cls.seats} seats)`);
    const token = randomBytes(24).toString('base64url');
    const now = new Date().toISOString();
    const learner: LearnerRecord = { id: randomBytes(5).toString('hex'), classId: cls.id, displayName: name, tokenHash: sha256(token), seat, joinedAt: now, lastActive: now, revokedAt: null };
    this.data.learners.push(learner);
    this.save();
    return { learner: { ...learner }, token };
  }

  /** The learner a token belongs to, or null (unknown, revoked, or their class has ended). */
  authenticate(token: string): LearnerRecord | null {
    if (typeof token !== 'string' || token.length < 16 || token.length > 64) return null;
    const hash = Buffer.from(sha256(token), 'hex');
    const l = this.data.learners.find((x) => timingSafeEqual(Buffer.from(x.tokenHash, 'hex'), hash));
    return l && this.isActive(l.id) ? { ...l } : null;
  }

  /** Is the learner's session good: not revoked, and their class open? */
  isActive(learnerId: string): boolean {
    const l = this.data.learners.find((x) => x.id === learnerId);
    if (!l || l.revokedAt) return false;
    const cls = this.data.classes.find((c) => c.id === l.classId);
    return !!cls && !cls.endedAt && Date.parse(cls.endsAt) > Date.now();
  }

  learners(classId?: string): LearnerRecord[] {
    return this.data.learners.filter((l) => !classId || l.classId === classId).map((l) => ({ ...l }));
  }

  /** The host ports a learner may publish: their seat's slice of the class's range. */
  portsOf(learner: LearnerRecord): { from: number; to: number } {
    const from = this.getClass(learner.classId).portBase + learner.seat * PORTS_PER_LEARNER;
    return { from, to: from + PORTS_PER_LEARNER - 1 };
  }

  /** Notes activity (written at most once a minute: the file is not a clock). */
  touch(learnerId: string, now = new Date()): void {
    const l = this.data.learners.find((x) => x.id === learnerId);
    if (!l || now.getTime() - Date.parse(l.lastActive) < 60_000) return;
    l.lastActive = now.toISOString();
    this.save();
  }

  revoke(learnerId: string): LearnerRecord {
    const l = this.data.learners.find((x) => x.id === learnerId);
    if (!l) throw new ClassroomError('not-found', `no such learner: ${learnerId}`);
    if (!l.revokedAt) {
      l.revokedAt = new Date().toISOString();
      this.save();
    }
    return { ...l };
  }

  endClass(classId: string): ClassRecord {
    const c = this.data.classes.find((x) => x.id === classId);
    if (!c) throw new ClassroomError('not-found', `no such class: ${classId}`);
    if (!c.endedAt) {
      c.endedAt = new Date().toISOString();
      this.save();
    }
    return { ...c };
  }
}
