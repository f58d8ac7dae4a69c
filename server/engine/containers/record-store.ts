// Container records on disk: one record.json per container, written atomically, so that a server
// killed at any instant restarts with a consistent view.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../util/fsx.js';
import { releaseLayerFsIn } from '../rootfs/quota.js';
import { Conflict, NotFound, type ContainerRecord } from '../types.js';

/** the name a record's directory takes while it is being deleted (never a container id) */
const GONE = '.gone-';

export class RecordStore {
  private readonly byId = new Map<string, ContainerRecord>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
  }

  containerDir(id: string): string {
    return join(this.dir, id);
  }

  load(): ContainerRecord[] {
    for (const id of readdirSync(this.dir)) {
      // a removal the server died in the middle of: renamed away already, so never loaded again
      if (id.startsWith(GONE)) {
        releaseLayerFsIn(join(this.dir, id));
        rmSync(join(this.dir, id), { recursive: true, force: true });
        continue;
      }
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      const rec = readJson<ContainerRecord>(join(this.dir, id, 'record.json'));
      if (rec) this.byId.set(id, rec);
      else {
        // creation died half-way: its size-limited layer (if it got one) is unmounted first
        releaseLayerFsIn(join(this.dir, id));
        rmSync(join(this.dir, id), { recursive: true, force: true });
      }
    }
    return [...this.byId.values()];
  }

  save(rec: ContainerRecord): void {
    this.byId.set(rec.id, rec);
    writeJsonAtomic(join(this.dir, rec.id, 'record.json'), rec);
  }

  /**
   * Forget the record and delete its directory. One rename makes the removal atomic (a server
   * killed during the rm -r restarts without a half-deleted record, and load() finishes the job);
   * the rm -r runs on libuv's threads, so 500 removals never hold the event loop for their disk
   * work, and share the disk instead of queueing on the one JavaScript thread.
   */
  async delete(id: string): Promise<void> {
    this.byId.delete(id);
    const dir = join(this.dir, id);
    releaseLayerFsIn(dir); // never rm -r into a mounted layer
    const gone = join(this.dir, `${GONE}${id}`);
    try {
      await rename(dir, gone);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await rm(gone, { recursive: true, force: true });
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  nameTaken(name: string): boolean {
    for (const r of this.byId.values()) if (r.name === name) return true;
    return false;
  }

  /** By full id only (no name or prefix search): for the per-second readers. */
  byFullId(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  /** Full id, name, or a unique id prefix — as the docker CLI accepts. */
  find(idOrName: string): ContainerRecord {
    const key = idOrName.replace(/^\//, '');
    const exact = this.byId.get(key);
    if (exact) return exact;
    for (const r of this.byId.values()) if (r.name === key) return r;
    if (/^[0-9a-f]+$/.test(key) && key.length > 0) {
      const matches = [...this.byId.values()].filter((r) => r.id.startsWith(key));
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) throw new Conflict(`multiple containers found with provided prefix: ${key}`);
    }
    throw new NotFound(`No such container: ${idOrName}`);
  }
}
