// start: the pipeline that turns a record into a running container, one timeline step each.
//
//   1. the image's layers (idmapped, or shifted copies, with a user namespace)
//   2. the overlay mount
//   3. the cgroup and its limits
//   4. the plan → config.json + the helper spec (+ seccomp BPF)
//   5. the helper: clone with the namespaces, maps, cgroup join ... up to the create barrier
//   6. the network, wired while the namespaces exist and the command has not run yet
//   7. release: the command is exec'd
//
// Every step pushes a cleanup; a failure runs them in reverse, so a failed start leaves nothing.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachSession, connectMonitor } from '../containers/attach.js';
import { applySysctls } from './sysctls.js';
import { startHealthchecks } from './health.js';
import { resolveUser } from '../containers/users.js';
import type { NetPlan } from '../network/index.js';
import { isMounted, mountOverlay, unmountOverlay } from '../rootfs/overlay.js';
import { shiftedLayerDir } from '../rootfs/shift.js';
import { mountUsernsRootfs } from '../rootfs/userns-layers.js';
import { helperExecutable, HelperError, runHelper, type CreatedContainer } from '../runtime/builtin.js';
import { buildPlan } from '../runtime/build-plan.js';
import { groupForRecord } from '../tenancy/tenant-groups.js';
import { runSpec, shimSpec } from '../runtime/helper-spec.js';
import { ociConfig } from '../runtime/spec.js';
import { Conflict, InvalidArgument, type ContainerRecord, type TimelineStep } from '../types.js';
import { writeJsonAtomic } from '../util/fsx.js';
import { prepareVolumes } from '../volumes/container-volumes.js';
import { readStartTime } from '../util/proc.js';
import { containerEvent, type EngineContext, type Live } from './context.js';
import { type EtcFiles, hostnameOf, writeEtcFiles } from './etc-files.js';
import { onMonitorGone } from './exit.js';
import { isActive, transition } from './state.js';
import { driverCleanup, driverOf, launchContext } from './runtime-driver.js';

export function startContainer(ctx: EngineContext, idOrName: string): Promise<ContainerRecord> {
  const rec = ctx.records.find(idOrName);
  return ctx.withLock(rec.id, () => startLocked(ctx, rec.id, false));
}

/** Start under the container's lock. `isRestart`: the restart policy's start (a new timeline). */
export async function startLocked(ctx: EngineContext, id: string, isRestart: boolean): Promise<ContainerRecord> {
  const rec = ctx.records.find(id);
  if (isActive(rec.state.status)) return rec; // docker start on a running container is a no-op
  const t0 = performance.now();
  // A fresh start keeps the creation steps; a restart starts a new timeline.
  const timeline: TimelineStep[] = rec.state.startedAt || isRestart ? [] : [...rec.timeline];
  const shift = timeline.length ? timeline[timeline.length - 1].at + timeline[timeline.length - 1].ms : 0;
  const step = (name: string, started: number, extra: Partial<TimelineStep> = {}) =>
    timeline.push({ step: name, by: 'engine', at: shift + started - t0, ms: performance.now() - started, ...extra });
  const runDir = join(ctx.runRoot, id);
  const cleanups: (() => Promise<void> | void)[] = [];
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));

  try {
    const image = ctx.images.resolve(rec.image.id);
    const userns = rec.config.namespaces?.user === true;
    // records made before per-container ranges carry no userns: the old shared range
    const legacy = [{ containerId: 0, hostId: 100000, size: 65536 }];
    const uidMap = userns ? (rec.userns?.uidMap ?? rec.config.uidMap ?? legacy) : [];
    const gidMap = userns ? (rec.userns?.gidMap ?? rec.config.gidMap ?? legacy) : [];

    // 1 + 2. the image's layers under the container layer: an overlay mount. With a user
    // namespace the layers are seen through idmapped mounts (root inside owns its files), or,
    // where the kernel cannot, through copies shifted to the container's range.
    let s = performance.now();
    let lowers = image.layers.map((l) => l.dir);
    const overlay = { lowers, upper: rec.paths.upper, work: rec.paths.work, target: rec.paths.rootfs };
    if (!isMounted(rec.paths.rootfs)) {
      if (userns) {
        const shift = () => Promise.all(image.layers.map((l) => shiftedLayerDir(ctx.images, l.diffId, uidMap[0].hostId, gidMap[0].hostId)));
        const r = await mountUsernsRootfs({ ...overlay, containerDir: ctx.records.containerDir(id), uidMap, gidMap, prefer: ctx.usernsLayers }, shift);
        lowers = r.lowers;
        rec.userns = { ...(rec.userns ?? { uidMap, gidMap }), layers: r.mode };
        if (r.mode === 'idmapped') step('idmap-layers', s, { call: r.calls.join('; '), detail: `${image.layers.length} layer${image.layers.length === 1 ? '' : 's'} seen with uid/gid 0 → ${uidMap[0].hostId}: nothing copied` });
        else step('shift-layers', s, { detail: `layers copied once with uid/gid + ${uidMap[0].hostId} so root inside owns its files (idmapped mounts unavailable: ${r.fallbackReason})` });
        s = performance.now();
      } else mountOverlay(overlay);
    }
    cleanups.push(() => unmountOverlay(rec.paths.rootfs));
    step('mount-overlay', s, {
      call: `mount("overlay", "${rec.paths.rootfs}", "overlay", 0, "lowerdir=${[...lowers].reverse().join(':')},upperdir=${rec.paths.upper},workdir=${rec.paths.work}")`,
    });
    rec.paths.lowers = lowers;

    // 3. the cgroup and its limits. A learner's container goes under the learner's group,
    // learners/<lid>/, whose limits (the learner's quota) hold all their containers together.
    s = performance.now();
    const group = groupForRecord(rec);
    const writes = group ? await ctx.tenants.prepare(group) : [];
    writes.push(...(await ctx.cgroups.create(id, rec.limits, { group })));
    cleanups.push(async () => {
      await ctx.cgroups.killAll(id);
      await ctx.cgroups.remove(id);
    });
    step('cgroup-create', s, { detail: `${ctx.cgroups.version === 1 ? 'one directory per v1 hierarchy' : 'one v2 directory'}: ${ctx.names.cgroupParent}/${group ? `${group}/` : ''}${id.slice(0, 12)}…` });
    for (const w of writes) timeline.push({ step: 'cgroup-limit', by: 'engine', at: shift + performance.now() - t0, ms: w.ms, file: w.file, wrote: w.wrote });
    rec.paths.cgroups = ctx.cgroups.paths(id);

    // 4. the plan → config.json + helper spec (+ seccomp BPF)
    s = performance.now();
    const user = resolveUser(rec.paths.rootfs, rec.config.user ?? (image.config.config as { User?: string } | undefined)?.User, rec.config.groupAdd);
    let netPlan: NetPlan | null = null;
    let etc: EtcFiles;
    if (ctx.network) {
      s = performance.now();
      netPlan = await ctx.network.prepare(id, {
        mode: rec.network.mode,
        name: rec.name,
        hostname: hostnameOf(rec),
        ports: rec.config.ports,
        endpoint: rec.config.endpoint,
        extraHosts: rec.config.extraHosts,
        dns: rec.config.dns,
      });
      cleanups.push(() => ctx.network!.detach(id));
      etc = netPlan.files;
      step('network-plan', s, { detail: netPlan.ipAddress ? `${netPlan.networkName ?? 'bridge'}: ${netPlan.ipAddress}/${netPlan.prefixLen} via ${netPlan.gateway}` : `network mode ${netPlan.mode}` });
      rec.network = {
        mode: rec.network.mode,
        ipAddress: netPlan.ipAddress,
        gateway: netPlan.gateway,
        macAddress: netPlan.macAddress,
        networkId: netPlan.networkId,
        prefixLen: netPlan.prefixLen,
        ports: netPlan.ports,
      };
    } else {
      etc = writeEtcFiles(ctx, rec);
    }
    // volumes: seeded from the image while nothing runs, idmapped for a user namespace
    s = performance.now();
    const volumes = await prepareVolumes(ctx.volumes, rec, { containerDir: ctx.records.containerDir(id), userns: userns ? { uidMap, gidMap } : null });
    cleanups.push(() => volumes.release());
    for (const v of volumes.steps) step(v.step, s, { detail: v.detail, ...(v.call ? { call: v.call } : {}) });
    const plan = buildPlan({
      rec,
      image,
      user,
      uidMap,
      gidMap,
      runDir,
      cgroupProcs: ctx.cgroups.procsFiles(id),
      monitorCgroupProcs: ctx.cgroups.monitorProcsFiles(id),
      cgroupPaths: ctx.cgroups.paths(id),
      cgroupParent: ctx.names.cgroupParent,
      cgroupGroup: group,
      cgroupVersion: ctx.cgroups.version,
      etcFiles: etc,
      joinNamespaces: joinPaths(ctx, rec),
      volumeSources: volumes.sources,
    });
    // the runtime: builtin is the helper's own clone; the others run under the monitor's shim
    // (runtime/drivers/types.ts), from the same config.json, adjusted for them
    const driver = driverOf(rec);
    const lctx = launchContext(ctx, rec, plan);
    let config = ociConfig(plan);
    if (driver.adjustConfig) config = driver.adjustConfig(config, lctx);
    const shim = driver.launch === 'shim' ? driver.shimCommand!(lctx) : null;
    // the runtime applies --sysctl in the container's namespaces (the shim shares the host's IPC)
    if (shim && rec.config.sysctls && Object.keys(rec.config.sysctls).length) config.linux = { ...(config.linux as object), sysctl: rec.config.sysctls };
    writeJsonAtomic(join(rec.paths.bundle, 'config.json'), config);
    const specPath = join(runDir, 'helper.spec');
    writeFileSync(specPath, shim ? shimSpec(plan, shim, { createBarrier: true }) : runSpec(plan, { createBarrier: true }), { mode: 0o600 });
    if (shim) cleanups.push(() => driverCleanup(ctx, rec));
    step('write-config', s, {
      file: join(rec.paths.bundle, 'config.json'),
      detail: shim ? `OCI runtime spec for ${driver.name}; helper spec (shim: ${shim.argv.join(' ')}) at ${specPath}` : `OCI runtime spec; helper spec at ${specPath}`,
    });

    // 5. the helper: clone with the namespaces, maps, cgroup join ... up to the create barrier
    if (existsSync(join(runDir, 'exit.json'))) rmSync(join(runDir, 'exit.json'));
    let created: CreatedContainer;
    try {
      created = await runHelper(specPath, timeline, t0 - shift, helperExecutable(ctx.runRoot));
    } catch (e) {
      throw helperFailure(e);
    }
    cleanups.push(() => created.abort());
    volumes.release(); // the helper has made its binds: they hold the idmapped views on their own

    // 6. the network, wired while the namespaces exist and the command has not run yet
    if (ctx.network && netPlan) {
      s = performance.now();
      // a new network namespace made by the helper has lo up already (its child did it)
      const netSteps = await ctx.network.attach(id, created.pid, { loopbackUp: netPlan.newNetns });
      for (const n of netSteps) timeline.push({ step: n.step, by: 'engine', at: shift + n.started - t0, ms: n.ms, call: n.call, detail: n.detail });
      if (netSteps.length) step('network', s, { detail: `${netSteps.length} ip/iptables steps` });
    }

    // 6b. --sysctl, in the container's own net/IPC namespaces
    if (!shim && rec.config.sysctls && Object.keys(rec.config.sysctls).length) {
      for (const w of await applySysctls(created.pid, rec.config.sysctls)) timeline.push({ step: 'sysctl', by: 'engine', at: shift + performance.now() - t0, ms: w.ms, call: w.call });
    }

    // 7. release: the command is exec'd
    await connectPendingAttach(ctx, id, runDir);
    s = performance.now();
    try {
      await created.start();
    } catch (e) {
      throw helperFailure(e);
    }
    step('start', s, { detail: shim ? `released the create barrier: the shim exec'd ${driver.name}` : 'released the create barrier: the helper dropped privileges and called execve' });
    // the pid the host's kernel sees as the container's init (runc's init, gVisor's sandbox)
    let initPid = created.pid;
    if (shim) {
      s = performance.now();
      initPid = await driver.initPid(lctx, created.pid);
      step('runtime-init', s, { detail: initPid === created.pid ? `${driver.name} ran the container in its own process ${initPid}` : `${driver.name} state: the container's init is host pid ${initPid} (the runtime runs as ${created.pid})` });
    }

    transition(rec, 'running');
    rec.state = {
      ...rec.state,
      pid: initPid,
      pidStartTime: readStartTime(initPid),
      monitorPid: created.monitorPid,
      monitorStartTime: readStartTime(created.monitorPid),
      exitCode: 0,
      signal: null,
      oomKilled: false,
      error: '',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      restartCount: isRestart ? rec.state.restartCount + 1 : rec.state.restartCount,
    };
    rec.timeline = timeline;
    ctx.records.save(rec);
    const live: Live = { gone: created.exited, helper: created.process, stopRequested: false };
    ctx.live.set(id, live);
    void created.exited.then(() => onMonitorGone(ctx, id, created.monitorPid));
    ctx.emit(containerEvent(isRestart ? 'restart' : 'start', rec));
    startHealthchecks(ctx, rec);
    return rec;
  } catch (e) {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
    const execFailed = e instanceof HelperError && /execve|exec/.test(e.step);
    transition(rec, rec.state.startedAt || execFailed ? 'exited' : 'created');
    rec.state.error = (e as Error).message;
    if (execFailed) rec.state.exitCode = e.errno === 'ENOENT' ? 127 : 126;
    rec.timeline = timeline;
    ctx.records.save(rec);
    throw e;
  }
}

function helperFailure(e: unknown): Error {
  if (e instanceof HelperError && /exec/.test(e.step) && /ENOENT/.test(e.errno ?? e.message)) {
    return new InvalidArgument(`failed to create the container: exec: ${e.message}: executable file not found in $PATH`);
  }
  return e as Error;
}

/** The namespace files a container joins instead of making its own (`--pid container:x`, `--network container:x`). */
function joinPaths(ctx: EngineContext, rec: ContainerRecord): Record<string, string> {
  const out: Record<string, string> = {};
  const targets: [string, string][] = Object.entries(rec.config.shareNamespaces ?? {}).filter(([, v]) => v.startsWith('container:'));
  if (rec.config.network?.startsWith('container:')) targets.push(['net', rec.config.network]);
  for (const [ns, t] of targets) {
    const other = ctx.records.find(t.slice('container:'.length));
    if (!isActive(other.state.status)) {
      throw new Conflict(`cannot join the ${ns} namespace of container ${other.name}: it is not running`);
    }
    out[ns] = `/proc/${other.state.pid}/ns/${ns}`;
  }
  return out;
}

/** `docker attach` before `docker start`: the waiting clients are connected before init runs. */
async function connectPendingAttach(ctx: EngineContext, id: string, runDir: string): Promise<void> {
  const waiting = ctx.pendingAttach.get(id);
  if (!waiting?.length) return;
  ctx.pendingAttach.delete(id);
  for (const resolve of waiting) {
    try {
      resolve(attachSession(await connectMonitor(join(runDir, 'monitor.sock'))));
    } catch {
      /* the waiter's promise stays pending for the next start; it will be retried */
      ctx.pendingAttach.set(id, [...(ctx.pendingAttach.get(id) ?? []), resolve]);
    }
  }
}
