import { describe, expect, it } from 'vitest';
import { storeRefFor } from '../../server/engine/images/pull.js';
import { dockerProgressMessage } from '../../server/api/docker/pull-progress.js';
import { parseReference } from '../../server/engine/images/reference.js';
import { parseWwwAuthenticate } from '../../server/engine/images/registry/auth.js';
import { RegistryClient, RegistryError } from '../../server/engine/images/registry/client.js';
import { detectCompression } from '../../server/engine/images/compression.js';
import { hostPlatform, pickPlatform, type IndexJson } from '../../server/engine/images/registry/media.js';

describe('WWW-Authenticate', () => {
  it("parses Docker Hub's Bearer challenge", () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });
  it('parses unquoted values, escapes, spaces and several challenges', () => {
    expect(parseWwwAuthenticate('Basic realm="a \\"b\\"", Bearer realm=https://x/t , service = reg,scope="repository:a/b:pull,push"')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', service: 'reg', scope: 'repository:a/b:pull,push' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});

describe('platforms', () => {
  const index: IndexJson = {
    schemaVersion: 2,
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:arm7', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:arm64', size: 1, platform: { os: 'linux', architecture: 'arm64' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:amd64', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:att', size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
    ],
  };
  it('picks the host platform, arm64 as v8, and none when absent', () => {
    expect(hostPlatform()).toMatchObject({ os: 'linux' });
    expect(pickPlatform(index, { os: 'linux', architecture: 'amd64' })?.digest).toBe('sha256:amd64');
    expect(pickPlatform(index, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest).toBe('sha256:arm64');
    expect(pickPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest).toBe('sha256:arm7');
    expect(pickPlatform(index, { os: 'linux', architecture: 's390x' })).toBeNull();
    expect(pickPlatform(index, { os: 'windows', architecture: 'amd64' })).toBeNull();
  });
});

describe('pull helpers', () => {
  it('names a pull in the store', () => {
    expect(storeRefFor(parseReference('busybox'), 'sha256:' + 'b'.repeat(64))).toBe('busybox:latest');
    expect(storeRefFor(parseReference('localhost:5000/a/b:1'), 'sha256:' + 'b'.repeat(64))).toBe('localhost:5000/a/b:1');
    expect(storeRefFor(parseReference(`x@sha256:${'c'.repeat(64)}`), 'sha256:' + 'b'.repeat(64))).toBe('x:digest-cccccccccccc');
  });
  it('speaks docker progress JSON', () => {
    expect(dockerProgressMessage({ type: 'layer', digest: 'sha256:x', id: 'abc', status: 'downloading', current: 5, total: 10 })).toEqual({ status: 'Downloading', id: 'abc', progressDetail: { current: 5, total: 10 } });
    expect(dockerProgressMessage({ type: 'layer', digest: 'sha256:x', id: 'abc', status: 'exists', current: 10, total: 10 })).toEqual({ status: 'Already exists', id: 'abc', progressDetail: {} });
    expect(dockerProgressMessage({ type: 'status', message: 'Pulling from library/busybox' })).toEqual({ status: 'Pulling from library/busybox' });
  });
  it('registry errors carry the kind docker answers by: denied is "not found", a broken answer internal', () => {
    expect(new RegistryError('denied', 401).kind).toBe('not-found');
    expect(new RegistryError('bad', 502).kind).toBe('internal');
  });
  it('http only for loopback and insecure registries', () => {
    const c = new RegistryClient({ insecureRegistries: ['reg.lan:5000'] });
    expect(c.allowHttp(new URL('http://127.0.0.2/'))).toBe(true);
    expect(c.allowHttp(new URL('http://[::1]:5000/'))).toBe(true);
    expect(c.allowHttp(new URL('http://reg.lan:5000/'))).toBe(true);
    expect(c.allowHttp(new URL('http://reg.lan:5001/'))).toBe(false);
    expect(c.allowHttp(new URL('http://example.com/'))).toBe(false);
  });
  it('tells compression by magic', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from('ustar'))).toBe('none');
  });
});
