// docker build (the classic builder, DOCKER_BUILDKIT=0) with the real docker CLI 28 against
// Glassbox: multi-stage with RUN and COPY --from, the cache ("Using cache" on every step of a
// second build, none with --no-cache), --target, --build-arg, a failing RUN, .dockerignore,
// history, and hostile contexts (../ entries, symlinks out of the context, a symlinked COPY
// destination pointing at a host directory). Nothing is left behind.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineApi } from '../../server/engine/api.js';
import { requireHost } from '../helpers.js';
import { closeDockerEnv, DOCKER, dockerClient, openDockerEnv, type DockerTestEnv } from './docker-support.js';

requireHost('docker-build e2e', { root: true, binaries: [DOCKER] });

process.env.DOCKER_BUILDKIT = '0';
let env: DockerTestEnv | undefined;
let base = '';
let sock = '';
let engine: EngineApi;
const { docker, ok } = dockerClient(() => sock, { timeoutMs: 120_000 });
const run = promisify(execFile);

/** A context directory with these files. */
function context(name: string, files: Record<string, string>): string {
  const dir = join(base, name);
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  return dir;
}

/** POST /build with a tar we make ourselves (what the CLI would never send). */
async function rawBuild(entries: { name: string; type?: 'file' | 'symlink' | 'directory'; body?: string; linkname?: string }[], query = 't=gbtc-raw'): Promise<{ status: number; lines: Record<string, unknown>[] }> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname });
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: 0o755 });
    else pack.entry({ name: e.name, mode: 0o644 }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  const body = Buffer.concat(chunks);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method: 'POST', path: `/v1.47/build?${query}`, headers: { 'content-type': 'application/x-tar', 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          lines: text
            .split(/\r?\n/)
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorOf = (lines: Record<string, unknown>[]) => (lines.find((l) => l.error) as { error?: string } | undefined)?.error ?? '';

const MULTI = `# a comment before the first stage
ARG BASE=base
FROM \${BASE} AS build
ARG GREETING=hello
WORKDIR /work
RUN echo "$GREETING from stage one" > message.txt \\
 && echo built
FROM base AS final
LABEL org.example.step="two"
ENV WHO=world
COPY --from=build /work/message.txt /srv/message.txt
COPY app.sh /usr/local/bin/
CMD ["sh", "/usr/local/bin/app.sh"]
`;

describe('docker build (classic builder) against Glassbox', () => {
  beforeAll(async () => {
    env = await openDockerEnv('gbtc-');
    ({ base, engine, sock } = env);
  }, 120_000);

  afterAll(async () => {
    expect(await closeDockerEnv(env)).toEqual({ containers: 0, mounts: [] });
  }, 120_000);

  it('multi-stage: RUN writes a file in stage one, COPY --from takes it, docker run prints it', async () => {
    const dir = context('multi', { Dockerfile: MULTI, 'app.sh': 'cat /srv/message.txt; echo "env: $WHO"\n' });
    const t0 = Date.now();
    const r = await docker('build', '-t', 'gbtc-app', '-t', 'gbtc-app:v1', dir);
    console.log(`[measure] first build of the multi-stage Dockerfile: ${Date.now() - t0} ms`);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/Step 1\/11 : ARG BASE=base/);
    expect(r.out).toMatch(/Step 5\/11 : RUN echo "\$GREETING from stage one" > message.txt && echo built\n ---> Running in [0-9a-f]{12}\nbuilt\n ---> Removed intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}/);
    expect(r.out).toMatch(/Successfully built [0-9a-f]{12}\nSuccessfully tagged gbtc-app:latest\nSuccessfully tagged gbtc-app:v1\n/);
    expect(await ok('run', '--rm', 'gbtc-app')).toBe('hello from stage one\nenv: world\n');
    // the image says what made each layer: the history and the layer view
    const hist = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'gbtc-app');
    expect(hist).toMatch(/\/bin\/sh -c #\(nop\) {2}CMD \["sh","\/usr\/local\/bin\/app.sh"\]/);
    expect(hist).toMatch(/\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/usr\/local\/bin\/ /);
    expect(hist).toMatch(/\/bin\/sh -c #\(nop\) {2}ENV WHO=world/);
    const view = engine.imageView('gbtc-app');
    expect(view.warnings).toEqual([]);
    expect(view.layers.map((l) => l.createdBy).slice(-2)).toEqual([expect.stringMatching(/COPY file:\w+ in \/srv\/message.txt/), expect.stringMatching(/COPY file:\w+ in \/usr\/local\/bin\//)]);
    const inspect = JSON.parse(await ok('inspect', 'gbtc-app'))[0];
    expect(inspect.Config.Labels).toMatchObject({ 'org.example.step': 'two' });
    expect(inspect.Config.Env).toContain('WHO=world');
  }, 180_000);

  it('the second identical build is all cache hits; --no-cache runs every step again', async () => {
    const dir = join(base, 'multi');
    const t0 = Date.now();
    const again = await ok('build', '-t', 'gbtc-app', dir);
    console.log(`[measure] second (all cached) build: ${Date.now() - t0} ms`);
    const steps = again.match(/^Step \d+\/\d+ : (?!FROM|ARG BASE)/gm)?.length ?? 0;
    expect(again.match(/ ---> Using cache/g)?.length).toBe(steps);
    expect(again).not.toMatch(/Running in/);
    const fresh = await ok('build', '--no-cache', '-t', 'gbtc-app', dir);
    expect(fresh).not.toMatch(/Using cache/);
    expect(fresh).toMatch(/Running in/);
    // a changed file in the context: its COPY and what follows run again, the RUN before stays cached
    writeFileSync(join(dir, 'app.sh'), 'echo changed\n');
    const changed = await ok('build', '-t', 'gbtc-app', dir);
    expect(changed).toMatch(/Step 5\/11 : RUN [^\n]*\n ---> Using cache/);
    expect(changed).toMatch(/Step 10\/11 : COPY app.sh \/usr\/local\/bin\/\n ---> [0-9a-f]{12}\n/);
    expect(await ok('run', '--rm', 'gbtc-app')).toBe('changed\n');
  }, 180_000);

  it('--target stops at a stage; --build-arg sets an ARG', async () => {
    const dir = join(base, 'multi');
    const r = await ok('build', '--target', 'build', '--build-arg', 'GREETING=bonjour', '-t', 'gbtc-stage1', dir);
    expect(r).not.toMatch(/FROM base AS final/);
    expect(await ok('run', '--rm', 'gbtc-stage1', 'cat', '/work/message.txt')).toBe('bonjour from stage one\n');
    const hist = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'gbtc-stage1');
    expect(hist).toMatch(/\|1 GREETING=bonjour \/bin\/sh -c echo/);
    const bad = await docker('build', '--target', 'nope', dir);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/failed to reach build target nope/);
  }, 180_000);

  it('a failing RUN shows its output and exit code and leaves no image and no container', async () => {
    const before = (await ok('images', '-q')).split('\n').filter(Boolean).length;
    const dir = context('fail', { Dockerfile: 'FROM base\nRUN echo about to fail; exit 3\n' });
    const r = await docker('build', '-t', 'gbtc-fail', dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/about to fail/);
    expect(r.err).toMatch(/The command '\/bin\/sh -c echo about to fail; exit 3' returned a non-zero code: 3/);
    expect((await docker('image', 'inspect', 'gbtc-fail')).code).not.toBe(0);
    expect((await ok('images', '-q')).split('\n').filter(Boolean).length).toBe(before);
    expect(engine.list({ all: true })).toEqual([]);
  }, 120_000);

  it('every instruction lands in the config: ENTRYPOINT, USER, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ADD of a tar', async () => {
    const dir = context('all', {
      Dockerfile: [
        '# escape=`',
        'FROM base',
        'SHELL ["/bin/sh", "-c"]',
        'ENV DIR=/opt/app `',
        '    MODE=test',
        'WORKDIR ${DIR}',
        'ADD bundle.tar ./',
        'COPY --chown=1000:1000 sub/ ./sub/',
        'RUN ls -n ./sub | grep -q " 1000 *1000 " && cat ./inner/hello.txt > ./from-tar.txt',
        'USER 1000',
        'EXPOSE 8080/tcp 53/udp',
        'VOLUME ["/data"]',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s --retries=2 CMD true',
        'ENTRYPOINT ["cat"]',
        'CMD ["from-tar.txt"]',
      ].join('\n'),
      'sub/a.txt': 'a\n',
    });
    // a tar inside the context: ADD unpacks it
    await run('tar', ['-C', context('tarsrc', { 'inner/hello.txt': 'hi from a tar\n' }), '-cf', join(dir, 'bundle.tar'), 'inner']);
    const r = await docker('build', '-t', 'gbtc-all', dir);
    expect(r.code, r.err + r.out).toBe(0);
    expect(await ok('run', '--rm', 'gbtc-all')).toBe('hi from a tar\n');
    const c = JSON.parse(await ok('inspect', 'gbtc-all'))[0].Config;
    expect(c).toMatchObject({ User: '1000', WorkingDir: '/opt/app', StopSignal: 'SIGINT', Entrypoint: ['cat'], Cmd: ['from-tar.txt'] });
    expect(Object.keys(c.ExposedPorts).sort()).toEqual(['53/udp', '8080/tcp']);
    expect(Object.keys(c.Volumes)).toEqual(['/data']);
    expect(c.Env).toEqual(expect.arrayContaining(['DIR=/opt/app', 'MODE=test']));
    expect(c.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 });
  }, 180_000);

  it('.dockerignore is honoured; -f names another Dockerfile', async () => {
    const dir = context('ignore', {
      'build.Dockerfile': 'FROM base\nCOPY . /ctx/\nCMD ["sh", "-c", "cd /ctx && find . -type f | sort"]\n',
      '.dockerignore': 'secret.txt\nlogs/\n*.tmp\n!keep.tmp\n',
      'secret.txt': 'do not ship\n',
      'logs/a.log': 'x\n',
      'drop.tmp': 'x\n',
      'keep.tmp': 'kept\n',
      'app.txt': 'app\n',
    });
    const r = await docker('build', '-f', join(dir, 'build.Dockerfile'), '-t', 'gbtc-ignore', dir);
    expect(r.code, r.err + r.out).toBe(0);
    const files = await ok('run', '--rm', 'gbtc-ignore');
    expect(files).toMatch(/\.\/app\.txt/);
    expect(files).toMatch(/\.\/keep\.tmp/);
    expect(files).not.toMatch(/secret|a\.log|drop\.tmp/);
  }, 120_000);

  it('bad Dockerfiles are refused naming the line, and build nothing', async () => {
    const dir = context('bad', { Dockerfile: 'FROM base\nRUN true\nFORM base\n' });
    const r = await docker('build', '-t', 'gbtc-bad', dir);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/dockerfile parse error on line 3: unknown instruction: FORM/);
    expect((await docker('image', 'inspect', 'gbtc-bad')).code).not.toBe(0);
    const url = context('url', { Dockerfile: 'FROM base\nADD http://127.0.0.1:1/x /x\n' });
    expect((await docker('build', url)).err).toMatch(/line 2: ADD\/COPY from a URL \(http:\/\/127\.0\.0\.1:1\/x\) is not supported/);
    const onbuild = context('onbuild', { Dockerfile: 'FROM base\nONBUILD RUN true\n' });
    expect((await docker('build', onbuild)).err).toMatch(/line 2: ONBUILD is not supported/);
    const missing = context('missing', { Dockerfile: 'FROM gbtc-no-such-image\n' });
    expect((await docker('build', missing)).err).toMatch(/local images only/);
  }, 120_000);

  describe('hostile build contexts', () => {
    const canaryDir = () => join(base, 'host-canary');
    beforeAll(() => {
      mkdirSync(canaryDir(), { recursive: true });
      writeFileSync(join(canaryDir(), 'secret'), 'host secret\n');
    });

    it('an entry named ../ is refused and writes nothing outside', async () => {
      const r = await rawBuild([
        { name: 'Dockerfile', body: 'FROM base\n' },
        { name: '../../gbtc-escaped', body: 'pwned' },
      ]);
      expect(errorOf(r.lines)).toMatch(/the build context: the entry "\.\.\/\.\.\/gbtc-escaped" leads out of its root/);
      expect(existsSync(join(base, 'gbtc-escaped'))).toBe(false);
      expect(existsSync('/tmp/gbtc-escaped')).toBe(false);
    });

    it('an entry written through a symlink to a host directory is refused', async () => {
      const r = await rawBuild([
        { name: 'Dockerfile', body: 'FROM base\n' },
        { name: 'out', type: 'symlink', linkname: canaryDir() },
        { name: 'out/pwned', body: 'pwned' },
      ]);
      expect(errorOf(r.lines)).toMatch(/out: leads through a symlink out of its root/);
      expect(readdirSync(canaryDir())).toEqual(['secret']);
    });

    it('COPY of a symlink to a host file gets the context\'s own file (or nothing), never the host\'s', async () => {
      const r = await rawBuild(
        [
          { name: 'Dockerfile', body: 'FROM base\nCOPY link /got\n' },
          { name: 'link', type: 'symlink', linkname: join(canaryDir(), 'secret') },
        ],
        't=gbtc-link',
      );
      expect(errorOf(r.lines)).toMatch(/file not found in build context/);
      const up = await rawBuild(
        [
          { name: 'Dockerfile', body: 'FROM base\nCOPY link/secret /got\n' },
          { name: 'link', type: 'symlink', linkname: '../../../../../../../..' + canaryDir() },
        ],
        't=gbtc-link',
      );
      expect(errorOf(up.lines)).toMatch(/file not found in build context/);
      expect((await docker('image', 'inspect', 'gbtc-link')).code).not.toBe(0);
    });

    it('a COPY destination that is a symlink to a host path lands inside the image', async () => {
      const dir = context('dest', {
        Dockerfile: `FROM base\nRUN ln -s ${canaryDir()} /target && ln -s ../../../../../../../..${canaryDir()} /rel\nCOPY evil.txt /target/\nCOPY evil.txt /rel/evil2.txt\nCOPY evil.txt /target/secret\n`,
        'evil.txt': 'pwned\n',
      });
      const r = await docker('build', '-t', 'gbtc-dest', dir);
      expect(r.code, r.err + r.out).toBe(0);
      expect(readdirSync(canaryDir())).toEqual(['secret']);
      expect(readFileSync(join(canaryDir(), 'secret'), 'utf8')).toBe('host secret\n');
      // the files are in the image, under its own copy of that path
      expect(await ok('run', '--rm', 'gbtc-dest', 'sh', '-c', `ls ${canaryDir()} | sort | tr '\\n' ' '`)).toBe('evil.txt evil2.txt secret ');
    }, 120_000);
  });

  it('cleans up: removing the images leaves no build container, mount or scratch dir', async () => {
    for (const t of ['gbtc-app', 'gbtc-app:v1', 'gbtc-stage1', 'gbtc-all', 'gbtc-ignore', 'gbtc-dest']) await ok('rmi', t);
    expect(engine.list({ all: true })).toEqual([]);
    expect(readdirSync(join(base, 'root', 'images', 'tmp')).filter((n) => n.startsWith('build-'))).toEqual([]);
  }, 60_000);
});
