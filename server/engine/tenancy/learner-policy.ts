// What a learner may ask of the engine. A class shares one host: a learner is a stranger to the
// teacher and to every other learner, so a learner's container is always a user-namespaced,
// unprivileged sandbox on networks of their own. The engine applies this to every request made on
// a learner's behalf (the dashboard, a lab), whatever the adapter; each refusal is one line that
// names the option, and nothing is made.
import { capabilityNumber, DOCKER_DEFAULT_CAPABILITIES } from '../runtime/capabilities.js';
import { EngineError, type ContainerConfig } from '../types.js';
import { parseSize } from '../util/size.js';
import { DEVICE_ALLOWLIST } from '../containers/validate-extras.js';

/**
 * A learner's container logs are kept to this (Docker's json-file never rotates unless asked, and
 * one `yes` would fill the host's disk): at most LOG_MAX_FILES files of LOG_MAX_SIZE.
 */
export const LOG_MAX_SIZE = '10m';
export const LOG_MAX_FILES = 2;

/** A request a learner may not make: the adapters answer 403 with the message. */
export class PermissionDenied extends EngineError {
  constructor(message: string) {
    super('permission-denied', message);
    this.name = 'PermissionDenied';
  }
}

export interface LearnerPolicy {
  /** the learner's id, [a-z0-9]{4,32}: labels, cgroup names, network names use it */
  learnerId: string;
  /** host ports the learner may publish (on 127.0.0.1 only), inclusive */
  ports: { from: number; to: number };
  /** how many containers the learner may have at once (running or not) */
  maxContainers: number;
  /**
   * bytes each container's writable layer may hold (its --storage-opt size, a filesystem of its
   * own): the learner's disk quota over their container count. Unset: no layer limit.
   */
  diskPerContainer?: number;
}

/** Labels that mark what a learner owns; a request cannot set them itself. */
export const OWNER_LABEL = 'glassbox.owner';
/**
 * The labels the lab runner puts on a lab session's containers (server/labs/sessions.ts): only the
 * runner sets them (LearnerEngine.createForLab), never a learner's request, or a learner could make
 * a container the runner would take for part of a session (someone else's, even).
 */
export const LAB_LABEL_PREFIX = 'glassbox.lab';

/** What a learner never gets, whatever they ask: NET_RAW lets one learner spoof packets to another. */
const LEARNER_CAPABILITIES: readonly string[] = DOCKER_DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW');

export interface LearnerContext {
  /** the names of the networks this learner owns */
  ownNetworks: ReadonlySet<string>;
  /** how many containers the learner has now */
  containers: number;
}

/** glassbox.lab, glassbox.lab.session, glassbox.lab.role … (and glassbox.labs, glassbox.lab-x: anything the runner could mistake) */
export function isLabLabel(key: string): boolean {
  return key.toLowerCase().startsWith(LAB_LABEL_PREFIX);
}

/** CHOWN, chown, CAP_CHOWN → CHOWN (how messages and capDrop name it) */
const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, '');

/**
 * The config a learner's request becomes, or a PermissionDenied naming the first option that is
 * not theirs to ask for. Returns a new object; the input is not changed.
 */
export function applyLearnerPolicy(config: ContainerConfig, policy: LearnerPolicy, ctx: LearnerContext): ContainerConfig {
  const deny = (what: string) => {
    throw new PermissionDenied(`${what}: not allowed in a learner's sandbox`);
  };
  if (ctx.containers >= policy.maxContainers) throw new PermissionDenied(`container quota reached: a learner may have at most ${policy.maxContainers} containers (remove one first)`);
  if (config.privileged) deny('--privileged');
  if (config.namespaces?.user === false) deny('--userns=host');
  for (const [ns, v] of Object.entries(config.shareNamespaces ?? {})) {
    if (v === 'host') deny(`the host ${ns} namespace`);
    if (v?.startsWith('container:')) deny(`joining another container's ${ns} namespace`);
  }
  for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'] as const) if (config.namespaces?.[ns] === false) deny(`the host ${ns} namespace`);
  if (config.uidMap || config.gidMap) deny('uid/gid maps (a learner gets a host uid range of their own)');
  if (config.runtime && config.runtime !== 'builtin') deny(`--runtime ${config.runtime}`);
  if (config.seccomp === 'unconfined') deny('seccomp=unconfined');
  if (config.rootMode === 'chroot') deny('chroot instead of pivot_root');
  for (const m of config.mounts ?? []) if (m.type === 'bind') deny(`bind mount of the host path ${m.source ?? ''}`);
  for (const c of config.capAdd ?? []) {
    const name = capName(c);
    if (name === 'ALL' || capabilityNumber(`CAP_${name}`) === undefined || !LEARNER_CAPABILITIES.includes(`CAP_${name}`)) deny(`--cap-add ${name}`);
  }
  const net = config.network ?? 'bridge';
  if (net === 'host') deny('--network host');
  if (net.startsWith('container:')) deny(`--network ${net}`);
  if (net !== 'none' && !ctx.ownNetworks.has(net)) deny(`--network ${net} (a learner's containers join only the learner's own networks)`);
  for (const p of config.ports ?? []) {
    if (p.hostIp && p.hostIp !== '127.0.0.1') deny(`publishing on ${p.hostIp} (only 127.0.0.1)`);
    if (p.hostPort === 0 || p.hostPort < policy.ports.from || p.hostPort > policy.ports.to) {
      deny(`publishing host port ${p.hostPort || '(any)'} (this learner's ports are ${policy.ports.from}-${policy.ports.to})`);
    }
  }
  denyHostWideOptions(config, deny);
  const labels = { ...(config.labels ?? {}) };
  if (Object.keys(labels).some((k) => k === OWNER_LABEL || k.startsWith(`${OWNER_LABEL}.`))) deny(`the label ${OWNER_LABEL}`);
  const lab = Object.keys(labels).find(isLabLabel);
  if (lab !== undefined) deny(`the label ${lab} (set by the lab runner only)`);
  labels[OWNER_LABEL] = policy.learnerId;
  const capDrop = [...new Set([...(config.capDrop ?? []).map(capName), 'NET_RAW'])];
  const logConfig = learnerLogConfig(config.logConfig, deny);
  const disk = policy.diskPerContainer;
  if (disk !== undefined && config.storageSize !== undefined && config.storageSize > disk) deny(`--storage-opt size=${config.storageSize} (at most ${disk} bytes per container in this class)`);
  return {
    ...config,
    ...(disk !== undefined ? { storageSize: config.storageSize ?? disk } : {}),
    namespaces: { ...(config.namespaces ?? {}), user: true },
    ports: (config.ports ?? []).map((p) => ({ ...p, hostIp: '127.0.0.1' })),
    capDrop,
    noNewPrivileges: true,
    labels,
    logConfig,
  };
}

/** The learner's log options, kept within LOG_MAX_FILES × LOG_MAX_SIZE (smaller asks are kept). */
function learnerLogConfig(asked: ContainerConfig['logConfig'], deny: (what: string) => never): NonNullable<ContainerConfig['logConfig']> {
  const driver = asked?.driver ?? 'json-file';
  if (driver === 'none') return { driver };
  const opts = { ...(asked?.options ?? {}) };
  const cap = parseSize(LOG_MAX_SIZE)!;
  const size = opts['max-size'] === undefined ? cap : parseSize(opts['max-size']);
  if (size !== null && size > cap) deny(`--log-opt max-size=${opts['max-size']} (at most ${LOG_MAX_SIZE})`);
  const files = opts['max-file'] === undefined ? LOG_MAX_FILES : Number(opts['max-file']);
  if (Number.isFinite(files) && files > LOG_MAX_FILES) deny(`--log-opt max-file=${opts['max-file']} (at most ${LOG_MAX_FILES})`);
  // a bad size or count is left for the engine's own check to name
  return { driver, options: { ...opts, 'max-size': opts['max-size'] ?? LOG_MAX_SIZE, 'max-file': opts['max-file'] ?? String(LOG_MAX_FILES) } };
}

/** The most a learner's healthcheck may ask of the host: one check a second. */
export const LEARNER_MIN_HEALTH_INTERVAL_MS = 1000;
/** A learner's `stop` waits at most this long before SIGKILL (the teacher's reset waits for it). */
export const LEARNER_MAX_STOP_TIMEOUT = 60;

/**
 * The options of issue #18 that reach past the learner's own sandbox. Allowed: their own groups,
 * cpuset (it only narrows their own CPUs), /etc/hosts and resolv.conf lines, addresses and aliases
 * on their own networks, net.* sysctls (their own network namespace), the allowlisted devices
 * (the ones every container has), a stop signal. Refused: what takes from the others' share (a
 * memory reservation protects pages from reclaim, an I/O weight above the default, OOM-kill
 * disabled holds memory the host may need), non-net sysctls, a healthcheck more often than once a
 * second, a stop that waits for ever.
 */
function denyHostWideOptions(config: ContainerConfig, deny: (what: string) => never): void {
  const l = config.limits ?? {};
  if (l.memoryReservation != null) deny('--memory-reservation');
  if (l.oomKillDisable) deny('--oom-kill-disable');
  if (l.blkioWeight != null && l.blkioWeight > 500) deny(`--blkio-weight ${l.blkioWeight} (at most the default, 500)`);
  for (const key of Object.keys(config.sysctls ?? {})) if (!key.startsWith('net.')) deny(`--sysctl ${key} (only net.* sysctls)`);
  for (const d of config.devices ?? []) if (!DEVICE_ALLOWLIST[d.path]) deny(`--device ${d.path}`);
  const h = config.healthcheck;
  if (h && h.test[0] !== 'NONE' && (h.intervalMs ?? 30_000) < LEARNER_MIN_HEALTH_INTERVAL_MS) deny(`--health-interval under ${LEARNER_MIN_HEALTH_INTERVAL_MS / 1000}s`);
  if (config.stopTimeout !== undefined && (config.stopTimeout < 0 || config.stopTimeout > LEARNER_MAX_STOP_TIMEOUT)) {
    deny(`--stop-timeout ${config.stopTimeout} (at most ${LEARNER_MAX_STOP_TIMEOUT} seconds)`);
  }
}
