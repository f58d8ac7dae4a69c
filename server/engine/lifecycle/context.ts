// What the engine's verbs share: the stores, the drivers and what is known only in memory about
// running containers. The Engine class builds one and hands it to each verb's module; nothing
// outside server/engine/ sees it.
import type { SpawnedProcess } from '../util/spawner.js';
import type { Socket } from 'node:net';
import type { AttachSession, ExecOptions, ExecProcess } from '../api.js';
import type { CgroupDriver } from '../cgroups/types.js';
import type { RecordStore } from '../containers/record-store.js';
import type { ImageService } from '../images/service.js';
import type { ImageStore } from '../images/store.js';
import type { NetworkManager } from '../network/index.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { HostNames } from '../host/naming.js';
import type { ContainerRecord, EngineEvent } from '../types.js';
import type { UsernsRanges } from '../userns/ranges.js';
import type { TenantGroups } from '../tenancy/tenant-groups.js';
import type { VolumeStore } from '../volumes/store.js';

/** What the engine knows about a running container that is not on disk. */
export interface Live {
  /** resolves when the monitor has gone (exit.json written, or it died) */
  gone: Promise<void>;
  watcher?: Socket;
  /** the helper we spawned (not for adopted containers) */
  helper?: SpawnedProcess;
  stopRequested: boolean;
}

export interface ExecEntry {
  containerId: string;
  process: ExecProcess;
  exitCode: number | null;
  config: ExecOptions;
}

export interface EngineContext {
  readonly root: string;
  readonly runRoot: string;
  readonly images: ImageStore;
  readonly imageService: ImageService;
  readonly cgroups: CgroupDriver;
  /** null when the engine was opened without networking (every container then gets "none") */
  readonly network: NetworkManager | null;
  readonly records: RecordStore;
  /** named and anonymous volumes (volumes/store.ts) */
  readonly volumes: VolumeStore;
  /** defaults for what a request does not set (pids, log rotation, /dev/shm, tmpfs ...) */
  readonly daemonConfig: DaemonConfig;
  /** the names of this engine's host objects (bridge, chains, veths, cgroup parent) */
  readonly names: HostNames;
  /** host-wide leases of user namespace ranges */
  readonly usernsRanges: UsernsRanges;
  /** the learners' groups (learners/<lid>/) and the quotas they hold */
  readonly tenants: TenantGroups;
  /** 'shifted': copy layers even where idmapped mounts work (tests of the fallback) */
  readonly usernsLayers: 'idmapped' | 'shifted' | undefined;
  readonly live: Map<string, Live>;
  readonly pendingAttach: Map<string, ((s: AttachSession) => void)[]>;
  readonly restartTimers: Map<string, NodeJS.Timeout>;
  readonly execs: Map<string, ExecEntry>;
  /** true once close() was called: no more restarts, no more finalizing */
  isClosed(): boolean;
  /** the one way an event leaves the engine */
  emit(e: EngineEvent): void;
  onEvent(cb: (e: EngineEvent) => void): () => void;
  /** one operation at a time per container: start/stop/remove never interleave */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
}

type ContainerAction = Extract<EngineEvent, { type: 'container' }>['action'];

/** A container's event, as Docker's event stream names it. */
export function containerEvent(action: ContainerAction, rec: ContainerRecord, attributes?: Record<string, string>): EngineEvent {
  return { type: 'container', action, id: rec.id, name: rec.name, image: rec.image.ref, time: Date.now(), attributes };
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
