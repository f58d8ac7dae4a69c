// What the classroom front remembers, on disk (0600, written by rename), so a restarted front
// sends every learner back to the node that holds their sandbox:
//   classes:  id, join code, seats, end time, and the nodes the class was made on
//   learners: id -> class and node
// No tokens: the front never needs one (the nodes check them). A learner's token is in their
// browser; the node they are placed on is in their `glassbox_node` cookie and here.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../engine/util/fsx.js';

export interface FrontClass {
  id: string;
  code: string;
  seats: number;
  endsAt: string;
  /** keys of the nodes the class exists on: its learners are placed only there */
  nodes: string[];
  ended: boolean;
}

export interface Placement {
  learnerId: string;
  classId: string;
  node: string;
}

interface FrontFile {
  version: 1;
  classes: FrontClass[];
  learners: Placement[];
}

export class Placements {
  private data: FrontFile;
  readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'front.json');
    this.data = Placements.read(this.file);
  }

  private static read(file: string): FrontFile {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return { version: 1, classes: [], learners: [] };
    }
    const parsed = JSON.parse(text) as FrontFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.classes) || !Array.isArray(parsed.learners)) throw new Error(`${file}: not a front placement file of version 1`);
    return parsed;
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file, JSON.stringify(this.data, null, 1));
  }

  addClass(c: Omit<FrontClass, 'ended'>): void {
    this.data.classes = this.data.classes.filter((x) => x.id !== c.id);
    this.data.classes.push({ ...c, ended: false });
    this.save();
  }

  endClass(id: string): void {
    const c = this.data.classes.find((x) => x.id === id);
    if (c && !c.ended) {
      c.ended = true;
      this.save();
    }
  }

  classByCode(code: string): FrontClass | null {
    const want = code.trim().toUpperCase();
    return this.data.classes.find((c) => c.code === want && !c.ended) ?? null;
  }

  classById(id: string): FrontClass | null {
    return this.data.classes.find((c) => c.id === id) ?? null;
  }

  learnersOf(classId: string): Placement[] {
    return this.data.learners.filter((l) => l.classId === classId);
  }

  nodeOf(learnerId: string): string | null {
    return this.data.learners.find((l) => l.learnerId === learnerId)?.node ?? null;
  }

  /**
   * Where the next learner of `cls` goes: among the nodes the class is on (and the front still
   * lists), the one with the fewest of its learners; a tie goes to the fewest learners overall,
   * then to the order of the list. `pending`: joins on their way to a node, not yet placed.
   */
  choose(cls: FrontClass, listed: string[], pending: (key: string) => number = () => 0): string | null {
    const candidates = listed.filter((k) => cls.nodes.includes(k));
    if (!candidates.length) return null;
    const ofClass = (k: string) => this.data.learners.filter((l) => l.node === k && l.classId === cls.id).length + pending(k);
    const overall = (k: string) => this.data.learners.filter((l) => l.node === k).length;
    return [...candidates].sort((a, b) => ofClass(a) - ofClass(b) || overall(a) - overall(b) || listed.indexOf(a) - listed.indexOf(b))[0];
  }

  place(p: Placement): void {
    this.data.learners = this.data.learners.filter((l) => l.learnerId !== p.learnerId);
    this.data.learners.push({ ...p });
    this.save();
  }

  /** A revoked learner's seat counts no more. */
  forget(learnerId: string): void {
    const before = this.data.learners.length;
    this.data.learners = this.data.learners.filter((l) => l.learnerId !== learnerId);
    if (this.data.learners.length !== before) this.save();
  }
}
