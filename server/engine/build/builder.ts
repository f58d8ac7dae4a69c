// docker build, the classic builder: a Dockerfile's steps, one image each.
//
//   FROM      the stage starts from a local image, an earlier stage, or scratch (nothing)
//   RUN       a real container of the image so far runs the command; its upper dir (what the
//             command wrote) is committed as the next layer, and the container is removed
//   COPY/ADD  the image's layers are mounted (overlayfs) with a fresh upper dir, the files are
//             written into it inside the rootfs (in-root.ts), and that upper dir is the layer
//   WORKDIR   a metadata change, plus a layer holding the directory when the image lacks it
//   the rest  ENV, CMD, LABEL…: a new config with the same layers (history says empty_layer)
//
// Every step's image is kept in the build cache under a key of (parent image, the step as the
// history writes it — for COPY with the checksum of the files): an identical step on the same
// parent is "Using cache" and runs nothing. The step images are untagged; the last one gets -t.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachSession } from '../api.js';
import { tarUpperDir } from '../images/commit.js';
import { HashingStream } from '../images/compression.js';
import { MT, type ManifestJson } from '../images/registry/media.js';
import { normalizeRef, type OciHistory } from '../images/store.js';
import { mountOverlay, unmountOverlay } from '../rootfs/overlay.js';
import { EngineError, InvalidArgument, NotFound, type ContainerConfig, type IdMapping } from '../types.js';
import { closeSources, checksumSources, copySource, looksLikeTar, openSourceStream, resolveSources, type ResolvedSource } from './copy.js';
import { parseDockerfile, parseError, type Instruction, type Stage } from './dockerfile.js';
import { InRoot } from './in-root.js';
import { parseDockerignore } from './patterns.js';
import { expandWord, expandWords, parseKeyValues, splitWords } from './shell-words.js';
import { extractTar } from './tar-extract.js';
import { BuildStepError, type BuildDeps, type BuildEvent, type BuildOptions, type BuildResult, type ImageConfig, type RunConfig, type StageState } from './build-types.js';
import { chownOf, clone, DEFAULT_PATH, DEFAULT_SHELL, durationNs, envMap, jsonOf, PREDEFINED_ARGS, removeIgnored, setEnv, short } from './step-helpers.js';

export type { BuildContainers, BuildDeps, BuildEvent, BuildOptions, BuildResult } from './build-types.js';
export { BuildStepError } from './build-types.js';

export class Builder {
  private readonly events: (e: BuildEvent) => void;
  private stepNo = 0;
  private totalSteps = 0;
  private readonly stages = new Map<string, StageState>();
  private readonly stageList: StageState[] = [];
  private readonly buildArgs: Map<string, string | null>;
  private readonly usedArgs = new Set<string>();
  private readonly metaArgs = new Map<string, string>();
  private escape = '\\';
  private contextIn!: InRoot;

  constructor(
    private readonly deps: BuildDeps,
    private readonly opts: BuildOptions,
    onEvent: (e: BuildEvent) => void,
  ) {
    this.events = onEvent;
    this.buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  }

  private say(text: string): void {
    this.events({ type: 'stream', text });
  }

  private get store() {
    return this.deps.content.store;
  }

  /** Run the build: the context tar is unpacked into a scratch directory that is removed after. */
  async build(context: Readable): Promise<BuildResult> {
    const tags = (this.opts.tags ?? []).map((t) => {
      try {
        return normalizeRef(t);
      } catch {
        throw new InvalidArgument(`invalid tag "${t}": invalid reference format`);
      }
    });
    const work = join(this.deps.content.tmpDir(), `build-${randomBytes(6).toString('hex')}`);
    const ctxDir = join(work, 'context');
    mkdirSync(ctxDir, { recursive: true, mode: 0o700 });
    try {
      await this.unpackContext(context, ctxDir);
      this.contextIn = new InRoot(ctxDir, true);
      try {
        const id = await this.run(ctxDir, work);
        for (const t of tags) this.deps.tag(id, t);
        this.say(`Successfully built ${short(id)}\n`);
        for (const t of tags) this.say(`Successfully tagged ${t}\n`);
        return { id, tags };
      } finally {
        this.contextIn.close();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  private async unpackContext(context: Readable, ctxDir: string): Promise<void> {
    // first pass: everything but what .dockerignore excludes. The ignore file is in the tar too,
    // and may come after the files: unpack all, then remove what it names.
    const root = new InRoot(ctxDir, false);
    try {
      await extractTar(context, root, { strictNames: true, what: 'the build context' });
    } finally {
      root.close();
    }
  }

  /** The Dockerfile, and .dockerignore applied to the context (minus the Dockerfile itself). */
  private readDockerfile(ctxDir: string): string {
    const name = this.opts.dockerfile || 'Dockerfile';
    const ctx = new InRoot(ctxDir, false);
    try {
      const read = (rel: string): string | null => {
        const fd = ctx.lookup(rel);
        if (fd === null) return null;
        try {
          return readFileSync(`/proc/self/fd/${fd}`, 'utf8');
        } finally {
          closeSync(fd);
        }
      };
      const text = read(name) ?? (name === 'Dockerfile' ? read('dockerfile') : null);
      if (text === null) throw new InvalidArgument(`Cannot locate specified Dockerfile: ${name}`);
      const ignore = read('.dockerignore');
      if (ignore !== null) {
        const rules = parseDockerignore(ignore);
        removeIgnored(ctxDir, '', rules, new Set([name, '.dockerignore']));
      }
      return text;
    } finally {
      ctx.close();
    }
  }

  private async run(ctxDir: string, work: string): Promise<string> {
    const df = parseDockerfile(this.readDockerfile(ctxDir));
    this.escape = df.escape;
    let last = df.stages.length - 1;
    if (this.opts.target) {
      const i = df.stages.findIndex((s) => s.name === this.opts.target!.toLowerCase());
      if (i < 0) throw new InvalidArgument(`failed to reach build target ${this.opts.target} in Dockerfile`);
      last = i;
    }
    const stages = df.stages.slice(0, last + 1);
    const labels = Object.entries(this.opts.labels ?? {});
    if (labels.length) {
      const args = labels.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ');
      stages[stages.length - 1] = { ...stages[last], instructions: [...stages[last].instructions, { line: 0, keyword: 'LABEL', flags: {}, args, json: null, original: `LABEL ${args}` }] };
    }
    this.totalSteps = df.metaArgs.length + stages.reduce((a, s) => a + 1 + s.instructions.length, 0);
    for (const a of df.metaArgs) {
      this.step(a);
      const [name, def] = this.argOf(a, new Map());
      const v = this.buildArgs.has(name) ? this.buildArgs.get(name) : def;
      if (this.buildArgs.has(name)) this.usedArgs.add(name);
      if (v !== null && v !== undefined) this.metaArgs.set(name, v);
    }
    let state: StageState | null = null;
    for (const stage of stages) {
      state = await this.from(stage);
      for (const ins of stage.instructions) {
        this.step(ins);
        try {
          await this.dispatch(state, ins, work);
        } catch (e) {
          if (e instanceof EngineError || !(e instanceof Error)) throw e;
          throw ins.line ? parseError(ins.line, e.message) : e;
        }
        this.say(` ---> ${short(state.imageId!)}\n`);
      }
      if (state.name) this.stages.set(state.name, state);
      this.stageList.push(state);
    }
    const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.includes(k));
    if (unused.length) this.say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    if (!state!.imageId) state = await this.commitMeta(state!, 'FROM scratch'); // a scratch stage with no step still is an image
    this.events({ type: 'aux', id: state!.imageId! });
    return state!.imageId!;
  }

  private step(ins: Instruction): void {
    this.stepNo++;
    this.say(`Step ${this.stepNo}/${this.totalSteps} : ${ins.original}\n`);
  }

  /** ARG NAME[=default] → [name, default] (the default expanded with the variables so far). */
  private argOf(ins: Instruction, vars: Map<string, string>): [string, string | undefined] {
    const t = ins.args.trim();
    const eq = t.indexOf('=');
    if (eq < 0) return [t, undefined];
    const [[k, v]] = parseKeyValues(t, vars, this.escape, 'ARG');
    return [k, v];
  }

  /** The variables a step's arguments see: the stage's ARGs, overridden by its ENV. */
  private vars(state: StageState): Map<string, string> {
    return new Map([...state.args, ...envMap(state.config.config?.Env)]);
  }

  private async from(stage: Stage): Promise<StageState> {
    this.step(stage.from);
    let ref: string;
    try {
      ref = expandWord(stage.image, this.metaArgs, this.escape);
    } catch (e) {
      throw parseError(stage.from.line, (e as Error).message);
    }
    if (!ref) throw parseError(stage.from.line, `FROM: the base name ${stage.image} is empty after substitution`);
    let st: StageState;
    const prev = this.stages.get(ref.toLowerCase());
    if (ref === 'scratch') {
      st = { imageId: null, manifest: null, config: { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', config: { Env: [DEFAULT_PATH] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, args: new Map(), cmdSet: false, name: stage.name };
    } else if (prev) {
      st = { ...clone(prev), args: new Map(), cmdSet: false, name: stage.name };
    } else {
      let img;
      try {
        img = this.store.resolve(ref);
      } catch (e) {
        if (e instanceof NotFound) throw new NotFound(`pull access denied for ${ref}: no such image here, and Glassbox's builder uses local images only (docker pull or docker load it first)`);
        throw e;
      }
      st = { imageId: img.id, manifest: img.manifest as unknown as ManifestJson, config: JSON.parse(JSON.stringify(img.config)) as ImageConfig, args: new Map(), cmdSet: false, name: stage.name };
    }
    this.say(st.imageId ? ` ---> ${short(st.imageId)}\n` : ' ---> \n');
    return st;
  }

  // ------------------------------------------------------------------ the instructions

  private async dispatch(state: StageState, ins: Instruction, work: string): Promise<void> {
    const vars = this.vars(state);
    const cfg = () => (state.config.config ??= {});
    const words = () => expandWords(ins.args, vars, this.escape);
    switch (ins.keyword) {
      case 'ARG': {
        const [name, def] = this.argOf(ins, vars);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw parseError(ins.line, `ARG names must be letters, digits and _: "${name}"`);
        let v = this.buildArgs.has(name) ? this.buildArgs.get(name) : undefined;
        if (this.buildArgs.has(name)) this.usedArgs.add(name);
        if (v === undefined || v === null) v = def ?? this.metaArgs.get(name);
        if (v !== undefined) state.args.set(name, v);
        else state.args.delete(name);
        return this.meta(state, `ARG ${name}${def !== undefined ? `=${def}` : ''}`);
      }
      case 'ENV': {
        const pairs = parseKeyValues(ins.args, vars, this.escape, 'ENV');
        for (const [k, v] of pairs) cfg().Env = setEnv(cfg().Env, k, v);
        return this.meta(state, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
      case 'LABEL': {
        const pairs = parseKeyValues(ins.args, vars, this.escape, 'LABEL');
        cfg().Labels = { ...(cfg().Labels ?? {}), ...Object.fromEntries(pairs) };
        return this.meta(state, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
      case 'MAINTAINER':
        state.config.author = ins.args;
        return this.meta(state, `MAINTAINER ${ins.args}`);
      case 'CMD':
        cfg().Cmd = ins.json ?? [...(cfg().Shell ?? DEFAULT_SHELL), ins.args];
        state.cmdSet = true;
        return this.meta(state, `CMD ${JSON.stringify(cfg().Cmd)}`);
      case 'ENTRYPOINT':
        cfg().Entrypoint = ins.json ?? [...(cfg().Shell ?? DEFAULT_SHELL), ins.args];
        if (!state.cmdSet) cfg().Cmd = null; // Docker: an ENTRYPOINT drops an inherited CMD
        return this.meta(state, `ENTRYPOINT ${JSON.stringify(cfg().Entrypoint)}`);
      case 'SHELL':
        cfg().Shell = ins.json!;
        return this.meta(state, `SHELL ${JSON.stringify(ins.json)}`);
      case 'USER': {
        const u = expandWord(ins.args.trim(), vars, this.escape);
        if (!u) throw parseError(ins.line, 'USER requires a user name or uid');
        cfg().User = u;
        return this.meta(state, `USER ${u}`);
      }
      case 'STOPSIGNAL': {
        const s = expandWord(ins.args.trim(), vars, this.escape);
        if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(s)) throw parseError(ins.line, `STOPSIGNAL: invalid signal "${s}"`);
        cfg().StopSignal = s;
        return this.meta(state, `STOPSIGNAL ${s}`);
      }
      case 'EXPOSE': {
        const ports = { ...(cfg().ExposedPorts ?? {}) };
        for (const p of words()) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535 || (m[2] && (Number(m[2]) < Number(m[1]) || Number(m[2]) > 65535))) throw parseError(ins.line, `EXPOSE: invalid port "${p}" (PORT[/tcp|udp], 1-65535)`);
          for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]); n++) ports[`${n}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        cfg().ExposedPorts = ports;
        return this.meta(state, `EXPOSE ${Object.keys(ports).join(' ')}`);
      }
      case 'VOLUME': {
        const vols = ins.json ? ins.json.map((v) => expandWord(v, vars, this.escape)) : words();
        for (const v of vols) if (!v.trim()) throw parseError(ins.line, 'VOLUME specified can not be an empty string');
        cfg().Volumes = { ...(cfg().Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
        return this.meta(state, `VOLUME ${JSON.stringify(vols)}`);
      }
      case 'HEALTHCHECK':
        return this.healthcheck(state, ins);
      case 'WORKDIR':
        return this.workdir(state, ins, vars, work);
      case 'RUN':
        return this.runStep(state, ins);
      case 'COPY':
      case 'ADD':
        return this.copyStep(state, ins, vars, work);
      default:
        throw parseError(ins.line, `${ins.keyword} is not supported by Glassbox's builder`);
    }
  }

  private async healthcheck(state: StageState, ins: Instruction): Promise<void> {
    const cfg = (state.config.config ??= {});
    const [kind] = splitWords(ins.args, this.escape);
    if (kind.toUpperCase() === 'NONE') {
      cfg.Healthcheck = { Test: ['NONE'] };
    } else {
      const rest = ins.args.trim().slice(kind.length).trim();
      if (!rest) throw parseError(ins.line, 'HEALTHCHECK CMD requires a command');
      const json = ins.json === null ? (rest.startsWith('[') ? jsonOf(rest) : null) : null;
      const hc: NonNullable<RunConfig['Healthcheck']> = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', rest] };
      const f = ins.flags;
      if (f.interval) hc.Interval = durationNs(f.interval, 'interval', ins.line);
      if (f.timeout) hc.Timeout = durationNs(f.timeout, 'timeout', ins.line);
      if (f['start-period']) hc.StartPeriod = durationNs(f['start-period'], 'start-period', ins.line);
      if (f['start-interval']) hc.StartInterval = durationNs(f['start-interval'], 'start-interval', ins.line);
      if (f.retries) {
        if (!/^\d+$/.test(f.retries) || Number(f.retries) < 1) throw parseError(ins.line, `HEALTHCHECK --retries must be at least 1, got "${f.retries}"`);
        hc.Retries = Number(f.retries);
      }
      cfg.Healthcheck = hc;
    }
    return this.meta(state, `HEALTHCHECK &{${JSON.stringify(cfg.Healthcheck.Test)}}`);
  }

  // ------------------------------------------------------------------ images of steps

  private cacheKey(parent: string | null, createdBy: string): string {
    return createHash('sha256').update(JSON.stringify([this.deps.cacheScope ?? '', parent ?? 'scratch', createdBy])).digest('hex');
  }

  /** A cached step image for this key: the state moves to it, and "Using cache" is said. */
  private tryCache(state: StageState, key: string): boolean {
    if (this.opts.noCache) return false;
    const md = this.store.buildCacheGet(key);
    if (!md) return false;
    let img;
    try {
      img = this.store.resolve(JSON.parse(this.store.getBlob(md).toString()).config.digest as string);
    } catch {
      return false;
    }
    if (!img.layers.every((l) => existsSync(l.dir))) return false;
    this.say(' ---> Using cache\n');
    state.imageId = img.id;
    state.manifest = img.manifest as unknown as ManifestJson;
    state.config = JSON.parse(JSON.stringify(img.config)) as ImageConfig;
    return true;
  }

  /** A metadata step: same layers, new config, one empty_layer history entry. */
  private async meta(state: StageState, comment: string): Promise<void> {
    Object.assign(state, await this.commitMeta(state, comment));
  }

  private async commitMeta(state: StageState, comment: string): Promise<StageState> {
    const createdBy = `${(state.config.config?.Shell ?? DEFAULT_SHELL).join(' ')} #(nop)  ${comment}`;
    const key = this.cacheKey(state.imageId, createdBy);
    const next = { ...state, config: state.config };
    if (this.tryCache(next, key)) return next;
    return this.commitImage(next, key, { created_by: createdBy, empty_layer: true }, null);
  }

  /**
   * Write the step's image: config (history + diff_ids), manifest, the layer blob if any; then
   * record it in the build cache (which keeps it) and unpack its new layer.
   */
  private async commitImage(state: StageState, key: string, history: OciHistory, layer: { path: string; diffId: string; size: number } | null): Promise<StageState> {
    const content = this.deps.content;
    const now = new Date().toISOString();
    const parent = state.manifest;
    const docker = parent?.mediaType === MT.dockerManifest;
    const config: ImageConfig = {
      ...state.config,
      created: now,
      rootfs: { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, ...(layer ? [layer.diffId] : [])] },
      history: [...(state.config.history ?? []), { created: now, ...history }],
    };
    const configBody = Buffer.from(JSON.stringify(config));
    const configDigest = content.putBlob(configBody);
    if (layer) content.putBlobFile(layer.path, layer.diffId);
    const manifest: ManifestJson = {
      schemaVersion: 2,
      mediaType: docker ? MT.dockerManifest : MT.ociManifest,
      config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : MT.ociConfig, digest: configDigest, size: configBody.length },
      layers: [...(parent?.layers ?? []), ...(layer ? [{ mediaType: docker ? MT.dockerLayer : MT.ociLayer, digest: layer.diffId, size: layer.size }] : [])],
    };
    const manifestDigest = content.putBlob(Buffer.from(JSON.stringify(manifest)));
    this.store.buildCachePut(key, manifestDigest);
    const img = await content.addImageFromBlobs({ manifestDigest, refs: [] });
    return { ...state, imageId: img.id, manifest, config };
  }

  /** Tar an upper dir into the store's scratch space: its path, diff_id and size. */
  private async tarLayer(upper: string, maps: { uid?: IdMapping[]; gid?: IdMapping[] } = {}): Promise<{ path: string; diffId: string; size: number }> {
    const path = join(this.deps.content.tmpDir(), `build-layer-${randomBytes(6).toString('hex')}`);
    const hasher = new HashingStream();
    try {
      const writing = pipeline(hasher, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      await tarUpperDir(upper, hasher, maps);
      await writing;
    } catch (e) {
      rmSync(path, { force: true });
      throw e;
    }
    return { path, diffId: hasher.digest(), size: hasher.bytes };
  }

  /**
   * The image's rootfs, writable, for COPY and WORKDIR: overlayfs of its layers with a fresh
   * upper dir (or the bare upper dir for a scratch image). `fn` writes; the upper dir is the layer.
   */
  private async withRootfs<T>(state: StageState, work: string, fn: (root: InRoot, rootPath: string) => Promise<T>): Promise<{ result: T; layer: { path: string; diffId: string; size: number } }> {
    const dir = join(work, `rootfs-${randomBytes(4).toString('hex')}`);
    const upper = join(dir, 'upper');
    const merged = join(dir, 'merged');
    mkdirSync(join(dir, 'work'), { recursive: true, mode: 0o700 });
    mkdirSync(upper, { mode: 0o755 });
    mkdirSync(merged);
    const lowers = state.config.rootfs.diff_ids.map((d) => this.store.layerDir(d));
    let mounted = false;
    try {
      if (lowers.length) {
        mountOverlay({ lowers, upper, work: join(dir, 'work'), target: merged });
        mounted = true;
      }
      const rootPath = mounted ? merged : upper;
      const root = new InRoot(rootPath, true);
      let result: T;
      try {
        result = await fn(root, rootPath);
      } finally {
        root.close();
      }
      if (mounted) unmountOverlay(merged);
      mounted = false;
      return { result, layer: await this.tarLayer(upper) };
    } finally {
      if (mounted) unmountOverlay(merged);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** An image's rootfs, read-only use (COPY --from): mounted in the build's scratch dir. */
  private async withImageRoot<T>(state: StageState, work: string, fn: (root: InRoot) => Promise<T>): Promise<T> {
    const r = await this.withRootfs(state, work, async (root) => fn(root));
    rmSync(r.layer.path, { force: true });
    return r.result;
  }

  private async workdir(state: StageState, ins: Instruction, vars: Map<string, string>, work: string): Promise<void> {
    const cfg = (state.config.config ??= {});
    const w = expandWord(ins.args.trim(), vars, this.escape);
    if (!w) throw parseError(ins.line, 'WORKDIR requires a path');
    const dir = posix.resolve(cfg.WorkingDir || '/', w);
    cfg.WorkingDir = dir;
    const createdBy = `${(cfg.Shell ?? DEFAULT_SHELL).join(' ')} #(nop) WORKDIR ${dir}`;
    const key = this.cacheKey(state.imageId, createdBy);
    if (this.tryCache(state, key)) return;
    // does the image have it? then only the config changes
    let exists = false;
    if (state.config.rootfs.diff_ids.length) {
      exists = await this.withImageRoot(state, work, async (root) => {
        const fd = root.lookup(dir, { directory: true });
        if (fd !== null) closeSync(fd);
        return fd !== null;
      }).catch(() => false);
    }
    if (exists) {
      Object.assign(state, await this.commitImage(state, key, { created_by: createdBy, empty_layer: true }, null));
      return;
    }
    const { layer } = await this.withRootfs(state, work, async (root) => {
      closeSync(root.mkdirp(dir, { owner: { uid: 0, gid: 0 }, mode: 0o755 }));
    });
    Object.assign(state, await this.commitImage(state, key, { created_by: createdBy }, layer));
  }

  private async runStep(state: StageState, ins: Instruction): Promise<void> {
    if (!state.imageId) throw parseError(ins.line, 'RUN in a scratch stage with nothing in it: there is no shell to run (COPY one in first)');
    const cfg = state.config.config ?? {};
    const argv = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.args];
    // ARGs reach RUN as environment; the history and the cache key show them as Docker does: "|N k=v … cmd"
    const env = envMap(cfg.Env);
    const argEnv = [...state.args].filter(([k]) => !env.has(k)).map(([k, v]) => `${k}=${v}`);
    const predefined = PREDEFINED_ARGS.filter((k) => this.buildArgs.get(k) && !state.args.has(k)).map((k) => `${k}=${this.buildArgs.get(k)}`);
    for (const k of PREDEFINED_ARGS) if (this.buildArgs.has(k)) this.usedArgs.add(k);
    const createdBy = (argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ` : '') + argv.join(' ');
    const key = this.cacheKey(state.imageId, createdBy);
    if (this.tryCache(state, key)) return;
    const containers = this.deps.containers;
    const config: ContainerConfig = {
      image: state.imageId,
      entrypoint: [],
      cmd: argv,
      env: [...(cfg.Env ?? []), ...argEnv, ...predefined],
      ...(cfg.User ? { user: cfg.User } : {}),
      ...(cfg.WorkingDir ? { workingDir: cfg.WorkingDir } : {}),
      // unset: the engine's default (bridge, or none for an engine without networking), as Docker's build
      ...(this.opts.network ? { network: this.opts.network } : {}),
      labels: { 'glassbox.build-step': 'true' },
      logConfig: { driver: 'none' },
    };
    const rec = await containers.create(config);
    this.say(` ---> Running in ${short(rec.id)}\n`);
    try {
      const attaching = containers.attach(rec.id);
      await containers.start(rec.id);
      const session: AttachSession = await attaching;
      const closed = new Promise<void>((resolve) => session.onClose(resolve));
      session.onStdout((d) => this.say(d.toString()));
      session.onStderr((d) => this.say(d.toString()));
      const r = await containers.wait(rec.id);
      await closed;
      if (r.exitCode !== 0) throw new BuildStepError(`The command '${argv.join(' ')}' returned a non-zero code: ${r.exitCode}`, r.exitCode);
      const done = containers.get(rec.id);
      const layer = await this.tarLayer(done.paths.upper, { uid: done.userns?.uidMap ?? done.config.uidMap, gid: done.userns?.gidMap ?? done.config.gidMap });
      Object.assign(state, await this.commitImage(state, key, { created_by: createdBy }, layer));
    } finally {
      await containers.remove(rec.id, { force: true }).catch(() => {});
      this.say(` ---> Removed intermediate container ${short(rec.id)}\n`);
    }
  }

  private async copyStep(state: StageState, ins: Instruction, vars: Map<string, string>, work: string): Promise<void> {
    const add = ins.keyword === 'ADD';
    const all = ins.json ? ins.json.map((w) => expandWord(w, vars, this.escape)) : expandWords(ins.args, vars, this.escape);
    const destRaw = all[all.length - 1];
    const srcs = all.slice(0, -1);
    for (const s of srcs) if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) throw parseError(ins.line, `ADD/COPY from a URL (${s}) is not supported by Glassbox's builder: there is no network to fetch from; put the file in the build context`);
    const cfg = state.config.config ?? {};
    const dest = posix.resolve(cfg.WorkingDir || '/', destRaw) + (destRaw.endsWith('/') || destRaw === '.' ? '/' : '');
    const chmod = ins.flags.chmod;
    if (chmod !== undefined && !/^[0-7]{3,4}$/.test(chmod)) throw parseError(ins.line, `${ins.keyword} --chmod: invalid mode "${chmod}" (octal, e.g. 0755)`);
    const from = ins.flags.from;
    const fromState = from !== undefined ? this.fromSource(from, ins) : null;
    const run = async (srcRoot: InRoot) => {
      const resolved = resolveSources(srcRoot, srcs, ins.keyword);
      try {
        const sum = checksumSources(resolved, !!fromState);
        const chown = ins.flags.chown ? `--chown=${ins.flags.chown} ` : '';
        const createdBy = `${(cfg.Shell ?? DEFAULT_SHELL).join(' ')} #(nop) ${ins.keyword} ${chown}${chmod ? `--chmod=${chmod} ` : ''}${resolved.length === 1 && !resolved[0].isDir ? 'file' : 'dir'}:${sum} in ${dest} `;
        const key = this.cacheKey(state.imageId, createdBy);
        if (this.tryCache(state, key)) return;
        const { layer } = await this.withRootfs(state, work, async (target, rootPath) => {
          const owner = ins.flags.chown ? chownOf(ins.flags.chown, rootPath, ins.line) : undefined;
          const meta = { owner, keepOwner: !!fromState, mode: chmod ? parseInt(chmod, 8) : undefined };
          const intoDir = dest.endsWith('/') || resolved.length > 1 || (target.lstat(dest)?.isDirectory() ?? false);
          if (resolved.length > 1 && !dest.endsWith('/')) throw parseError(ins.line, `When using ${ins.keyword} with more than one source file, the destination must be a directory and end with a /`);
          for (const src of resolved) {
            if (add && !fromState && looksLikeTar(src)) {
              await extractTar(openSourceStream(src), target, { base: dest, owner, what: `ADD ${src.path}` });
            } else if (src.isDir) {
              await copySource(src, target, dest, meta);
            } else {
              await copySource(src, target, intoDir ? posix.join(dest, src.base) : dest, meta);
            }
          }
        });
        Object.assign(state, await this.commitImage(state, key, { created_by: createdBy }, layer));
      } finally {
        closeSources(resolved as ResolvedSource[]);
      }
    };
    if (fromState) await this.withImageRoot(fromState, work, run);
    else await run(this.contextIn);
  }

  /** --from=NAME (a stage), --from=N (a stage's index) or --from=IMAGE (a local image). */
  private fromSource(from: string, ins: Instruction): StageState {
    const byName = this.stages.get(from.toLowerCase());
    if (byName) return byName;
    if (/^\d+$/.test(from)) {
      const s = this.stageList[Number(from)];
      if (!s) throw parseError(ins.line, `COPY --from=${from}: there is no earlier stage ${from}`);
      return s;
    }
    try {
      const img = this.store.resolve(from);
      return { imageId: img.id, manifest: img.manifest as unknown as ManifestJson, config: img.config as ImageConfig, args: new Map(), cmdSet: false, name: null };
    } catch {
      throw parseError(ins.line, `COPY --from=${from}: no stage of that name before this one, and no such local image`);
    }
  }
}
