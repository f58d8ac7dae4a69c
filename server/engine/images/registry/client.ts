// A client of the OCI distribution spec (what `docker pull` speaks):
//   GET /v2/                                  is this a registry? which auth does it want?
//   GET /v2/<name>/manifests/<tag|digest>     an index (pick a platform) or an image manifest
//   GET /v2/<name>/blobs/<digest>             config and layers, often redirected to storage
// Every manifest is checked against Docker-Content-Digest and its own sha256; every blob is
// streamed to a file and checked for size and digest before anyone uses it.
import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError, InvalidArgument, NotFound } from '../../types.js';
import { isLoopbackRegistry, registryHost, type ImageReference } from '../reference.js';
import { basicHeader, parseWwwAuthenticate, type Challenge, type Credentials } from './auth.js';
import { HttpError, readBody, request, type HttpResponse } from './http.js';
import { hostPlatform, isIndex, isManifest, MANIFEST_ACCEPT, MT, pickPlatform, platformString, type Descriptor, type IndexJson, type ManifestJson, type Platform } from './media.js';

export interface RegistryClientOptions {
  /** registries (host or host:port) that may use plain http although not on loopback */
  insecureRegistries?: string[];
  /** credentials by registry name as references spell it ("docker.io", "127.0.0.1:5000") */
  credentials?: Record<string, Credentials>;
  /** default: the host's (linux/amd64 here) */
  platform?: Platform;
  timeoutMs?: number;
  /** extra CA certificates for https registries */
  ca?: string | Buffer;
}

/**
 * A registry said no: 401/403 (auth), or it answered something broken. httpStatus is the
 * registry's; the kind is what Docker's daemon answers its own client: not found for "pull access
 * denied" (it cannot tell a private repository from a missing one), internal for the rest.
 */
export class RegistryError extends EngineError {
  constructor(
    message: string,
    readonly httpStatus: number,
  ) {
    super(httpStatus === 401 || httpStatus === 403 || httpStatus === 404 ? 'not-found' : 'internal', message);
    this.name = 'RegistryError';
  }
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
}

export interface ResolvedRemoteImage {
  /** the digest the tag points at: an index's when the image came through one */
  topDigest: string;
  index?: FetchedManifest;
  manifest: FetchedManifest & { json: ManifestJson };
  config: { digest: string; body: Buffer };
  platform: Platform;
}

export type BlobProgress = (bytes: number, total: number) => void;

const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_CONFIG = 16 * 1024 * 1024;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export const sha256 = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** Docker's registry errors: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]} */
async function errorText(res: HttpResponse): Promise<string> {
  try {
    const body = (await readBody(res, 64 * 1024)).toString();
    const j = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    if (j.errors?.length) return j.errors.map((e) => `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`.trim()).join('; ');
    return body.slice(0, 200);
  } catch {
    return '';
  }
}

export class RegistryClient {
  private readonly insecure: Set<string>;
  private readonly schemes = new Map<string, 'https' | 'http'>();
  private readonly tokens = new Map<string, { header: string; expires: number }>();
  readonly platform: Platform;

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.insecure = new Set(opts.insecureRegistries ?? []);
    this.platform = opts.platform ?? hostPlatform();
  }

  /** Plain http: loopback registries (as Docker allows) and those configured as insecure. */
  readonly allowHttp = (url: URL): boolean => isLoopbackRegistry(url.host) || this.insecure.has(url.host) || this.insecure.has(url.hostname);

  private http(url: URL, headers: Record<string, string>, authOrigin?: string, method: 'GET' | 'HEAD' = 'GET'): Promise<HttpResponse> {
    return request(url, { method, headers, authOrigin, allowHttp: this.allowHttp, timeoutMs: this.opts.timeoutMs, ca: this.opts.ca });
  }

  /**
   * The registry's base URL. https always first; a loopback or insecure registry that does not
   * speak TLS falls back to http (Docker does the same).
   */
  async base(registry: string): Promise<URL> {
    const host = registryHost(registry);
    const known = this.schemes.get(host);
    if (known) return new URL(`${known}://${host}/`);
    await this.ping(registry);
    return new URL(`${this.schemes.get(host)}://${host}/`);
  }

  /** GET /v2/: 200 (open) or 401 (auth wanted) both mean a registry. Returns the challenges. */
  async ping(registry: string): Promise<{ url: string; status: number; challenges: Challenge[] }> {
    const host = registryHost(registry);
    const http = this.allowHttp(new URL(`http://${host}/`));
    const schemes: ('https' | 'http')[] = http ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}://${host}/v2/`);
      let res: HttpResponse;
      try {
        res = await this.http(url, {});
      } catch (e) {
        lastError = e;
        continue;
      }
      res.body.resume();
      if (res.status === 200 || res.status === 401) {
        this.schemes.set(host, scheme);
        return { url: url.href, status: res.status, challenges: parseWwwAuthenticate(String(res.headers['www-authenticate'] ?? '')) };
      }
      lastError = new RegistryError(`${host} is not a registry: GET /v2/ answered ${res.status}`, res.status);
    }
    const msg = lastError instanceof Error ? lastError.message : String(lastError);
    throw new RegistryError(`cannot reach registry ${host}: ${msg}`, 0);
  }

  private async token(registry: string, ch: Challenge, scope: string): Promise<{ header: string; expires: number }> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError(`${registry}: Bearer challenge without a realm`, 401);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of (ch.params.scope ?? scope).split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const creds = this.opts.credentials?.[registry];
    const res = await this.http(url, creds ? { Authorization: basicHeader(creds) } : {}, creds ? url.origin : undefined);
    if (res.status !== 200) {
      const detail = await errorText(res);
      throw new RegistryError(`${registry}: token server ${url.host} refused (${res.status}${detail ? `: ${detail}` : ''})${creds ? '' : ' — no credentials configured'}`, res.status === 401 || res.status === 403 ? res.status : 401);
    }
    const j = JSON.parse((await readBody(res, 1024 * 1024)).toString()) as { token?: string; access_token?: string; expires_in?: number };
    const tok = j.token ?? j.access_token;
    if (!tok) throw new RegistryError(`${registry}: token server answered without a token`, 401);
    const life = Math.max(30, Number(j.expires_in) || 60);
    return { header: `Bearer ${tok}`, expires: Date.now() + (life - 10) * 1000 };
  }

  /** A GET on the registry's API for one repository, with auth done on a 401 and cached. */
  private async call(ref: ImageReference, path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): Promise<HttpResponse> {
    const base = await this.base(ref.registry);
    const url = new URL(`/v2/${ref.repository}/${path}`, base);
    const scope = `repository:${ref.repository}:pull`;
    const key = `${ref.registry} ${scope}`;
    const cached = this.tokens.get(key);
    const auth = cached && cached.expires > Date.now() ? cached.header : undefined;
    let res = await this.http(url, { ...headers, ...(auth ? { Authorization: auth } : {}) }, base.origin, method);
    if (res.status !== 401) return res;
    const challenges = parseWwwAuthenticate(String(res.headers['www-authenticate'] ?? ''));
    res.body.resume();
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    const creds = this.opts.credentials?.[ref.registry];
    let fresh: { header: string; expires: number };
    if (bearer) fresh = await this.token(ref.registry, bearer, scope);
    else if (basic && creds) fresh = { header: basicHeader(creds), expires: Number.MAX_SAFE_INTEGER };
    else throw new RegistryError(`pull access denied for ${ref.registry}/${ref.repository}: authentication required${creds ? '' : ' and no credentials are configured'}`, 401);
    this.tokens.set(key, fresh);
    res = await this.http(url, { ...headers, Authorization: fresh.header }, base.origin, method);
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      throw new RegistryError(`pull access denied for ${ref.registry}/${ref.repository}: the registry refused the credentials`, res.status);
    }
    return res;
  }

  /** One manifest (or index) by tag or digest, verified. */
  async getManifest(ref: ImageReference, reference: string): Promise<FetchedManifest> {
    const res = await this.call(ref, `manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) throw new NotFound(`manifest for ${ref.registry}/${ref.repository}:${reference} not found: ${(await errorText(res)) || 'manifest unknown'}`);
    if (res.status !== 200) throw new RegistryError(`${ref.registry}: manifest ${reference}: ${res.status} ${await errorText(res)}`, res.status);
    const body = await readBody(res, MAX_MANIFEST);
    const digest = sha256(body);
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new RegistryError(`manifest ${reference} from ${ref.registry}: Docker-Content-Digest says ${header} but the content has digest ${digest}`, 502);
    }
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new RegistryError(`manifest ${reference} from ${ref.registry} has digest ${digest}: not what was asked for`, 502);
    }
    let json: { mediaType?: string; schemaVersion?: number };
    try {
      json = JSON.parse(body.toString()) as typeof json;
    } catch {
      throw new RegistryError(`manifest ${reference} from ${ref.registry} is not JSON`, 502);
    }
    const ctype = String(res.headers['content-type'] ?? '').split(';')[0].trim();
    const mediaType = json.mediaType ?? ctype;
    if (json.schemaVersion === 1 || mediaType === MT.dockerSchema1 || mediaType === MT.dockerSchema1Signed) {
      throw new InvalidArgument(`${ref.registry}/${ref.repository}:${reference} is a Docker schema 1 manifest, which is deprecated and not supported`);
    }
    return { digest, mediaType: mediaType || (('manifests' in json) ? MT.ociIndex : MT.ociManifest), body };
  }

  /** Tag or digest → the image manifest for our platform, with its config. */
  async resolve(ref: ImageReference): Promise<ResolvedRemoteImage> {
    const top = await this.getManifest(ref, ref.digest ?? ref.tag ?? 'latest');
    let manifest = top;
    let index: FetchedManifest | undefined;
    let platform = this.platform;
    for (let depth = 0; isIndex(manifest.mediaType) || (!isManifest(manifest.mediaType) && 'manifests' in JSON.parse(manifest.body.toString())); depth++) {
      if (depth > 2) throw new InvalidArgument('indexes nested too deep');
      index = manifest;
      const idx = JSON.parse(manifest.body.toString()) as IndexJson;
      const pick = pickPlatform(idx, this.platform);
      if (!pick) {
        const have = idx.manifests.filter((m) => m.platform).map((m) => platformString(m.platform!));
        throw new NotFound(`no matching manifest for ${platformString(this.platform)} in the manifest list entries (${have.join(', ') || 'none'})`);
      }
      if (!DIGEST_RE.test(pick.digest)) throw new InvalidArgument(`unsupported digest ${pick.digest}`);
      platform = pick.platform!;
      manifest = await this.getManifest(ref, pick.digest);
    }
    if (!isManifest(manifest.mediaType)) throw new InvalidArgument(`unsupported manifest media type "${manifest.mediaType}"`);
    const json = JSON.parse(manifest.body.toString()) as ManifestJson;
    if (!json.config || !Array.isArray(json.layers)) throw new InvalidArgument('manifest without config or layers');
    for (const d of [json.config, ...json.layers]) {
      if (!DIGEST_RE.test(d.digest)) throw new InvalidArgument(`unsupported digest ${d.digest}`);
      if (!Number.isSafeInteger(d.size) || d.size < 0) throw new InvalidArgument(`bad size for ${d.digest}`);
    }
    if (json.config.size > MAX_CONFIG) throw new InvalidArgument(`image config of ${json.config.size} bytes is too large`);
    const config = await this.getBlobBuffer(ref, json.config);
    return { topDigest: top.digest, index, manifest: { ...manifest, json }, config: { digest: json.config.digest, body: config }, platform };
  }

  private async openBlob(ref: ImageReference, d: Descriptor): Promise<HttpResponse> {
    const res = await this.call(ref, `blobs/${d.digest}`);
    if (res.status === 404) throw new NotFound(`blob ${d.digest} not found in ${ref.registry}/${ref.repository}: ${(await errorText(res)) || 'blob unknown'}`);
    if (res.status !== 200) throw new RegistryError(`${ref.registry}: blob ${d.digest}: ${res.status} ${await errorText(res)}`, res.status);
    return res;
  }

  /** A small blob (a config) in memory, verified. */
  async getBlobBuffer(ref: ImageReference, d: Descriptor): Promise<Buffer> {
    const body = await readBody(await this.openBlob(ref, d), d.size);
    if (body.length !== d.size || sha256(body) !== d.digest) throw new RegistryError(`blob ${d.digest}: got ${body.length} bytes with digest ${sha256(body)}`, 502);
    return body;
  }

  /** A blob streamed to `dest`, refused as soon as it is longer than declared; checked at the end. */
  async fetchBlob(ref: ImageReference, d: Descriptor, dest: string, onProgress?: BlobProgress): Promise<void> {
    const res = await this.openBlob(ref, d);
    const hash = createHash('sha256');
    let bytes = 0;
    let lastReport = 0;
    const check = new Transform({
      transform(chunk: Buffer, _e, cb: TransformCallback) {
        bytes += chunk.length;
        if (bytes > d.size) return cb(new RegistryError(`blob ${d.digest} is longer than the ${d.size} bytes its descriptor says`, 502));
        hash.update(chunk);
        const now = Date.now();
        if (onProgress && (now - lastReport > 100 || bytes === d.size)) {
          lastReport = now;
          onProgress(bytes, d.size);
        }
        cb(null, chunk);
      },
    });
    try {
      await pipeline(res.body, check, createWriteStream(dest, { flags: 'wx', mode: 0o600 }));
      const got = 'sha256:' + hash.digest('hex');
      if (bytes !== d.size) throw new RegistryError(`blob ${d.digest}: ${bytes} bytes received, ${d.size} expected`, 502);
      if (got !== d.digest) throw new RegistryError(`blob ${d.digest}: content has digest ${got}`, 502);
    } catch (e) {
      rmSync(dest, { force: true });
      if (e instanceof HttpError) throw new RegistryError(e.message, e.status || 502);
      throw e;
    }
  }
}
