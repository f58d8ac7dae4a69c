// Volumes: directories on the host that outlive containers, mounted *outside* the union (a bind
// mount on top of the overlay), so what a container writes there is not in its layer and is not
// lost with it. Laid out like Docker's local driver:
//
//   <root>/volumes/<name>/_data        what the container sees at its mount point
//   <root>/volumes/<name>/volume.json  driver, labels, options, created, anonymous
//
// A volume in a pool lives on that pool's own filesystem instead: one ext4 image of a fixed size,
// loop-mounted, for all of a tenant's volumes together (a learner's, whose disk a class limits):
//
//   <root>/volume-pools/<pool>/pool.img   the image (sparse)
//   <root>/volume-pools/<pool>/fs/<name>  what the container sees (the record's mountpoint)
//
// A full pool is ENOSPC inside it and nothing on the host's disk. The pool goes with its last volume.
//
// <root>/volumes is 0700: only root reaches a volume's files from the host. Which containers use
// a volume is not stored here: their records name it (a mount of type "volume"), so it cannot go
// stale.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSizedFs, mountLayerFs, removeLayerFs, type LayerFs } from '../rootfs/quota.js';
import { Conflict, InvalidArgument, NotFound } from '../types.js';
import { readJson, writeJsonAtomic } from '../util/fsx.js';

/** Docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (and a name is a directory here: no '/'). */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Docker ≥ 23 labels anonymous volumes so that prune (without all) removes only those. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface VolumeRecord {
  name: string;
  driver: 'local';
  /** the _data directory on the host */
  mountpoint: string;
  /** ISO-8601 */
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  scope: 'local';
  /** made for a container (an image's VOLUME, `-v /path`), not by name */
  anonymous: boolean;
  /** the pool whose filesystem holds it (a learner's); unset: a plain directory */
  pool?: string;
}

/** Where a volume is made: a pool by name, and the pool's size in bytes if it must be made. */
export interface VolumePool {
  name: string;
  size: number;
}

export interface VolumeCreateRequest {
  /** unset: a random 64-hex name, as Docker gives anonymous volumes */
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  /** the local driver's options (type, device, o): refused by name, see create */
  options?: Record<string, string>;
  /** make it in this pool (the engine's tenancy sets it for a learner; no Docker field maps here) */
  pool?: VolumePool;
}

export function validateVolumeName(name: string, what = 'volume name'): string {
  if (name.length > 255 || !NAME_RE.test(name)) {
    throw new InvalidArgument(`${what} "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
  }
  return name;
}

export class VolumeStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'volumes');
    this.poolsDir = join(root, 'volume-pools');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // after a reboot the pools' images are there and their mounts are not; one that will not mount
    // is said and left (its volumes fail when used, naming the mount), the engine still opens
    if (existsSync(this.poolsDir)) {
      for (const pool of readdirSync(this.poolsDir)) {
        if (!existsSync(this.poolFs(pool).image)) continue;
        try {
          mountLayerFs(this.poolFs(pool));
        } catch (e) {
          console.error(`glassbox: volume pool ${pool}: ${(e as Error).message}`);
        }
      }
    }
  }

  private readonly poolsDir: string;

  private poolFs(pool: string, size = 0): LayerFs {
    return { size, image: join(this.poolsDir, pool, 'pool.img'), mountPoint: join(this.poolsDir, pool, 'fs') };
  }

  /** The pool's filesystem, made (size bytes) if it is not there yet; an existing pool keeps its size. */
  private openPool(pool: VolumePool): string {
    validateVolumeName(pool.name, 'volume pool name');
    const fs = this.poolFs(pool.name, pool.size);
    if (existsSync(fs.image)) {
      mountLayerFs(fs);
      return fs.mountPoint;
    }
    if (!Number.isSafeInteger(pool.size) || pool.size < 1024 * 1024) throw new InvalidArgument(`volume pool ${pool.name}: want a size of at least 1 MiB (got ${pool.size})`);
    mkdirSync(this.poolsDir, { recursive: true, mode: 0o700 });
    createSizedFs(join(this.poolsDir, pool.name), fs, `a volume pool of ${pool.size} bytes`);
    // mkfs's lost+found is root's, not a volume's; the root stays 0700 (volumes are its children)
    rmSync(join(fs.mountPoint, 'lost+found'), { recursive: true, force: true });
    chmodSync(fs.mountPoint, 0o711);
    return fs.mountPoint;
  }

  /** A pool with no volume left goes: unmounted, its loop device detached, its image deleted. */
  private closePoolIfEmpty(pool: string): void {
    if (this.list().some((v) => v.pool === pool)) return;
    removeLayerFs(this.poolFs(pool));
    rmSync(join(this.poolsDir, pool), { recursive: true, force: true });
  }

  private metaPath(name: string): string {
    return join(this.dir, name, 'volume.json');
  }

  dataDir(name: string): string {
    return join(this.dir, name, '_data');
  }

  /**
   * docker volume create. An existing volume of that name is returned as it is (Docker does the
   * same: `-v data:/x` in two containers names one volume), unless the request asks for another
   * driver or other options.
   */
  create(req: VolumeCreateRequest, opts: { anonymous?: boolean } = {}): { volume: VolumeRecord; created: boolean } {
    const driver = req.driver || 'local';
    if (driver !== 'local') throw new InvalidArgument(`volume driver "${driver}" is not available: only "local" is`);
    for (const key of Object.keys(req.options ?? {})) {
      // type=tmpfs/nfs, device=, o=: the local driver mounts them with mount(8) on the host. A
      // device= names any host block device or path, so this engine refuses them all by name.
      throw new InvalidArgument(`volume option "${key}" is not supported: the local driver here keeps plain directories (use --mount type=tmpfs for a tmpfs)`);
    }
    const labels = req.labels ?? {};
    for (const [k, v] of Object.entries(labels)) if (k.includes('\0') || v.includes('\0')) throw new InvalidArgument('volume labels must not contain a NUL byte');
    const name = req.name ? validateVolumeName(req.name) : randomBytes(32).toString('hex');
    const existing = this.find(name);
    if (existing) return { volume: existing, created: false };
    const pool = req.pool ? this.openPool(req.pool) : null;
    const volume: VolumeRecord = {
      name,
      driver: 'local',
      mountpoint: pool ? join(pool, name) : this.dataDir(name),
      createdAt: new Date().toISOString(),
      labels: opts.anonymous ? { ...labels, [ANONYMOUS_LABEL]: '' } : labels,
      options: {},
      scope: 'local',
      anonymous: opts.anonymous === true,
      ...(req.pool ? { pool: req.pool.name } : {}),
    };
    mkdirSync(join(this.dir, name), { mode: 0o701 });
    // 0755 root:root like Docker's; a user-namespaced container sees it through an idmapped mount
    mkdirSync(volume.mountpoint, { mode: 0o755 });
    chmodSync(volume.mountpoint, 0o755);
    writeJsonAtomic(this.metaPath(name), volume);
    return { volume, created: true };
  }

  find(name: string): VolumeRecord | null {
    if (!NAME_RE.test(name)) return null;
    return readJson<VolumeRecord>(this.metaPath(name));
  }

  get(name: string): VolumeRecord {
    const v = this.find(name);
    if (!v) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  list(): VolumeRecord[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((n) => this.find(n))
      .filter((v): v is VolumeRecord => v !== null)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The caller checked that no container uses it (or was told to force). */
  remove(name: string): void {
    const v = this.get(name);
    if (v.pool) rmSync(v.mountpoint, { recursive: true, force: true });
    rmSync(join(this.dir, name), { recursive: true, force: true });
    if (v.pool) this.closePoolIfEmpty(v.pool);
  }

  /** Bytes in the volume's files (docker system df -v's Size), counting a hardlinked file once. */
  size(name: string): number {
    const seen = new Set<string>();
    const walk = (dir: string): number => {
      let total = 0;
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        const st = lstatSync(p);
        if (st.isDirectory()) total += walk(p);
        else if (!seen.has(`${st.dev}:${st.ino}`)) {
          seen.add(`${st.dev}:${st.ino}`);
          total += st.size;
        }
      }
      return total;
    };
    try {
      return walk(this.get(name).mountpoint);
    } catch {
      return 0;
    }
  }

  isEmpty(name: string): boolean {
    return readdirSync(this.get(name).mountpoint).length === 0;
  }
}

/** Conflict for a volume some containers still use, naming them, as Docker says it. */
export function volumeInUse(name: string, containerIds: string[]): Conflict {
  return new Conflict(`remove ${name}: volume is in use - [${containerIds.join(', ')}]`);
}
