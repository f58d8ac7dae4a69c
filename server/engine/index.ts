// The engine's public surface: the Engine class and its vocabulary.
export { Engine, type EngineOptions, parseSignal } from './engine.js';
export type * from './api.js';
export * from './types.js';
export type { CgroupStats, CgroupWrite } from './cgroups/types.js';
export type { LayerStatus, PullEvent, PullResult } from './images/pull.js';
export type { CommitOptions } from './images/commit.js';
export type { NetPlan, NetworkInfo, NetworkRecord, EndpointRecord, Attachment, LinkCounters, Topology, NetMode, PortBinding } from './network/index.js';
export { InspectHub } from './inspect/hub.js';
export { DIAGRAM_KINDS } from './inspect/types.js';
export type * from './inspect/types.js';
export { isActive, isAlive } from './lifecycle/state.js';
export { RUNTIMES } from './runtime/available.js';
export { NO_LSM_NOTE, PRIVILEGED_RISK, riskLines, SYS_ADMIN_RISK } from '../../common/privilege-risks.js';
export { MAX_NAME_LENGTH } from './containers/validate.js';
export { containerConfigSchema, limitsSchema, logConfigSchema, mountSchema, restartPolicySchema } from './containers/config-schema.js';
export { loadDaemonConfigOrExit, type DaemonConfig } from './config/daemon-config.js';
export { parseSize } from './util/size.js';
export { parseMountinfo, readMounts, type MountEntry } from './util/mountinfo.js';
