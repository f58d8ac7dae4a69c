import { describe, expect, it } from 'vitest';
import { familiarString, formatReference, isLoopbackRegistry, manifestReference, parseReference, registryHost } from '../../server/engine/images/reference.js';

const HEX = 'a'.repeat(64);

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app:1.0', 'docker.io/user/app:1.0', 'user/app:1.0'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/x/y:tag', 'localhost:5000/x/y:tag', 'localhost:5000/x/y:tag'],
    ['127.0.0.1:5000/a-b/c_d__e.f:v1.2-rc', '127.0.0.1:5000/a-b/c_d__e.f:v1.2-rc', '127.0.0.1:5000/a-b/c_d__e.f:v1.2-rc'],
    ['ghcr.io/org/img', 'ghcr.io/org/img:latest', 'ghcr.io/org/img:latest'],
    [`busybox@sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`, `busybox@sha256:${HEX}`],
    [`busybox:1@sha256:${HEX}`, `docker.io/library/busybox:1@sha256:${HEX}`, `busybox:1@sha256:${HEX}`],
    [`localhost:5000/x@sha256:${HEX}`, `localhost:5000/x@sha256:${HEX}`, `localhost:5000/x@sha256:${HEX}`],
  ])('%s', (input, full, familiar) => {
    const r = parseReference(input);
    expect(formatReference(r)).toBe(full);
    expect(familiarString(r)).toBe(familiar);
  });

  it('splits registry, repository, tag and digest', () => {
    expect(parseReference('localhost:5000/x/y:tag')).toEqual({ registry: 'localhost:5000', repository: 'x/y', tag: 'tag', digest: undefined });
    expect(parseReference(`x@sha256:${HEX}`)).toEqual({ registry: 'docker.io', repository: 'library/x', tag: undefined, digest: `sha256:${HEX}` });
    expect(manifestReference(parseReference(`x:1@sha256:${HEX}`))).toBe(`sha256:${HEX}`);
    expect(manifestReference(parseReference('x:1'))).toBe('1');
    expect(parseReference('x', { defaultTag: false }).tag).toBeUndefined();
  });

  it.each(['', 'Busybox', 'busybox:', 'busybox:-x', 'a//b', '/a', 'a/', 'busybox@sha256:abc', `busybox@sha256:${'A'.repeat(64)}`, 'bad host!/x', 'a b', `x:${'t'.repeat(129)}`, 'a..b', '-a', `${'a'.repeat(250)}/b`])('rejects %j', (input) => {
    expect(() => parseReference(input)).toThrow(/invalid reference format/);
  });

  it('knows Docker Hub’s API host and loopback registries', () => {
    expect(registryHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    for (const h of ['127.0.0.1:5000', '127.1.2.3', 'localhost', 'localhost:80', '[::1]:5000']) expect(isLoopbackRegistry(h)).toBe(true);
    for (const h of ['128.0.0.1:5000', '127.0.0.256', 'example.com', 'localhost.example.com', '10.0.0.1:5000', '127.0.0.1.nip.io']) expect(isLoopbackRegistry(h)).toBe(false);
  });
});
