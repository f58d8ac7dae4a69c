// The one description of what a user may ask for when creating a container. The engine validates
// every request with it (validate.ts adds the checks that need the host: CPU count, runtimes, and
// the combinations), `ContainerConfig` is its inferred type, and the REST body is this schema plus
// the two REST-only switches. The Docker API translates Docker's wire format into it
// (api/docker/create-config.ts). Bounds are here once, so every path agrees on them.
import { z } from 'zod';
import { MAX_NAME_LENGTH } from '../../../common/container-name.js';
import { NAMESPACES, type Namespace } from '../../../common/namespaces.js';

const noNul = (what: string) => z.string().refine((s) => !s.includes('\0'), `${what} must not contain a NUL byte`);

const idMapping = z
  .object({
    containerId: z.number().int().min(0).max(2 ** 32 - 2),
    hostId: z.number().int().min(0).max(2 ** 32 - 2),
    size: z.number().int().min(1).max(2 ** 32 - 1),
  })
  .strict();

const ioThrottle = z
  .object({
    major: z.number().int().min(0),
    minor: z.number().int().min(0),
    readBps: z.number().int().min(0).optional(),
    writeBps: z.number().int().min(0).optional(),
    readIops: z.number().int().min(0).optional(),
    writeIops: z.number().int().min(0).optional(),
  })
  .strict();

/** Resource limits, at create and at update; null = no limit. Ranges that depend on the host are in validate.ts. */
export const limitsSchema = z
  .object({
    /** bytes */
    memory: z.number().int().nullable().optional(),
    /** memory + swap in bytes (Docker's --memory-swap); -1 = unlimited swap; null = Docker's default (2x memory) */
    memorySwap: z.number().int().nullable().optional(),
    /** fraction of CPUs (Docker's --cpus) */
    cpus: z.number().nullable().optional(),
    /** period in microseconds for the quota; default 100000 */
    cpuPeriod: z.number().int().min(1000, 'cpu period must be between 1ms and 1s').max(1_000_000, 'cpu period must be between 1ms and 1s').optional(),
    /** Docker's --cpu-shares (2..262144); null = default (1024 / weight 100) */
    cpuShares: z.number().int().nullable().optional(),
    /** pids.max */
    pids: z.number().int().nullable().optional(),
    /** per-device throttles */
    io: z.array(ioThrottle).max(64).optional(),
    /** Docker's --cpuset-cpus / --cpuset-mems: "0-2,4" */
    cpusetCpus: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'cpuset-cpus is a list like 0-2,4').nullable().optional(),
    cpusetMems: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'cpuset-mems is a list like 0-1').nullable().optional(),
    /** bytes: the soft limit the kernel reclaims down to under pressure (memory.low on v2, soft_limit_in_bytes on v1) */
    memoryReservation: z.number().int().nullable().optional(),
    /** 0..100, cgroup v1 only */
    memorySwappiness: z.number().int().min(0, 'memory-swappiness is between 0 and 100').max(100, 'memory-swappiness is between 0 and 100').nullable().optional(),
    /** cgroup v1 only */
    oomKillDisable: z.boolean().optional(),
    /** Docker's --blkio-weight: 10..1000 */
    blkioWeight: z.number().int().min(10, 'blkio-weight is between 10 and 1000').max(1000, 'blkio-weight is between 10 and 1000').nullable().optional(),
  })
  .strict();

export const restartPolicySchema = z
  .object({ name: z.enum(['no', 'on-failure', 'always', 'unless-stopped']), maximumRetryCount: z.number().int().min(0).optional() })
  .strict();

/**
 * One extra mount, Docker's -v / --tmpfs / --mount: a host path (bind), a tmpfs (without size it
 * gets the daemon's default-tmpfs-size) or a volume (source = its name; none: a new anonymous one).
 */
export const mountSchema = z
  .object({
    type: z.enum(['bind', 'tmpfs', 'volume']),
    source: z.string().optional(),
    target: z.string(),
    readOnly: z.boolean().optional(),
    /** tmpfs: bytes */
    size: z.number().int().optional(),
    /** tmpfs: octal mode, e.g. 0o1777 */
    mode: z.number().int().optional(),
    /** volume: do not seed a new (empty) volume with the image's files at the target (volume-nocopy) */
    noCopy: z.boolean().optional(),
  })
  .strict();

/** Docker's --log-driver / --log-opt (json-file, local, none); unset: the daemon's. */
export const logConfigSchema = z.object({ driver: z.enum(['json-file', 'local', 'none']).optional(), options: z.record(z.string(), z.string()).optional() }).strict();

export const portSchema = z
  .object({
    hostIp: z.string().max(64).optional(),
    /** 0 = any free port */
    hostPort: z.number().int().min(0).max(65535),
    containerPort: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']),
  })
  .strict();

/** CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets in seconds: the only clocks a time namespace moves. */
const TEN_YEARS = 10 * 366 * 24 * 3600;
const clockOffset = z.number().int().min(-TEN_YEARS, 'a time offset is at most ten years').max(TEN_YEARS, 'a time offset is at most ten years');
export const timeOffsetsSchema = z.object({ monotonic: clockOffset, boottime: clockOffset }).strict();

const knownNamespace = (key: string): boolean => (NAMESPACES as readonly string[]).includes(key);
const unknownNamespace = (key: string) => `unknown namespace "${key}": known namespaces are ${NAMESPACES.join(', ')}`;

/** Keys are namespace names; a record of any other key is refused naming the key. */
function namespaceRecord<V extends z.ZodType>(value: V) {
  return z
    .record(z.string(), value)
    .superRefine((rec, ctx) => {
      for (const key of Object.keys(rec)) if (!knownNamespace(key)) ctx.addIssue({ code: 'custom', message: unknownNamespace(key), path: [key] });
    })
    .transform((rec) => rec as Partial<Record<Namespace, z.output<V>>>);
}

/** Docker's HEALTHCHECK and --health-*: durations in milliseconds; test ["NONE"] turns the image's off. */
export const healthcheckSchema = z
  .object({
    /** ["CMD", argv...] | ["CMD-SHELL", "command"] | ["NONE"] */
    test: z.array(noNul('health command')).min(1).max(4096),
    intervalMs: z.number().int().min(1, 'health interval must be at least 1ms').max(86_400_000).optional(),
    timeoutMs: z.number().int().min(1, 'health timeout must be at least 1ms').max(86_400_000).optional(),
    startPeriodMs: z.number().int().min(0).max(86_400_000).optional(),
    retries: z.number().int().min(0, 'health retries must not be negative').max(1000).optional(),
  })
  .strict();

/** A host device made inside the container (Docker's --device); the engine's allowlist decides which. */
export const deviceSchema = z
  .object({
    path: z.string().max(256),
    containerPath: z.string().max(256).optional(),
    /** cgroup access: any of r, w, m */
    permissions: z.string().regex(/^[rwm]{1,3}$/, 'device permissions are r, w and m').optional(),
  })
  .strict();

/** --ip, --network-alias, --mac-address on the container's network; --link. */
export const endpointSchema = z
  .object({
    ip: z.string().max(64).optional(),
    aliases: z.array(z.string().max(253)).max(64).optional(),
    macAddress: z.string().max(32).optional(),
    /** --link other[:alias]: the name in this container's hosts file */
    links: z.array(z.object({ container: z.string().max(MAX_NAME_LENGTH), alias: z.string().max(253) }).strict()).max(64).optional(),
  })
  .strict();

export const containerConfigSchema = z
  .object({
    name: z.string().optional(),
    image: z.string().min(1, 'an image is required').max(512),
    /** overrides the image's Entrypoint */
    entrypoint: z.array(noNul('entrypoint')).max(1024).optional(),
    /** overrides the image's Cmd */
    cmd: z.array(noNul('command')).max(4096).optional(),
    env: z.array(noNul('environment variable')).max(4096).optional(),
    workingDir: noNul('working directory').optional(),
    /** "uid[:gid]" or a name in the image's /etc/passwd */
    user: noNul('user').optional(),
    hostname: z.string().optional(),
    tty: z.boolean().optional(),
    /** keep stdin open for attach (docker -i) */
    openStdin: z.boolean().optional(),
    /** Docker's StdinOnce (docker run -i attached): the first attach's EOF closes init's stdin */
    stdinOnce: z.boolean().optional(),
    /** which namespaces to create; the rest are shared with the host */
    namespaces: namespaceRecord(z.boolean()).optional(),
    /** join another container's namespace instead of a new one: { net: "container:<id>" } or "host" */
    shareNamespaces: namespaceRecord(z.string()).optional(),
    uidMap: z.array(idMapping).max(340).optional(),
    gidMap: z.array(idMapping).max(340).optional(),
    /** seconds; given without namespaces.time, they turn the time namespace on */
    timeOffsets: timeOffsetsSchema.optional(),
    limits: limitsSchema.optional(),
    readOnlyRoot: z.boolean().optional(),
    privileged: z.boolean().optional(),
    capAdd: z.array(z.string().max(64)).max(64).optional(),
    capDrop: z.array(z.string().max(64)).max(64).optional(),
    noNewPrivileges: z.boolean().optional(),
    /** "default" (Docker's profile) | "unconfined" */
    seccomp: z.enum(['default', 'unconfined']).optional(),
    /** tiny init as PID 1 (reaps zombies, forwards signals) */
    init: z.boolean().optional(),
    /** pivot_root (default) or chroot, for the lesson on why chroot is weaker */
    rootMode: z.enum(['pivot', 'chroot']).optional(),
    restartPolicy: restartPolicySchema.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    /** network mode: none | host | bridge | <network name> | container:<id> */
    network: z.string().max(MAX_NAME_LENGTH).optional(),
    /** -p HOST:CONTAINER[/proto] */
    ports: z.array(portSchema).max(1024).optional(),
    mounts: z.array(mountSchema).max(256).optional(),
    /** Docker's --volumes-from: "container[:ro|:rw]", its volume and bind mounts at the same targets */
    volumesFrom: z.array(z.string().max(MAX_NAME_LENGTH + 3)).max(64).optional(),
    logConfig: logConfigSchema.optional(),
    /** /dev/shm size in bytes (Docker's --shm-size); unset: the daemon's default-shm-size */
    shmSize: z.number().int().optional(),
    /** Docker's --ulimit: prlimit(2) on init before it runs; -1 = unlimited */
    ulimits: z.array(z.object({ name: z.string(), soft: z.number().int(), hard: z.number().int() }).strict()).max(16).optional(),
    /** Docker's --storage-opt size=: bytes the container layer may hold, enforced by the kernel */
    storageSize: z.number().int().optional(),
    autoRemove: z.boolean().optional(),
    /** the signal `stop` sends first (Docker's --stop-signal; default the image's STOPSIGNAL, else SIGTERM) */
    stopSignal: z.string().max(32).optional(),
    /** seconds between that signal and SIGKILL (Docker's --stop-timeout; -1: wait for ever) */
    stopTimeout: z.number().int().min(-1).max(86_400).optional(),
    healthcheck: healthcheckSchema.optional(),
    /** supplementary groups (Docker's --group-add): names from the image's /etc/group, or numbers */
    groupAdd: z.array(z.string().max(64)).max(64).optional(),
    devices: z.array(deviceSchema).max(32).optional(),
    /** namespaced kernel parameters (Docker's --sysctl): net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* */
    sysctls: z.record(z.string().max(128), z.string().max(256)).optional(),
    /** --add-host name:ip lines in the container's /etc/hosts */
    extraHosts: z.array(z.object({ name: z.string().max(253), ip: z.string().max(64) }).strict()).max(256).optional(),
    /** --dns, --dns-search, --dns-option: the container's resolv.conf instead of the host's */
    dns: z.object({ servers: z.array(z.string().max(64)).max(3).optional(), search: z.array(z.string().max(253)).max(6).optional(), options: z.array(z.string().max(64)).max(16).optional() }).strict().optional(),
    endpoint: endpointSchema.optional(),
    /** one of the engine's runtimes (runtime/available.ts); any other name is refused */
    runtime: z.string().max(64).optional(),
  })
  .strict();

/** What a user asks for: the schema's output type. */
export type ContainerConfig = z.output<typeof containerConfigSchema>;
export type RestartPolicy = z.output<typeof restartPolicySchema>;
export type IdMapping = z.output<typeof idMapping>;
