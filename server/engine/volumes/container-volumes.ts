// A container's volumes: which it gets at create, how they reach it at start.
//
//   create  -v name:/path and --mount type=volume name a volume (made if missing, as Docker does);
//           -v /path, and each VOLUME of the image not covered by a mount, get a new anonymous
//           one; --volumes-from copies another container's volume and bind mounts.
//   start   a volume that is still empty is seeded from the image's files at its target (Docker's
//           copy-up, unless volume-nocopy); the target is looked up *inside* the rootfs, so an image
//           whose VOLUME path is a symlink to /etc copies the container's /etc, never the host's.
//           With a user namespace the volume is seen through an idmapped mount (owner 0 on disk
//           is the container's root), attached only until the helper has bind-mounted it.
//
// The bind itself is the helper's: its destination is resolved inside the root (native/src/inroot.c).
import { closeSync, fstatSync, lchownSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MNT_DETACH, umount2 } from '../../../native/libc.js';
import type { RecordStore } from '../containers/record-store.js';
import { normalizeTarget } from '../containers/validate.js';
import { lookupInRoot } from '../rootfs/resolve.js';
import { copyShifted } from '../rootfs/shift.js';
import { OWNER_LABEL } from '../tenancy/learner-policy.js';
import { InvalidArgument, Unavailable, type ContainerConfig, type ContainerRecord, type IdMapping } from '../types.js';
import { mountIdmapped, sharedUserNamespaceFd } from '../userns/idmap.js';
import { randomBytes } from 'node:crypto';
import type { VolumeStore } from './store.js';

type Mount = NonNullable<ContainerConfig['mounts']>[number];

/** The names of the volumes a container's record mounts. */
export function volumeNames(rec: ContainerRecord): string[] {
  return (rec.config.mounts ?? []).filter((m) => m.type === 'volume' && m.source).map((m) => m.source!);
}

/** Ids of the containers (any state) whose record mounts the volume. */
export function containersUsing(records: RecordStore, name: string): string[] {
  return records
    .all()
    .filter((r) => volumeNames(r).includes(name))
    .map((r) => r.id);
}

function parseVolumesFrom(spec: string): { container: string; mode: 'ro' | 'rw' | null } {
  const i = spec.lastIndexOf(':');
  const mode = i > 0 ? spec.slice(i + 1) : null;
  if (mode !== null && mode !== 'ro' && mode !== 'rw') throw new InvalidArgument(`--volumes-from ${spec}: invalid mode "${mode}" (ro or rw)`);
  return { container: i > 0 ? spec.slice(0, i) : spec, mode: mode as 'ro' | 'rw' | null };
}

/**
 * The mounts a new container gets: its own, then those of --volumes-from, then a new anonymous
 * volume for each of the image's VOLUMEs that nothing else covers; every volume named, the
 * missing ones made (labelled with the container's owner, so a learner's stay theirs). `made`
 * lists the volumes made here, for the caller to remove if the create fails after all.
 */
export function resolveVolumeMounts(
  store: VolumeStore,
  records: RecordStore,
  config: ContainerConfig,
  imageVolumes: string[],
): { mounts: Mount[]; made: string[] } {
  const mounts: Mount[] = [...(config.mounts ?? [])];
  const taken = new Set(mounts.map((m) => normalizeTarget(m.target)));
  for (const spec of config.volumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    const other = records.find(container);
    for (const m of other.config.mounts ?? []) {
      if (m.type === 'tmpfs' || taken.has(normalizeTarget(m.target))) continue;
      taken.add(normalizeTarget(m.target));
      mounts.push({ ...m, readOnly: mode === null ? m.readOnly : mode === 'ro' });
    }
  }
  for (const target of imageVolumes) {
    if (!target.startsWith('/') || target.split('/').includes('..')) throw new InvalidArgument(`the image's VOLUME "${target}" is not an absolute path without ".."`);
    if (taken.has(normalizeTarget(target))) continue;
    taken.add(normalizeTarget(target));
    mounts.push({ type: 'volume', target: normalizeTarget(target) });
  }
  const owner = config.labels?.[OWNER_LABEL];
  const labels: Record<string, string> = owner ? { [OWNER_LABEL]: owner } : {};
  // a learner's container has a layer of a fixed size: the volumes made for it go to the learner's
  // pool, one filesystem of that size for all their volumes (made with the first)
  const pool = owner && config.storageSize ? { name: owner, size: config.storageSize } : undefined;
  const made: string[] = [];
  try {
    const out = mounts.map((m): Mount => {
      if (m.type !== 'volume') return m;
      if (m.source) {
        if (store.create({ name: m.source, labels, pool }).created) made.push(m.source);
        return m;
      }
      // an anonymous volume: a random name (a learner's prefixed with their id, as all their names)
      const name = (owner ? `${owner}-` : '') + randomBytes(32).toString('hex');
      store.create({ name, labels, pool }, { anonymous: true });
      made.push(name);
      return { ...m, source: name };
    });
    return { mounts: out, made };
  } catch (e) {
    for (const n of made) store.remove(n);
    throw e;
  }
}

export interface PreparedVolumes {
  /** volume name → the host directory the helper bind-mounts */
  sources: Record<string, string>;
  /** what start's timeline says about each */
  steps: { step: string; detail: string; call?: string }[];
  /** detach the idmapped views (the container's binds keep their own references) */
  release(): void;
}

/**
 * Seed each new volume from the image and, with a user namespace, attach its idmapped view. The
 * rootfs is mounted and nothing of the container runs yet: the files copied are the image's.
 */
export async function prepareVolumes(
  store: VolumeStore,
  rec: ContainerRecord,
  opts: { containerDir: string; userns: { uidMap: IdMapping[]; gidMap: IdMapping[] } | null },
): Promise<PreparedVolumes> {
  const sources: Record<string, string> = {};
  const steps: PreparedVolumes['steps'] = [];
  const views: string[] = [];
  const release = () => {
    for (const v of views.splice(0).reverse()) {
      try {
        umount2(v, MNT_DETACH);
      } catch {
        /* already gone */
      }
      rmSync(v, { recursive: true, force: true });
    }
  };
  const volumeMounts = (rec.config.mounts ?? []).filter((m) => m.type === 'volume' && m.source);
  if (!volumeMounts.length) return { sources, steps, release };
  const uidBase = opts.userns?.uidMap[0]?.hostId ?? 0;
  const gidBase = opts.userns?.gidMap[0]?.hostId ?? 0;
  try {
    for (const m of volumeMounts) {
      const name = m.source!;
      const vol = store.get(name);
      if (!m.noCopy && store.isEmpty(name)) {
        const copied = seedFromRootfs(rec.paths.rootfs, m.target, vol.mountpoint, -uidBase, -gidBase);
        if (copied) steps.push({ step: 'volume-copy-up', detail: `volume ${shortName(name)} was empty: the image's ${m.target} copied into it` });
      }
      sources[name] = vol.mountpoint;
      if (opts.userns) {
        const base = join(opts.containerDir, 'volume-views');
        // walkable (not listable) by the container's root, a host uid of its range: the helper binds from here as it
        mkdirSync(base, { recursive: true, mode: 0o711 });
        const view = join(base, String(views.length));
        mkdirSync(view, { mode: 0o711 });
        views.push(view);
        try {
          mountIdmapped(vol.mountpoint, view, await sharedUserNamespaceFd(opts.userns.uidMap, opts.userns.gidMap));
        } catch (e) {
          // no shifted-copy fallback as for layers: a volume is shared and written, a copy would fork it
          throw new Unavailable(`volume ${shortName(name)} cannot be given to a user-namespaced container here: its idmapped mount failed (${(e as Error).message}); idmapped mounts need Linux ≥ 5.12 and a filesystem that supports them under ${store.dir}`);
        }
        sources[name] = view;
        steps.push({
          step: 'volume-idmap',
          call: `open_tree("${vol.mountpoint}", OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount("${view}")`,
          detail: `volume ${shortName(name)} seen with uid/gid 0 → ${uidBase}: the container's root owns what root owns on disk`,
        });
      }
    }
  } catch (e) {
    release();
    throw e;
  }
  return { sources, steps, release };
}

const shortName = (name: string) => (/^[0-9a-f]{64}$/.test(name) ? name.slice(0, 12) : name);

/**
 * Docker's copy-up: the directory at `target` inside the rootfs (looked up inside it: every
 * symlink and ".." stays in the root) copied into the volume with owners moved by the deltas, and
 * the volume's root given the directory's owner and mode. False when there is no directory there.
 */
function seedFromRootfs(rootfs: string, target: string, data: string, uidDelta: number, gidDelta: number): boolean {
  const fd = lookupInRoot(rootfs, target, { directory: false });
  if (fd === null) return false;
  try {
    const st = fstatSync(fd);
    if (!st.isDirectory()) return false;
    // "/proc/self/fd/N" is the directory found inside the root; the walk below it never follows a symlink
    copyShifted(`/proc/self/fd/${fd}`, data, uidDelta, gidDelta);
    lchownSync(data, Math.max(0, st.uid + uidDelta), Math.max(0, st.gid + gidDelta));
    chmodSync(data, st.mode & 0o7777);
    return true;
  } finally {
    closeSync(fd);
  }
}
