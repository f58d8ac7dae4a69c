// A small parser of `docker run …` lines: the dashboard's form accepts a pasted command and fills
// itself from it. It knows the flags a lesson uses; anything else is reported, not guessed.
import type { ContainerConfig, Namespace } from '../../server/engine/types';

export interface ParsedRun {
  config: ContainerConfig;
  /** -d, -i, -t and --rm as given */
  detach: boolean;
  warnings: string[];
  /** the flags this parser does not know, as written ("--gpus", "-P"): left out, the rest filled in */
  ignored: string[];
}

/** Split a shell command line into words: quotes, backslashes, line continuations. No expansion. */
export function shellSplit(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const s = line.replace(/\\\r?\n/g, ' ');
  while (i < s.length) {
    const c = s[i];
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new Error('unterminated single quote');
      cur += s.slice(i + 1, j);
      inWord = true;
      i = j + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= s.length) throw new Error('unterminated double quote');
        const d = s[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) {
          cur += s[i + 1];
          i += 2;
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 < s.length) cur += s[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Docker's sizes: 512, 512b, 64k, 256m, 1g (binary units). */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size: ${v}`);
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2].toLowerCase()]);
}

type Kind = 'bool' | 'value';
const FLAGS: Record<string, { kind: Kind; key: string }> = {};
const def = (names: string[], kind: Kind, key: string) => names.forEach((n) => (FLAGS[n] = { kind, key }));
def(['-d', '--detach'], 'bool', 'detach');
def(['-i', '--interactive'], 'bool', 'interactive');
def(['-t', '--tty'], 'bool', 'tty');
def(['--rm'], 'bool', 'rm');
def(['--init'], 'bool', 'init');
def(['--read-only'], 'bool', 'readOnly');
def(['--privileged'], 'bool', 'privileged');
def(['--name'], 'value', 'name');
def(['-h', '--hostname'], 'value', 'hostname');
def(['-e', '--env'], 'value', 'env');
def(['-w', '--workdir'], 'value', 'workdir');
def(['-u', '--user'], 'value', 'user');
def(['--entrypoint'], 'value', 'entrypoint');
def(['-m', '--memory'], 'value', 'memory');
def(['--memory-swap'], 'value', 'memorySwap');
def(['--cpus'], 'value', 'cpus');
def(['-c', '--cpu-shares'], 'value', 'cpuShares');
def(['--cpu-period'], 'value', 'cpuPeriod');
def(['--pids-limit'], 'value', 'pids');
def(['--network', '--net'], 'value', 'network');
def(['--pid'], 'value', 'ns:pid');
def(['--ipc'], 'value', 'ns:ipc');
def(['--uts'], 'value', 'ns:uts');
def(['--userns'], 'value', 'ns:user');
def(['--cgroupns'], 'value', 'ns:cgroup');
def(['--cap-add'], 'value', 'capAdd');
def(['--cap-drop'], 'value', 'capDrop');
def(['--security-opt'], 'value', 'securityOpt');
def(['-p', '--publish'], 'value', 'publish');
def(['-v', '--volume'], 'value', 'volume');
def(['--tmpfs'], 'value', 'tmpfs');
def(['--restart'], 'value', 'restart');
def(['-l', '--label'], 'value', 'label');
def(['--runtime'], 'value', 'runtime');

// docker run's own flags that this parser has no use for, with whether each takes a value: an
// unknown flag is skipped (and named) instead of rejecting the whole line, and knowing that
// `--add-host x:1.2.3.4` takes a value keeps the value from being read as the image.
const DOCKER_VALUE_FLAGS = new Set([
  '-a', '--attach', '--add-host', '--annotation', '--blkio-weight', '--blkio-weight-device', '--cgroup-parent', '--cidfile',
  '--cpu-count', '--cpu-percent', '--cpu-quota', '--cpu-rt-period', '--cpu-rt-runtime', '--cpuset-cpus', '--cpuset-mems',
  '--detach-keys', '--device', '--device-cgroup-rule', '--device-read-bps', '--device-read-iops', '--device-write-bps',
  '--device-write-iops', '--dns', '--dns-option', '--dns-opt', '--dns-search', '--domainname', '--env-file', '--expose', '--gpus',
  '--group-add', '--health-cmd', '--health-interval', '--health-retries', '--health-start-interval', '--health-start-period',
  '--health-timeout', '--io-maxbandwidth', '--io-maxiops', '--ip', '--ip6', '--isolation', '--kernel-memory', '--label-file',
  '--link', '--link-local-ip', '--log-driver', '--log-opt', '--mac-address', '--memory-reservation', '--memory-swappiness',
  '--mount', '--network-alias', '--net-alias', '--oom-score-adj', '--platform', '--pull', '--shm-size', '--stop-signal',
  '--stop-timeout', '--storage-opt', '--sysctl', '--ulimit', '--volume-driver', '--volumes-from',
]);

function parsePublish(v: string): NonNullable<ContainerConfig['ports']>[number] {
  const [spec, proto = 'tcp'] = v.split('/');
  if (proto !== 'tcp' && proto !== 'udp') throw new Error(`invalid protocol in -p ${v}`);
  const parts = spec.split(':');
  let hostIp: string | undefined;
  let hostPort = 0;
  let containerPort: number;
  if (parts.length === 1) containerPort = Number(parts[0]);
  else if (parts.length === 2) {
    hostPort = parts[0] === '' ? 0 : Number(parts[0]);
    containerPort = Number(parts[1]);
  } else {
    hostIp = parts.slice(0, -2).join(':') || undefined;
    hostPort = parts[parts.length - 2] === '' ? 0 : Number(parts[parts.length - 2]);
    containerPort = Number(parts[parts.length - 1]);
  }
  if (!Number.isInteger(hostPort) || !Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535 || hostPort < 0 || hostPort > 65535) {
    throw new Error(`invalid port mapping: ${v}`);
  }
  return { ...(hostIp ? { hostIp } : {}), hostPort, containerPort, protocol: proto };
}

/** Parse `docker run [OPTIONS] IMAGE [COMMAND] [ARG...]` (also `docker container run`, or just the options). */
export function parseDockerRun(line: string): ParsedRun {
  const words = shellSplit(line.trim());
  let i = 0;
  if (words[i] === 'sudo') i++;
  if (words[i] === 'docker' || words[i] === 'podman') i++;
  if (words[i] === 'container') i++;
  if (words[i] === 'run' || words[i] === 'create') i++;

  const config: ContainerConfig = { image: '' };
  const warnings: string[] = [];
  const ignored: string[] = [];
  const flags: Record<string, boolean> = {};
  const namespaces: Partial<Record<Namespace, boolean>> = {};
  const limits: NonNullable<ContainerConfig['limits']> = {};

  const apply = (key: string, v: string) => {
    switch (key) {
      case 'name':
        config.name = v;
        break;
      case 'hostname':
        config.hostname = v;
        break;
      case 'env':
        (config.env ??= []).push(v);
        break;
      case 'workdir':
        config.workingDir = v;
        break;
      case 'user':
        config.user = v;
        break;
      case 'entrypoint':
        config.entrypoint = v === '' ? [] : shellSplit(v);
        break;
      case 'memory':
        limits.memory = parseSize(v);
        break;
      case 'memorySwap':
        limits.memorySwap = v === '-1' ? -1 : parseSize(v);
        break;
      case 'cpus': {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new Error(`invalid --cpus: ${v}`);
        limits.cpus = n === 0 ? null : n;
        break;
      }
      case 'cpuShares':
        limits.cpuShares = Number(v);
        if (!Number.isInteger(limits.cpuShares)) throw new Error(`invalid --cpu-shares: ${v}`);
        break;
      case 'cpuPeriod':
        limits.cpuPeriod = Number(v);
        break;
      case 'pids': {
        const n = Number(v);
        if (!Number.isInteger(n)) throw new Error(`invalid --pids-limit: ${v}`);
        limits.pids = n <= 0 ? null : n;
        break;
      }
      case 'network':
        config.network = v;
        break;
      case 'capAdd':
        (config.capAdd ??= []).push(v.toUpperCase().replace(/^CAP_/, ''));
        break;
      case 'capDrop':
        (config.capDrop ??= []).push(v.toUpperCase().replace(/^CAP_/, ''));
        break;
      case 'securityOpt':
        if (v === 'no-new-privileges' || v === 'no-new-privileges:true' || v === 'no-new-privileges=true') config.noNewPrivileges = true;
        else if (v === 'seccomp=unconfined' || v === 'seccomp:unconfined') config.seccomp = 'unconfined';
        else warnings.push(`--security-opt ${v} is not supported; ignored`);
        break;
      case 'publish':
        (config.ports ??= []).push(parsePublish(v));
        break;
      case 'volume': {
        const parts = v.split(':');
        if (parts.length < 2 || !parts[0].startsWith('/')) {
          warnings.push(`-v ${v}: only bind mounts of absolute host paths are supported; ignored`);
          break;
        }
        (config.mounts ??= []).push({ type: 'bind', source: parts[0], target: parts[1], ...(parts[2]?.split(',').includes('ro') ? { readOnly: true } : {}) });
        break;
      }
      case 'tmpfs':
        (config.mounts ??= []).push({ type: 'tmpfs', target: v.split(':')[0] });
        break;
      case 'restart': {
        const [name, count] = v.split(':');
        if (!['no', 'on-failure', 'always', 'unless-stopped'].includes(name)) throw new Error(`invalid --restart: ${v}`);
        config.restartPolicy = { name: name as 'no', ...(count ? { maximumRetryCount: Number(count) } : {}) };
        break;
      }
      case 'label': {
        const j = v.indexOf('=');
        (config.labels ??= {})[j < 0 ? v : v.slice(0, j)] = j < 0 ? '' : v.slice(j + 1);
        break;
      }
      case 'runtime':
        if (v !== 'builtin' && v !== 'runc' && v !== 'crun') throw new Error(`unknown runtime: ${v}`);
        config.runtime = v;
        break;
      default:
        if (key.startsWith('ns:')) {
          const ns = key.slice(3) as Namespace;
          if (v === 'host') namespaces[ns] = false;
          else if (v === 'private' || (ns === 'ipc' && (v === 'shareable' || v === 'none'))) namespaces[ns] = true;
          else if (v.startsWith('container:')) (config.shareNamespaces ??= {})[ns] = v;
          else throw new Error(`invalid --${ns === 'user' ? 'userns' : ns === 'cgroup' ? 'cgroupns' : ns}: ${v}`);
        }
    }
  };

  while (i < words.length) {
    const w = words[i];
    if (w === '--') {
      i++;
      break;
    }
    if (!w.startsWith('-') || w === '-') break;
    let name = w;
    let inline: string | undefined;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      if (eq > 0) {
        name = w.slice(0, eq);
        inline = w.slice(eq + 1);
      }
    } else if (w.length > 2) {
      // -it, -dit, -p8080:80, -m512m
      const first = FLAGS[w.slice(0, 2)];
      if (first?.kind === 'value') {
        name = w.slice(0, 2);
        inline = w.slice(2).replace(/^=/, '');
      } else {
        const letters = w.slice(1).split('');
        if (letters.every((l) => FLAGS['-' + l]?.kind === 'bool' || (!FLAGS['-' + l] && !DOCKER_VALUE_FLAGS.has('-' + l)))) {
          // -itP: the known letters count, the others are named
          for (const l of letters) {
            if (FLAGS['-' + l]) flags[FLAGS['-' + l].key] = true;
            else ignored.push('-' + l);
          }
          i++;
          continue;
        }
        if (DOCKER_VALUE_FLAGS.has(w.slice(0, 2))) {
          // -aSTDOUT: a value glued to an unknown short flag
          ignored.push(w.slice(0, 2));
          i++;
          continue;
        }
        throw new Error(`unknown flag: ${w}`);
      }
    }
    const f = FLAGS[name];
    if (!f) {
      // skip it (and its value when docker's flag takes one); the rest of the line still counts
      ignored.push(name);
      if (inline === undefined && DOCKER_VALUE_FLAGS.has(name)) {
        if (i + 1 >= words.length) throw new Error(`flag needs a value: ${name}`);
        i++;
      }
      i++;
      continue;
    }
    if (f.kind === 'bool') {
      flags[f.key] = inline === undefined ? true : inline !== 'false';
      i++;
      continue;
    }
    let v = inline;
    if (v === undefined) {
      if (i + 1 >= words.length) throw new Error(`flag needs a value: ${name}`);
      v = words[++i];
    }
    apply(f.key, v);
    i++;
  }

  if (i >= words.length) throw new Error('no image given');
  config.image = words[i++];
  const rest = words.slice(i);
  if (rest.length) config.cmd = rest;

  if (flags.tty) config.tty = true;
  if (flags.interactive) config.openStdin = true;
  if (flags.rm) config.autoRemove = true;
  if (flags.init) config.init = true;
  if (flags.readOnly) config.readOnlyRoot = true;
  if (flags.privileged) config.privileged = true;
  if (Object.keys(namespaces).length) config.namespaces = namespaces;
  if (Object.keys(limits).length) config.limits = limits;
  if (ignored.length) warnings.push(`ignored: ${[...new Set(ignored)].join(', ')}`);
  return { config, detach: !!flags.detach, warnings, ignored: [...new Set(ignored)] };
}
