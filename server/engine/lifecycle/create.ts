// create: validate, resolve the image, make the container's directories and its record.
// Nothing runs yet; `start` mounts, spawns and wires.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { newContainerId, randomName } from '../containers/names.js';
import { validateConfig } from '../containers/validate.js';
import { validateExtras } from '../containers/validate-extras.js';
import { applyDaemonDefaults } from '../config/apply-defaults.js';
import { prepareContainerLayer } from '../rootfs/overlay.js';
import { createLayerFs, removeLayerFs, storageUnsupportedReason } from '../rootfs/quota.js';
import { groupForRecord } from '../tenancy/tenant-groups.js';
import { Conflict, InvalidArgument, type ContainerConfig, type ContainerRecord, type ResourceLimits, type TimelineStep } from '../types.js';
import { mapsFor } from '../userns/ranges.js';
import { resolveVolumeMounts } from '../volumes/container-volumes.js';
import { containerEvent, type EngineContext } from './context.js';
import { checkRuntime } from './runtime-driver.js';

const DEFAULT_LIMITS: ResourceLimits = { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] };

export async function createContainer(ctx: EngineContext, input: ContainerConfig): Promise<ContainerRecord> {
  const t0 = performance.now();
  const timeline: TimelineStep[] = [];
  const step = (name: string, started: number, extra: Partial<TimelineStep> = {}) =>
    timeline.push({ step: name, by: 'engine', at: started - t0, ms: performance.now() - started, ...extra });

  let s = performance.now();
  const config = validateConfig(input);
  validateExtras(config, { cgroupVersion: ctx.cgroups.version });
  await checkRuntime(ctx, config); // known, available here (its own error if not), able to do it
  if (config.endpoint && ctx.network === null) throw new InvalidArgument('--ip, --network-alias, --mac-address and --link need networking: this engine runs without');
  step('validate', s, { detail: 'limits, names and namespaces checked before anything is made' });

  s = performance.now();
  const image = ctx.images.resolve(config.image);
  step('resolve-image', s, { detail: `${config.image} → ${image.id} (${image.layers.length} layer${image.layers.length === 1 ? '' : 's'})` });

  if (config.name && ctx.records.nameTaken(config.name)) {
    throw new Conflict(`Conflict. The container name "/${config.name}" is already in use by container "${ctx.records.find(config.name).id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
  checkShareTargets(ctx, config); // "container:x" must name an existing container, before anything is made
  groupForRecord({ config }); // an owner label must be usable as a cgroup name (learners/<owner>/)
  for (const spec of config.volumesFrom ?? []) {
    // a 400 naming the option: a 404 from create makes the docker CLI go and pull the image
    const name = spec.replace(/:(ro|rw)$/, '');
    if (!ctx.records.all().some((r) => r.id === name || r.name === name.replace(/^\//, '') || (name.length >= 4 && r.id.startsWith(name)))) {
      throw new InvalidArgument(`--volumes-from ${spec}: no such container: ${name}`);
    }
  }

  const imageConfig = (image.config.config ?? {}) as { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[]; WorkingDir?: string; User?: string; Volumes?: Record<string, unknown> | null };
  const entrypoint = config.entrypoint ?? imageConfig.Entrypoint ?? [];
  // Docker: a new entrypoint drops the image's Cmd unless a command is given too.
  const cmd = config.cmd ?? (config.entrypoint ? [] : (imageConfig.Cmd ?? []));
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new InvalidArgument('No command specified');

  const id = newContainerId();
  const name = config.name ?? randomName((n) => ctx.records.nameTaken(n));
  const dir = ctx.records.containerDir(id);
  // what the request left unset comes from the daemon configuration (config/daemon-config.ts)
  const applied = applyDaemonDefaults(config, { ...DEFAULT_LIMITS, ...(config.limits ?? {}), io: config.limits?.io ?? [] }, ctx.daemonConfig);
  const limits = applied.limits;
  const storageSize = applied.config.storageSize;
  const noStorage = storageSize !== undefined ? storageUnsupportedReason() : null;
  if (noStorage) throw new InvalidArgument(`--storage-opt size is not supported here: ${noStorage}`);

  // the volumes: one made here for this container is removed again if the create fails after all
  s = performance.now();
  const volumes = resolveVolumeMounts(ctx.volumes, ctx.records, applied.config, Object.keys(imageConfig.Volumes ?? {}));
  if (volumes.mounts.length) applied.config.mounts = volumes.mounts;
  if (volumes.made.length) step('volumes', s, { detail: `made ${volumes.made.length} volume${volumes.made.length === 1 ? '' : 's'} under ${ctx.volumes.dir}: outside the union, they outlive the container` });

  s = performance.now();
  mkdirSync(join(dir, 'bundle', 'rootfs'), { recursive: true, mode: 0o711 });
  // --storage-opt size: upper/ and work/ on a filesystem of that size (rootfs/quota.ts)
  let storage: ReturnType<typeof createLayerFs> | undefined;
  let usernsRec: ContainerRecord['userns'];
  const userns = config.namespaces?.user === true;
  try {
    storage = storageSize !== undefined ? createLayerFs(dir, storageSize) : undefined;
    if (userns) usernsRec = usernsFor(ctx, id, config);
  } catch (e) {
    // nothing is left of a create that failed
    for (const n of volumes.made) ctx.volumes.remove(n);
    if (storage) removeLayerFs(storage);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  if (storage) step('storage-quota', s, { file: storage.image, detail: `a ${storageSize}-byte ext4 image, loop-mounted on ${storage.mountPoint}: the container layer lives on it` });
  const layerDir = storage ? storage.mountPoint : dir;
  const hostRoot = usernsRec?.uidMap[0]?.hostId ?? 0;
  const hostGid = usernsRec?.gidMap[0]?.hostId ?? 0;
  prepareContainerLayer(layerDir, { uidShift: userns ? hostRoot : undefined, gidShift: userns ? hostGid : undefined, merged: join(dir, 'bundle', 'rootfs') });
  step('make-dirs', s, { file: dir, detail: 'bundle/rootfs (mount point), upper/ (the container layer), work/ (overlayfs scratch)' });
  if (usernsRec?.range) step('userns-range', s, { detail: `host uids ${usernsRec.range.uid}–${usernsRec.range.uid + usernsRec.range.size - 1} are this container's alone (leased in ${ctx.usernsRanges.leaseDir})` });

  const rec: ContainerRecord = {
    id,
    name,
    created: new Date().toISOString(),
    config: applied.config,
    image: { ref: config.image, id: image.id },
    path: argv[0],
    args: argv.slice(1),
    limits,
    logging: applied.logging,
    ...(storage ? { storage } : {}),
    state: {
      status: 'created',
      pid: 0,
      pidStartTime: null,
      monitorPid: 0,
      monitorStartTime: null,
      exitCode: 0,
      signal: null,
      oomKilled: false,
      error: '',
      startedAt: null,
      finishedAt: null,
      restartCount: 0,
    },
    timeline,
    paths: {
      bundle: join(dir, 'bundle'),
      rootfs: join(dir, 'bundle', 'rootfs'),
      upper: join(layerDir, 'upper'),
      work: join(layerDir, 'work'),
      lowers: image.layers.map((l) => l.dir),
      log: join(dir, 'container.log'),
      cgroups: {},
    },
    network: { mode: defaultNetworkMode(ctx, config) },
    ...(usernsRec ? { userns: usernsRec } : {}),
  };
  s = performance.now();
  try {
    ctx.records.save(rec);
  } catch (e) {
    for (const n of volumes.made) ctx.volumes.remove(n);
    throw e;
  }
  step('write-record', s, { file: join(dir, 'record.json') });
  ctx.emit(containerEvent('create', rec));
  return rec;
}

/**
 * The maps of a user-namespaced container: those the config gives (refused if they overlap a
 * range another container holds), else a range of its own from the host-wide pool.
 */
function usernsFor(ctx: EngineContext, id: string, config: ContainerConfig): NonNullable<ContainerRecord['userns']> {
  if (config.uidMap?.length || config.gidMap?.length) {
    for (const m of config.uidMap ?? []) {
      const holder = ctx.usernsRanges.holderOverlapping(m.hostId, m.size);
      if (holder) throw new Conflict(`uidMap: host uids ${m.hostId}–${m.hostId + m.size - 1} overlap the user namespace range of container ${holder.containerId.slice(0, 12)}: leave the map out to get a range of its own`);
    }
    const uidMap = config.uidMap ?? [{ containerId: 0, hostId: 100000, size: 65536 }];
    return { uidMap, gidMap: config.gidMap ?? uidMap };
  }
  const range = ctx.usernsRanges.allocate(id);
  return { ...mapsFor(range), range };
}

/** Docker's default is the bridge network; without networking, a lone loopback. */
function defaultNetworkMode(ctx: EngineContext, config: ContainerConfig): string {
  if (config.namespaces?.net === false || config.shareNamespaces?.net === 'host') return 'host';
  if (config.network) {
    if (!ctx.network && !['none', 'host'].includes(config.network) && !config.network.startsWith('container:')) {
      throw new InvalidArgument(`network "${config.network}" is not available: this engine runs without networking`);
    }
    return config.network === 'default' ? 'bridge' : config.network;
  }
  return ctx.network ? 'bridge' : 'none';
}

function checkShareTargets(ctx: EngineContext, config: ContainerConfig): void {
  for (const target of Object.values(config.shareNamespaces ?? {})) {
    if (target.startsWith('container:')) ctx.records.find(target.slice('container:'.length));
  }
  if (config.network?.startsWith('container:')) ctx.records.find(config.network.slice('container:'.length));
}
