// The builder's types: what a build is asked (BuildOptions), what it reports (BuildEvent), what it
// needs from the engine (BuildDeps), and the state of one stage as the steps go.
import type { EngineApi } from '../api.js';
import type { StoreContent } from '../images/content.js';
import type { ManifestJson } from '../images/registry/media.js';
import type { OciImageConfig } from '../images/store.js';
import { EngineError } from '../types.js';

export interface BuildOptions {
  /** the Dockerfile's path inside the context (default "Dockerfile") */
  dockerfile?: string;
  /** -t, each "name[:tag]" */
  tags?: string[];
  /** --build-arg NAME=value (null: take it from... nothing here: unset) */
  buildArgs?: Record<string, string | null>;
  /** --target: build up to this stage */
  target?: string;
  /** --no-cache: run every step (the results still go into the cache) */
  noCache?: boolean;
  /** --label: set on the image built */
  labels?: Record<string, string>;
  /** the RUN containers' network (default: the engine's default, bridge, as Docker's) */
  network?: string;
}

/** What a build reports as it goes: Docker's JSON stream is made from these. */
export type BuildEvent = { type: 'stream'; text: string } | { type: 'aux'; id: string };

export interface BuildResult {
  id: string;
  tags: string[];
}

/** A step that failed as Docker reports it (a RUN's exit code goes in errorDetail.code). */
export class BuildStepError extends EngineError {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super('invalid', message);
    this.name = 'BuildStepError';
  }
}

/** How the builder runs RUN containers: the engine itself, or a learner's view of it (their policy). */
export type BuildContainers = Pick<EngineApi, 'create' | 'start' | 'attach' | 'wait' | 'remove' | 'get'>;

export interface BuildDeps {
  content: StoreContent;
  containers: BuildContainers;
  /** point a reference at the built image (emits the engine's tag event) */
  tag: (imageId: string, ref: string) => void;
  /** a learner's builds share the cache only with the same learner */
  cacheScope?: string;
}

/** The config fields a Dockerfile sets (Docker's container.Config subset an image carries). */
export interface RunConfig {
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  Shell?: string[];
  OnBuild?: string[] | null;
}

export type ImageConfig = OciImageConfig & { config?: RunConfig; author?: string };

/** One stage's image so far (null id: scratch, nothing yet). */
export interface StageState {
  imageId: string | null;
  manifest: ManifestJson | null;
  config: ImageConfig;
  /** ARGs declared in this stage and their values */
  args: Map<string, string>;
  cmdSet: boolean;
  name: string | null;
}
