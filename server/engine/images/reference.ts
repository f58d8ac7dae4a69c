// Image references the way Docker reads them (distribution/reference's grammar):
//
//   busybox                         → docker.io/library/busybox:latest
//   user/app:1.0                    → docker.io/user/app:1.0
//   localhost:5000/x/y:tag          → registry localhost:5000, repository x/y
//   127.0.0.1:5000/x@sha256:<hex>   → a digest instead of (or with) a tag
//
// The first component names a registry only when it looks like a host: it has a "." or a ":" or
// is "localhost" (otherwise "user/app" would be a host called "user"). Docker Hub's API lives at
// registry-1.docker.io; its official images sit under "library/".
import { InvalidArgument } from '../types.js';

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API = 'registry-1.docker.io';

export interface ImageReference {
  /** host[:port], "docker.io" for Docker Hub */
  registry: string;
  /** path inside the registry, "library/busybox" for an official image */
  repository: string;
  /** "latest" when neither a tag nor a digest was given */
  tag?: string;
  /** "sha256:<hex>" */
  digest?: string;
}

// one path component: lowercase alphanumerics separated by ".", "_", "__" or runs of "-"
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME = 255;

function bad(ref: string, why: string): never {
  throw new InvalidArgument(`invalid reference format: "${ref}" (${why})`);
}

/** Parse and normalise; a reference with neither tag nor digest gets ":latest". */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): ImageReference {
  const ref = input.trim();
  if (ref === '') bad(input, 'empty');
  if (ref !== ref.trim() || /\s/.test(ref)) bad(input, 'whitespace');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) bad(input, 'bad digest');
    if (digest.startsWith('sha256:') && !/^sha256:[0-9a-f]{64}$/.test(digest)) bad(input, 'a sha256 digest has 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) bad(input, 'bad tag');
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN_RE.test(first)) bad(input, 'bad registry host');
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!PATH_RE.test(repository)) bad(input, repository.toLowerCase() === repository ? 'bad repository name' : 'repository name must be lowercase');
  if (`${registry}/${repository}`.length > MAX_NAME) bad(input, `name longer than ${MAX_NAME} characters`);
  if (!tag && !digest && opts.defaultTag !== false) tag = 'latest';
  return { registry, repository, tag, digest };
}

/** The fully qualified form: docker.io/library/busybox:latest, …@sha256:… */
export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The name as docker shows it: "busybox", "user/app", "localhost:5000/x/y". */
export function familiarName(r: Pick<ImageReference, 'registry' | 'repository'>): string {
  if (r.registry !== DOCKER_HUB) return `${r.registry}/${r.repository}`;
  return r.repository.startsWith('library/') ? r.repository.slice('library/'.length) : r.repository;
}

/** "busybox:latest", "user/app@sha256:…": what `docker images` and the content store use. */
export function familiarString(r: ImageReference): string {
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Where the registry's HTTP API is: Docker Hub's name is not its API host. */
export function registryHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** What to ask the registry for: the digest when there is one (it pins the content), else the tag. */
export function manifestReference(r: ImageReference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** Is this registry host on loopback (127.0.0.0/8, ::1, localhost)? Docker allows plain http there. */
export function isLoopbackRegistry(registry: string): boolean {
  let host = registry;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else host = host.replace(/:[0-9]+$/, '');
  if (host === 'localhost' || host === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return !!m && m.slice(1).every((o) => Number(o) <= 255);
}
