// The pure parts of the web hardening (issue #11 part 5 and "Also"): the write gate's rules, the
// percent-encoding check, the 128-character name cap, the runtime check and the privilege texts.
// The attacks themselves run in Chromium in test/security/web-csrf.test.ts.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseCreateBody, toContainerConfig } from '../../server/api/docker/create-config.js';
import { contentSecurityPolicy } from '../../server/api/rest/security-headers.js';
import { wellEncoded } from '../../server/api/rest/server.js';
import { refuseCrossSiteWrite } from '../../server/api/rest/write-guard.js';
import { apiAuthorized, pageAuthorized, pageCookie, pageKey } from '../../server/api/rest/auth.js';
import { MAX_NAME_LENGTH, validateConfig, validateName } from '../../server/engine/containers/validate.js';
import { privilegeRisks } from '../../common/privilege-risks.js';

const req = (method: string, headers: Record<string, string>) => ({ method, headers: { host: '127.0.0.1:3000', ...headers } }) as unknown as IncomingMessage;
const json = { 'content-type': 'application/json' };
const self = { origin: 'http://127.0.0.1:3000' };

describe('the write gate', () => {
  it('lets reads through whatever they carry', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS']) expect(refuseCrossSiteWrite(req(m, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }))).toBeNull();
  });
  it('takes JSON from this origin, and from a Bearer client without Origin', () => {
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(refuseCrossSiteWrite(req(m, { ...self, ...json, 'sec-fetch-site': 'same-origin' }))).toBeNull();
      expect(refuseCrossSiteWrite(req(m, { ...json, 'content-type': 'Application/JSON; charset=utf-8', authorization: 'Bearer x' }))).toBeNull();
    }
  });
  it('refuses another origin, a null origin, a same-site fetch, a cookie-only client and non-JSON', () => {
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ ...json, origin: 'http://127.0.0.1:8080' }, 403, /Origin http:\/\/127.0.0.1:8080 is not this server \(127.0.0.1:3000\)/],
      [{ ...json, origin: 'null' }, 403, /Origin null/],
      [{ ...json, ...self, 'sec-fetch-site': 'same-site' }, 403, /same-site/],
      [{ ...json, ...self, 'sec-fetch-site': 'cross-site' }, 403, /cross-site/],
      [{ ...json, cookie: 'glassbox_token=x' }, 403, /without Origin must send the token as "Authorization: Bearer/],
      [{ ...self, 'content-type': 'text/plain' }, 415, /not text\/plain/],
      [{ ...self, 'content-type': 'application/json-seq' }, 415, /not application\/json-seq/],
      [{ ...self }, 415, /no Content-Type/],
    ];
    for (const [h, status, msg] of cases) {
      const r = refuseCrossSiteWrite(req('POST', h));
      expect(r?.status, JSON.stringify(h)).toBe(status);
      expect(r?.error).toMatch(msg);
    }
  });
  it('has a CSP without unsafe scripts, with the nonce, and no framing', () => {
    const csp = contentSecurityPolicy('abc123');
    expect(csp).toContain("script-src 'self' 'nonce-abc123'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
  });
  it('spots a broken percent-encoding', () => {
    expect(wellEncoded('/api/containers/%E0%A4%A')).toBe(false);
    expect(wellEncoded('/api/containers/%ZZ')).toBe(false);
    expect(wellEncoded('/api/containers/a%20b')).toBe(true);
  });
});

describe('the two credentials', () => {
  const T = 'the-real-token-0123456789abcdef';
  const r = (url: string, headers: Record<string, string>) => ({ url, headers }) as unknown as IncomingMessage;
  it('the page cookie is derived from the token, is not it, and opens pages only', () => {
    const key = pageKey(T);
    expect(key).not.toContain(T);
    expect(pageCookie(T)).toBe(`glassbox_page=${key}; Path=/; HttpOnly; SameSite=Strict`);
    expect(pageAuthorized(r('/', { cookie: `glassbox_page=${key}` }), T)).toBe(true);
    expect(apiAuthorized(r('/api/containers', { cookie: `glassbox_page=${key}` }), T)).toBe(false);
    expect(apiAuthorized(r('/api/containers', { cookie: `glassbox_token=${T}` }), T)).toBe(false);
    expect(apiAuthorized(r('/api/containers', { authorization: `Bearer ${key}` }), T)).toBe(false);
  });
  it('the API takes the token as Bearer or ?token=, a stale one not hiding a right one', () => {
    expect(apiAuthorized(r('/api/x', { authorization: `Bearer ${T}` }), T)).toBe(true);
    expect(apiAuthorized(r(`/api/x?token=${T}`, {}), T)).toBe(true);
    expect(apiAuthorized(r(`/api/x?token=${T}`, { authorization: 'Bearer old' }), T)).toBe(true);
    expect(apiAuthorized(r('/api/x?token=old', { authorization: `Bearer ${T}` }), T)).toBe(true);
    expect(apiAuthorized(r('/api/x?token=old', { authorization: 'Bearer older' }), T)).toBe(false);
  });
});

describe('container names', () => {
  it('takes 128 characters and refuses 129, with or without the leading slash', () => {
    expect(MAX_NAME_LENGTH).toBe(128);
    expect(validateName('a'.repeat(128))).toBe('a'.repeat(128));
    expect(validateName('/' + 'a'.repeat(128))).toBe('a'.repeat(128));
    expect(() => validateName('a'.repeat(129))).toThrow(/at most 128 characters, this one has 129/);
    expect(() => validateConfig({ image: 'base', name: 'x'.repeat(5000) })).toThrow(/at most 128 characters, this one has 5000/);
  });
});

describe('runtimes', () => {
  it('the engine refuses a runtime it does not have, naming what it has', () => {
    for (const rt of ['builtin', 'runc', 'crun', 'runsc', 'uml']) expect(validateConfig({ image: 'base', runtime: rt }).runtime).toBe(rt);
    for (const rt of ['kata', 'firecracker', 'constructor', '__proto__', 'toString']) {
      expect(() => validateConfig({ image: 'base', runtime: rt })).toThrow(`unknown or invalid runtime name: "${rt}": this engine has builtin, runc, crun, runsc, uml`);
    }
  });
  it('the Docker adapter hands HostConfig.Runtime to the engine (no silent drop); none means the default', () => {
    expect(toContainerConfig(parseCreateBody({ Image: 'base', HostConfig: { Runtime: 'runc' } }), undefined).runtime).toBe('runc');
    expect(toContainerConfig(parseCreateBody({ Image: 'base', HostConfig: { Runtime: '' } }), undefined).runtime).toBeUndefined();
  });
});

describe('privilege texts', () => {
  it('names --privileged, SYS_ADMIN (however spelled) and ALL, and nothing for ordinary options', () => {
    expect(privilegeRisks({ privileged: true }).map((r) => r.option)).toEqual(['--privileged']);
    for (const c of ['SYS_ADMIN', 'sys_admin', 'CAP_SYS_ADMIN']) expect(privilegeRisks({ capAdd: [c] }).map((r) => r.option)).toEqual(['--cap-add SYS_ADMIN']);
    expect(privilegeRisks({ capDrop: ['ALL'], capAdd: ['SYS_ADMIN'] }).map((r) => r.option)).toEqual(['--cap-add SYS_ADMIN']);
    expect(privilegeRisks({ capAdd: ['ALL'] }).map((r) => r.option)).toEqual(['--cap-add ALL']);
    expect(privilegeRisks({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] })).toEqual([]);
    expect(privilegeRisks({ capAdd: ['NET_ADMIN'] })).toEqual([]);
    expect(privilegeRisks({})).toEqual([]);
    const text = privilegeRisks({ privileged: true })[0].givesAway.join(' ');
    for (const s of ['all capabilities', 'every host device', 'no seccomp', '/proc/sys is writable']) expect(text).toContain(s);
  });
});
