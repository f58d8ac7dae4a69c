// npm run validate:oci: the OCI runtime-tools validation suite against Glassbox's runtime CLI
// (bin/glassbox-runtime) and against runc, in one run, one program at a time, cleaning up after
// each (the programs leave processes, mounts and cgroups behind when a runtime fails them).
//
// The suite is built once from /work/shared/oci-runtime-tools (see its GLASSBOX-NOTES.md) with
// Debian's golang-go and golang-github-* packages, offline, into a cache directory.
//
//   flock /tmp/gb-test.lock npm run validate:oci [-- --only NAME,NAME] [--runtimes glassbox,runc]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(import.meta.url), '..', '..');
const SOURCES = process.env.GB_OCI_TOOLS_SRC ?? '/work/shared/oci-runtime-tools';
const CACHE = process.env.GB_OCI_TOOLS_CACHE ?? '/var/tmp/glassbox-oci-validation';
const COMMIT = '0105384';
const GLASSBOX_ROOT = '/run/glassbox-runtime';
const TIMEOUT_MS = 180_000;
/** each program's whole output, per runtime, for reading after the run */
const LOGS = join(CACHE, 'logs');
const runtimeName = (cmd: string) => Object.entries(RUNTIMES).find(([, c]) => c === cmd)?.[0] ?? 'runtime';

const RUNTIMES: Record<string, string> = {
  glassbox: join(repo, 'bin', 'glassbox-runtime'),
  runc: '/usr/sbin/runc',
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Build runtimetest and the 58 programs once; later runs find them in the cache. */
function buildSuite(): string {
  const tree = join(CACHE, 'gopath', 'src', 'github.com', 'opencontainers', 'runtime-tools');
  const stamp = join(CACHE, `built-${COMMIT}`);
  if (existsSync(stamp)) return tree;
  if (!existsSync('/usr/bin/go')) {
    throw new Error('go is not installed: apt-get install -y golang-go golang-github-opencontainers-runtime-tools-dev golang-github-google-uuid-dev (see GLASSBOX-NOTES.md)');
  }
  console.log(`building the validation suite into ${CACHE} (once) ...`);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(CACHE, 'gopath', 'src', 'github.com', 'mndrix'), { recursive: true });
  cpSync(SOURCES, tree, { recursive: true });
  cpSync(join(SOURCES, 'third_party', 'github.com', 'mndrix', 'tap-go'), join(CACHE, 'gopath', 'src', 'github.com', 'mndrix', 'tap-go'), { recursive: true });
  const env = { ...process.env, GOPATH: `${join(CACHE, 'gopath')}:/usr/share/gocode`, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: join(CACHE, 'gocache') };
  execFileSync('make', ['runtimetest', 'tool', `COMMIT=${COMMIT}`], { cwd: tree, env, stdio: 'inherit' });
  execFileSync('make', ['-k', '-j2', 'validation-executables', `COMMIT=${COMMIT}`], { cwd: tree, env, stdio: 'inherit' });
  writeFileSync(stamp, new Date().toISOString() + '\n');
  return tree;
}

interface Snapshot {
  pids: Set<number>;
  cgroups: Set<string>;
  containers: Set<string>;
}

const CGROUP_ROOT = '/sys/fs/cgroup';

function cgroupDirs(): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string, depth: number) => {
    out.add(dir);
    if (depth > 6) return;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(dir, e), depth + 1);
  };
  for (const h of readdirSync(CGROUP_ROOT)) {
    const p = join(CGROUP_ROOT, h);
    try {
      if (statSync(p).isDirectory()) walk(p, 0);
    } catch {
      /* a symlink to a hierarchy (cpu -> cpu,cpuacct) */
    }
  }
  return out;
}

function listPids(): Set<number> {
  return new Set(readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number));
}

function runcContainers(): Set<string> {
  try {
    return new Set(readdirSync('/run/runc'));
  } catch {
    return new Set();
  }
}

function glassboxContainers(): Set<string> {
  try {
    return new Set(readdirSync(GLASSBOX_ROOT));
  } catch {
    return new Set();
  }
}

function snapshot(): Snapshot {
  return { pids: listPids(), cgroups: cgroupDirs(), containers: new Set([...runcContainers(), ...glassboxContainers()].map(String)) };
}

/** What a program left behind: its containers, processes under its bundles, mounts, cgroups. */
function cleanUp(before: Snapshot, tmp: string): string[] {
  const notes: string[] = [];
  const runtimeDelete = (cmd: string, id: string) => {
    try {
      execFileSync(cmd, ['delete', '--force', id], { stdio: 'ignore', timeout: 20_000 });
    } catch {
      /* already gone */
    }
  };
  for (const id of runcContainers()) {
    if (before.containers.has(id)) continue;
    runtimeDelete('/usr/sbin/runc', id);
    notes.push(`runc container ${id}`);
  }
  for (const id of glassboxContainers()) {
    if (before.containers.has(id)) continue;
    runtimeDelete(RUNTIMES.glassbox, id);
    notes.push(`glassbox container ${id}`);
  }
  // processes that started during the program and still run with a root or cwd in its bundles
  for (const pid of listPids()) {
    if (before.pids.has(pid) || pid === process.pid) continue;
    let where = '';
    try {
      where = readlinkSync(`/proc/${pid}/root`) + ' ' + readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (where.includes(tmp)) {
      try {
        process.kill(pid, 'SIGKILL');
        notes.push(`process ${pid}`);
      } catch {
        /* gone */
      }
    }
  }
  // mounts under the program's TMPDIR, deepest first
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(tmp))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      notes.push(`mount ${m}`);
    } catch {
      /* already gone with its parent */
    }
  }
  // cgroups made during the program, deepest first (a cgroup whose processes died can be removed),
  // and only the programs' own: their cgroupsPath (/cgrouptest, testdir/...), runc's default
  // (/<uuid id>) and glassbox-runtime's, never another user's of this machine made meanwhile
  const ours = (d: string) => /\/(cgrouptest|testdir|glassbox-runtime|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\/|$)/.test(d);
  const fresh = [...cgroupDirs()].filter((d) => !before.cgroups.has(d) && ours(d)).sort((a, b) => b.length - a.length);
  for (const d of fresh) {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(d);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
        try {
          for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL');
        } catch {
          /* no procs file, or gone */
        }
        execFileSync('sleep', ['0.1']);
      }
    }
    notes.push(`cgroup ${d}`);
  }
  rmSync(tmp, { recursive: true, force: true });
  return notes;
}

interface Result {
  passed: boolean;
  ok: number;
  notOk: number;
  skip: number;
  failures: string[];
  leftovers: string[];
}

function runProgram(tree: string, name: string, runtime: string): Promise<Result> {
  const tmp = mkdtempSync('/tmp/gb-oci-validate-');
  const before = snapshot();
  return new Promise((done) => {
    const child = spawn(join(tree, 'validation', name, `${name}.t`), [], {
      cwd: tree,
      env: { ...process.env, RUNTIME: runtime, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\nnot ok - timed out after ${TIMEOUT_MS / 1000} s\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out.split('\n');
      const ok = lines.filter((l) => /^ok\b/.test(l));
      const notOk = lines.filter((l) => /^not ok\b/.test(l));
      const plan = lines.some((l) => /^1\.\.\d+/.test(l));
      // a program with no test points reports its verdict as a diagnostic: {"error": ...}
      const yamlErrors = ok.length + notOk.length === 0 ? lines.filter((l) => /^\s+"?error"?: /.test(l)) : [];
      writeFileSync(join(LOGS, `${name}.${runtimeName(runtime)}.tap`), out);
      const leftovers = cleanUp(before, tmp);
      done({
        // exit 0, no "not ok", and no "error:" diagnostic: the *_fail programs print no TAP at all
        // when the runtime refused what it had to refuse (they exit 1 when it did not), and the
        // hook programs report a failure only as a YAML diagnostic with an error key
        passed: code === 0 && notOk.length === 0 && yamlErrors.length === 0,
        ok: ok.length,
        notOk: notOk.length,
        skip: ok.filter((l) => /# ?skip/i.test(l)).length,
        failures: notOk.length ? notOk.map((l) => l.slice(0, 140)) : yamlErrors.length ? yamlErrors.map((l) => l.trim().slice(0, 160)) : code !== 0 ? [`exit ${code}${plan ? '' : ', no TAP plan'}: ${lines.filter(Boolean).slice(-2).join(' | ').slice(0, 200)}`] : [],
        leftovers,
      });
    });
  });
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root: the programs create real containers');
  const tree = buildSuite();
  mkdirSync(LOGS, { recursive: true });
  const only = arg('--only')?.split(',');
  const runtimes = (arg('--runtimes') ?? 'glassbox,runc').split(',');
  for (const r of runtimes) if (!RUNTIMES[r]) throw new Error(`--runtimes: unknown runtime ${r} (have ${Object.keys(RUNTIMES).join(', ')})`);
  const programs = readdirSync(join(tree, 'validation'))
    .filter((n) => existsSync(join(tree, 'validation', n, `${n}.t`)))
    .filter((n) => !only || only.includes(n))
    .sort();
  const results: Record<string, Record<string, Result>> = {};
  for (const name of programs) {
    results[name] = {};
    for (const r of runtimes) {
      const res = await runProgram(tree, name, RUNTIMES[r]);
      results[name][r] = res;
      const mark = res.passed ? 'pass' : 'FAIL';
      console.log(`${name.padEnd(36)} ${r.padEnd(9)} ${mark}  ok ${res.ok} not-ok ${res.notOk} skip ${res.skip}${res.leftovers.length ? `  (cleaned: ${res.leftovers.length})` : ''}`);
      for (const f of res.failures.slice(0, 4)) console.log(`    ${f}`);
    }
  }
  console.log('\nprogram                              ' + runtimes.map((r) => r.padEnd(12)).join(''));
  for (const name of programs) {
    console.log(name.padEnd(37) + runtimes.map((r) => `${results[name][r].passed ? 'pass' : 'FAIL'} ${results[name][r].ok}/${results[name][r].ok + results[name][r].notOk}`.padEnd(12)).join(''));
  }
  console.log('');
  for (const r of runtimes) {
    const passed = programs.filter((n) => results[n][r].passed).length;
    const ok = programs.reduce((s, n) => s + results[n][r].ok, 0);
    const all = programs.reduce((s, n) => s + results[n][r].ok + results[n][r].notOk, 0);
    console.log(`${r}: ${passed} of ${programs.length} programs passed (${ok}/${all} TAP lines ok)`);
  }
  console.log(`(each program's output: ${LOGS}/NAME.RUNTIME.tap)`);
}

main().catch((e) => {
  console.error(`validate:oci: ${(e as Error).message}`);
  process.exit(1);
});
