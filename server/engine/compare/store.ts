// The comparisons kept: one JSON file each under <root>/runtime-compare/, the last KEEP of them.
// Their containers are gone (each run cleans up after itself); the figures and each run's
// timeline stay here, so a page opened later shows them again.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NotFound } from '../types.js';
import { readJson, writeJsonAtomic } from '../util/fsx.js';
import type { RuntimeComparison } from './types.js';

const KEEP = 20;
const ID_RE = /^[0-9a-f]{12}$/;

export class ComparisonStore {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'runtime-compare');
  }

  save(c: RuntimeComparison): void {
    writeJsonAtomic(join(this.dir, `${c.id}.json`), c);
    const all = this.files();
    for (const f of all.slice(KEEP)) rmSync(join(this.dir, f.name), { force: true });
  }

  /** newest first */
  list(): RuntimeComparison[] {
    return this.files().map((f) => f.value);
  }

  get(id: string): RuntimeComparison {
    const c = ID_RE.test(id) ? readJson<RuntimeComparison>(join(this.dir, `${id}.json`)) : null;
    if (!c) throw new NotFound(`no such runtime comparison: ${id.slice(0, 64)}`);
    return c;
  }

  private files(): { name: string; value: RuntimeComparison }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => ID_RE.test(n.replace(/\.json$/, '')) && n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: { name: string; value: RuntimeComparison }[] = [];
    for (const name of names) {
      try {
        const value = readJson<RuntimeComparison>(join(this.dir, name));
        if (value) out.push({ name, value });
      } catch {
        /* a half-written file of a killed server: left out */
      }
    }
    return out.sort((a, b) => b.value.created.localeCompare(a.value.created));
  }
}
