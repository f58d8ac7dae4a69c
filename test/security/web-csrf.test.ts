// Issue #11 part 5: the web API driven from another page. A learner's container publishes a port on
// 127.0.0.1 and serves a hostile page (web-csrf-page.ts); the teacher's Chromium, holding the
// dashboard's cookie, opens it. The page tries to create a privileged container with a host bind
// mount, kill a container, change a memory limit (REST and the diagram's route), remove a
// container, pull an image, and open the terminal channel over socket.io. None may take effect:
// the engine's list, limits and images stay as they were and the canary directory is mounted
// nowhere. The browser's cookie is only a page key (the API wants the token itself), so the writes
// are 401s; a second pass gives the page the token as ?token= and the write gate (JSON + same
// Origin) must refuse every one (403/415, logged by the server). The learner's server really
// receives the cookie (a CGI script shows it): with it, the API and socket.io still say no.
// Also: the security headers, the ?token= redirect, CSP in the working dashboard (no
// violations), bad percent-encoding, name lengths.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { socketRequest } from '../e2e/docker-support.js';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, browser, freePort, readCgroupMemoryLimit, stopAll, startServer, waitForPrompt, type RunningServer } from '../e2e/dashboard-support';
import { ATTACKER_PAGE } from './web-csrf-page';

const MiB = 1024 * 1024;
/** busybox httpd runs it for /cgi-bin/cookie: shows the Cookie header the learner's server got */
const COOKIE_CGI = '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s" "$HTTP_COOKIE"\n';

interface Rec {
  id: string;
  name: string;
  state: { status: string; pid: number };
  limits: { memory: number | null };
  paths: { cgroups: Record<string, string> };
  config: { mounts?: { source?: string }[] };
}

let srv: RunningServer;
let b: Awaited<ReturnType<typeof browser>>;
let page: Page;
let victim: Rec;
let attackerPort = 0;
let canary = '';

/** A request on the Docker API's unix socket. */
function docker(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return socketRequest(join(srv.run, 'docker.sock'), method, path, body === undefined ? undefined : JSON.stringify(body));
}

async function engineState() {
  const list = (await api<{ id: string; name: string; status: string }[]>(srv, '/api/containers?all=1')).body;
  const images = (await api<{ id: string; repoTags: string[] }[]>(srv, '/api/images')).body;
  const v = (await api<Rec>(srv, `/api/containers/${victim.id}`)).body;
  return {
    containers: list.map((c) => `${c.id} ${c.name} ${c.status}`).sort(),
    images: images.map((i) => `${i.id} ${i.repoTags.join(',')}`).sort(),
    victimPid: v.state.pid,
    victimMemory: v.limits.memory,
    victimCgroupMemory: readCgroupMemoryLimit(v.paths.cgroups).value,
  };
}

beforeAll(async () => {
  canary = mkdtempSync('/tmp/csrf-canary-');
  writeFileSync(join(canary, 'secret'), 'host secret\n');
  srv = await startServer();
  const created = await api<Rec>(srv, '/api/containers', { body: { image: 'base', name: 'victim', cmd: ['sleep', '3600'], limits: { memory: 64 * MiB } } });
  expect(created.status).toBe(201);
  victim = created.body;
  attackerPort = await freePort();
  // the learner's container: busybox httpd serving the page on a port published on 127.0.0.1
  const learner = await api<Rec>(srv, '/api/containers', {
    body: {
      image: 'base',
      name: 'learner-site',
      env: [`PAGE=${ATTACKER_PAGE}`, `CGI=${COOKIE_CGI}`],
      cmd: ['sh', '-c', 'mkdir -p /www/cgi-bin && printf "%s" "$PAGE" > /www/index.html && printf "%s" "$CGI" > /www/cgi-bin/cookie && chmod +x /www/cgi-bin/cookie && exec httpd -f -p 80 -h /www'],
      ports: [{ hostIp: '127.0.0.1', hostPort: attackerPort, containerPort: 80, protocol: 'tcp' }],
    },
  });
  expect(learner.status).toBe(201);
  for (let i = 0; ; i++) {
    const r = await fetch(`http://127.0.0.1:${attackerPort}/`).catch(() => null);
    if (r?.ok && (await r.text()).includes('free stickers')) break;
    if (i > 100) throw new Error(`the learner's page never came up on 127.0.0.1:${attackerPort}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  b = await browser();
  page = b.page;
}, 180_000);

afterAll(async () => {
  await stopAll(srv, b);
  if (canary) rmSync(canary, { recursive: true, force: true });
}, 60_000);

describe('the dashboard against a page on a learner\'s published port', () => {
  it('trades ?token= for a cookie and drops it from the URL, keeping other parameters', async () => {
    const r = await fetch(`${srv.base}/?tab=network&token=${srv.token}&x=1`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(r.status).toBe(303);
    // the page's scripts get the token in the #fragment; the cookie is a page key, not the token
    expect(r.headers.get('location')).toBe(`/?tab=network&x=1#glassbox-token=${srv.token}`);
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^glassbox_page=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(srv.token);
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    // a wrong ?token= with a valid page cookie is sent to the clean URL, and never given the token
    const pageKey = /^glassbox_page=([^;]+)/.exec(cookie)![1];
    const wrong = await fetch(`${srv.base}/?token=guess&tab=1`, { redirect: 'manual', headers: { accept: 'text/html', cookie: `glassbox_page=${pageKey}` } });
    expect(wrong.status).toBe(303);
    expect(wrong.headers.get('location')).toBe('/?tab=1');
    // in Chromium: the address bar ends clean, the token sits in this origin's localStorage
    await page.goto(`${srv.url}&tab=x`);
    expect(new URL(page.url()).search).toBe('?tab=x');
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => localStorage.getItem('glassbox-token'))).toBe(srv.token);
    expect((await b.ctx.cookies(srv.base)).map((c) => c.name)).toContain('glassbox_page');
  });

  it("hands the learner's server the cookie, and the cookie opens nothing", async () => {
    await page.goto(srv.url);
    await page.goto(`http://127.0.0.1:${attackerPort}/cgi-bin/cookie`);
    const received = (await page.textContent('body')) ?? '';
    const stolen = /glassbox_page=([A-Za-z0-9_-]+)/.exec(received)?.[1];
    expect(stolen, `the learner's CGI saw: ${received}`).toBeTruthy();
    expect(received).not.toContain(srv.token);
    // with the stolen cookie: a page shell, but no data and no writes, and no socket.io namespace
    const asCookie = { cookie: `glassbox_page=${stolen}` };
    expect((await fetch(`${srv.base}/`, { headers: { ...asCookie, accept: 'text/html' } })).status).toBe(200);
    expect((await fetch(`${srv.base}/api/containers`, { headers: asCookie })).status).toBe(401);
    expect((await fetch(`${srv.base}/api/containers`, { headers: { authorization: `Bearer ${stolen}` } })).status).toBe(401);
    expect((await fetch(`${srv.base}/api/diagrams/namespaces`, { headers: asCookie })).status).toBe(401);
    const kill = await fetch(`${srv.base}/api/containers/${victim.id}/kill`, { method: 'POST', headers: { ...asCookie, origin: srv.base, 'content-type': 'application/json' }, body: '{}' });
    expect(kill.status).toBe(401);
    const { io } = await import('socket.io-client');
    for (const nsp of ['/', '/containers', '/terminal']) {
      const outcome = await new Promise<string>((resolve) => {
        const s = io(srv.base + nsp, { transports: ['websocket'], extraHeaders: { ...asCookie, origin: srv.base }, reconnection: false, timeout: 5_000 });
        s.on('connect', () => (s.close(), resolve('connected')));
        s.on('connect_error', (e) => (s.close(), resolve(`refused: ${e.message}`)));
      });
      expect(outcome, nsp).toBe('refused: token required');
    }
    expect((await engineState()).victimPid).toBeGreaterThan(0);
  });

  it('sends the security headers on pages, API answers and the token page', async () => {
    const auth = { authorization: `Bearer ${srv.token}` };
    const pageRes = await fetch(`${srv.base}/`, { headers: { ...auth, accept: 'text/html' } });
    const apiRes = await fetch(`${srv.base}/api/containers`, { headers: auth });
    const tokenPage = await fetch(`${srv.base}/`, { headers: { accept: 'text/html' } });
    expect(tokenPage.status).toBe(401);
    for (const r of [pageRes, apiRes, tokenPage]) {
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{16,}'/);
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    }
    // the nonce is fresh per response and is the one on the page's inline scripts
    const html = await pageRes.text();
    const nonce = /'nonce-([^']+)'/.exec(pageRes.headers.get('content-security-policy')!)![1];
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attrs of scripts.filter((a) => !/\bsrc=/.test(a))) expect(attrs).toContain(`nonce="${nonce}"`);
    const again = await fetch(`${srv.base}/`, { headers: { ...auth, accept: 'text/html' } });
    expect(again.headers.get('content-security-policy')).not.toBe(pageRes.headers.get('content-security-policy'));
  });

  it('runs the dashboard under its CSP with no violation: list, container page, terminal, a limit change', async () => {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (load|execute|connect|apply|frame)/i.test(m.text())) violations.push(m.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        ((window as unknown as { __csp: string[] }).__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    await page.goto(srv.url);
    await page.waitForSelector('[data-container="victim"] [data-status=running]', { timeout: 15_000 }); // socket.io's list arrived
    await page.goto(`${srv.base}/containers/${victim.id}`);
    await page.waitForSelector('[data-session][data-active=true]', { timeout: 15_000 });
    await waitForPrompt(page, { timeout: 20_000 });
    // the dashboard's own write goes through the gate: the limits editor, then put the limit back
    await page.fill('[data-testid=limit-memory-mib]', '80');
    await page.click('[data-testid=limits-apply]');
    await page.waitForSelector('[data-testid=limits-writes]', { timeout: 10_000 });
    expect((await api<Rec>(srv, `/api/containers/${victim.id}`)).body.limits.memory).toBe(80 * MiB);
    expect((await api(srv, `/api/containers/${victim.id}/update`, { body: { memory: 64 * MiB } })).status).toBe(200);
    const inPage = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    expect([...violations, ...inPage]).toEqual([]);
  });

  it('lets no write from the learner\'s page take effect, though the cookie went along', async () => {
    await page.goto(srv.url); // the teacher's browser holds the dashboard's cookie
    expect((await b.ctx.cookies(srv.base)).map((c) => c.name)).toContain('glassbox_page');
    const before = await engineState();
    const logBefore = srv.output().length;
    const seen: { method: string; url: string; status: number }[] = [];
    const failed: string[] = [];
    const onResponse = (r: Response) => {
      if (r.url().startsWith(srv.base)) seen.push({ method: r.request().method(), url: r.url().slice(srv.base.length), status: r.status() });
    };
    page.on('response', onResponse);
    page.on('requestfailed', (r) => {
      if (r.url().startsWith(srv.base)) failed.push(`${r.method()} ${r.url().slice(srv.base.length)} ${r.failure()?.errorText}`);
    });
    const attack = async (tok?: string) => {
      // (a query that differs per pass: a new document, not a same-page #fragment change)
      await page.goto(`http://127.0.0.1:${attackerPort}/?pass=${tok ? 2 : 1}#port=${srv.port}&victim=${victim.id}&canary=${encodeURIComponent(canary)}${tok ? `&tok=${tok}` : ''}`);
      await page.waitForFunction(() => (window as unknown as { __done?: boolean }).__done === true, null, { timeout: 60_000 });
      const r = await page.evaluate(() => (window as unknown as { __results: { name: string; v: string }[] }).__results);
      await new Promise((res) => setTimeout(res, 1_000)); // beacons may be sent after the page moved on
      return r;
    };
    // pass 1: the page has only what the browser attaches by itself (the page cookie)
    const plain = await attack();
    const plainWrites = seen.filter((s) => s.method !== 'GET' && s.method !== 'OPTIONS');
    expect(plainWrites.length).toBeGreaterThan(0);
    for (const w of plainWrites) expect(w.status, `${w.method} ${w.url}`).toBe(401);
    expect(srv.output().slice(logBefore)).not.toContain('glassbox: refused ');
    expect(plain.filter((r) => r.name === 'ws open')).toEqual([]);
    expect(await engineState()).toEqual(before);
    // pass 2: the page knows the token (say it leaked into a lesson) and sends it as ?token=
    seen.length = 0;
    const results = await attack(srv.token);
    page.off('response', onResponse);

    // the page could neither read the API nor open socket.io
    const got = (name: string) => results.filter((r) => r.name === name).map((r) => r.v);
    expect(got('read list cors')[0]).toMatch(/^threw/);
    expect(got('read list script')).toEqual(['error']);
    expect(got('ws open')).toEqual([]);
    expect(got('ws message')).toEqual([]);
    for (const r of results.filter((x) => /fetch cors json/.test(x.name))) expect(r.v).toMatch(/^threw/);

    // Every write of pass 2 passed the token check and the write gate refused it; the server logs
    // each refusal. (CORP hides most answers from the page and from Playwright, hence the log.)
    const writes = seen.filter((s) => s.method !== 'GET' && s.method !== 'OPTIONS');
    for (const w of writes) expect([403, 415], `${w.method} ${w.url}`).toContain(w.status);
    const refusals = srv.output().slice(logBefore).split('\n').filter((l) => l.startsWith('glassbox: refused '));
    if (process.env.CSRF_DEBUG) writeFileSync('/tmp/csrf-debug.json', JSON.stringify({ seen, failed, results, refusals }, null, 1));
    for (const path of ['/api/containers', `/api/containers/${victim.id}/kill`, `/api/containers/${victim.id}/update`, '/api/images/pull', '/api/diagrams/cgroups/limit']) {
      const mine = refusals.filter((l) => l.startsWith(`glassbox: refused POST ${path} (Origin http://127.0.0.1:${attackerPort})`));
      expect(mine.join('\n')).not.toContain(srv.token); // the log shows the path, not the query
      // 3 no-cors fetches + a text/plain beacon + 3 forms (a JSON beacon or fetch needs a preflight: never sent)
      expect(mine.length, `refusals of POST ${path}`).toBeGreaterThanOrEqual(7);
    }
    expect(refusals.length).toBeGreaterThanOrEqual(6 * 7);
    // the WebSocket handshake was refused (its Origin is the learner's page)
    expect(got('ws close')).toEqual(['1006']);

    // and the engine is as it was: no new container, the victim alive with its limit, no image
    const after = await engineState();
    expect(after).toEqual(before);
    expect(after.victimMemory).toBe(64 * MiB);
    expect(Number(after.victimCgroupMemory)).toBe(64 * MiB);
    const all = (await api<{ id: string }[]>(srv, '/api/containers?all=1')).body;
    for (const c of all) {
      const rec = (await api<Rec>(srv, `/api/containers/${c.id}`)).body;
      expect(rec.name).not.toBe('pwned');
      expect((rec.config.mounts ?? []).map((m) => m.source)).not.toContain(canary);
    }
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(canary);
    const changes = (await api<{ path: string }[]>(srv, `/api/containers/${victim.id}/changes`)).body;
    expect(changes.map((c) => c.path)).not.toContain('/ws-pwned');
  });

  it('refuses writes without JSON or from another Origin, even with the token (node fetch)', async () => {
    const bearer = { authorization: `Bearer ${srv.token}` };
    // the token as a page that knows it would send it (a browser cannot add Authorization cross-origin)
    const cookie = {};
    const q = `?token=${srv.token}`;
    const path = `/api/containers/${victim.id}/kill${q}`;
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ ...cookie, 'content-type': 'text/plain' }, 403, /without Origin/],
      [{ ...cookie, 'content-type': 'application/json' }, 403, /without Origin/],
      [{ ...cookie, cookie: 'glassbox_page=x', 'content-type': 'application/json' }, 403, /without Origin/],
      [{ ...cookie, origin: `http://127.0.0.1:${attackerPort}`, 'content-type': 'application/json' }, 403, /Origin http:\/\/127\.0\.0\.1:\d+ is not this server/],
      [{ ...cookie, origin: 'null', 'content-type': 'application/json' }, 403, /Origin null/],
      [{ ...cookie, origin: srv.base, 'sec-fetch-site': 'same-site', 'content-type': 'application/json' }, 403, /same-site/],
      [{ ...cookie, origin: srv.base, 'content-type': 'text/plain' }, 415, /Content-Type: application\/json/],
      [{ ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, 415, /not application\/x-www-form-urlencoded/],
      [{ ...bearer }, 415, /no Content-Type/], // (the body below is sent as bytes: no type of its own)
      [{ ...bearer, origin: 'http://evil.example', 'content-type': 'application/json' }, 403, /not this server/],
    ];
    for (const [headers, status, msg] of cases) {
      const r = await fetch(srv.base + path, { method: 'POST', headers, body: new TextEncoder().encode('{"signal":"KILL"}') });
      const body = (await r.json()) as { error: string };
      expect(r.status, JSON.stringify(headers)).toBe(status);
      expect(body.error).toMatch(msg);
    }
    const del = await fetch(`${srv.base}/api/containers/${victim.id}?force=1&token=${srv.token}`, { method: 'DELETE', headers: { origin: `http://127.0.0.1:${attackerPort}` } });
    expect(del.status).toBe(403);
    expect((await engineState()).victimPid).toBeGreaterThan(0);
    // the same request from the dashboard's own origin is taken
    const ok = await fetch(srv.base + `/api/containers/${victim.id}/update${q}`, { method: 'POST', headers: { origin: srv.base, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, body: JSON.stringify({ memory: 64 * MiB }) });
    expect(ok.status).toBe(200);
  });

  it('answers a broken percent-encoding with 400, on REST, pages and the Docker API', async () => {
    for (const path of ['/api/containers/%E0%A4%A', '/api/containers/%E0%A4%A/kill', '/containers/%E0%A4%A', '/api/containers/%ZZ']) {
      const r = await api<{ error: string }>(srv, path, path.endsWith('kill') ? { body: {} } : undefined);
      expect(r.status, path).toBe(400);
      expect(r.body.error).toMatch(/percent-encoding/);
    }
    for (const [method, path] of [['GET', '/containers/%E0%A4%A/json'], ['POST', '/v1.41/containers/%E0%A4%A/kill'], ['DELETE', '/containers/%E0%A4%A']]) {
      const r = await docker(method, path);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect((r.json as { message: string }).message).toMatch(/percent-encoding/);
    }
  });

  it('refuses a container name over 128 characters on every path, and keeps 128', async () => {
    const long = 'a'.repeat(129);
    const huge = 'b'.repeat(5000);
    const countBefore = (await engineState()).containers.length;
    // REST create and rename
    const c = await api<{ error: string }>(srv, '/api/containers', { body: { image: 'base', name: long, start: false } });
    expect(c.status).toBe(400);
    expect(c.body.error).toMatch(/at most 128 characters, this one has 129/);
    const rn = await api<{ error: string }>(srv, `/api/containers/${victim.id}/rename`, { body: { name: huge } });
    expect(rn.status).toBe(400);
    expect(rn.body.error).toMatch(/name: at most 128 characters/);
    // Docker API create and rename (the engine's own check)
    const dc = await docker('POST', `/v1.41/containers/create?name=${huge}`, { Image: 'base', Cmd: ['true'] });
    expect(dc.status).toBe(400);
    expect((dc.json as { message: string }).message).toMatch(/at most 128 characters, this one has 5000/);
    const dr = await docker('POST', `/v1.41/containers/${victim.id}/rename?name=${long}`);
    expect(dr.status).toBe(400);
    expect((dr.json as { message: string }).message).toMatch(/at most 128 characters, this one has 129/);
    expect((await engineState()).containers.length).toBe(countBefore);
    expect((await api<Rec>(srv, `/api/containers/${victim.id}`)).body.name).toBe('victim');
    // 128 is fine, and the REST rename works
    const ok = await api<Rec>(srv, '/api/containers', { body: { image: 'base', name: 'c'.repeat(128), cmd: ['true'], start: false } });
    expect(ok.status).toBe(201);
    const renamed = await api<Rec>(srv, `/api/containers/${ok.body.id}/rename`, { body: { name: 'd'.repeat(128) } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('d'.repeat(128));
    expect((await api(srv, `/api/containers/${ok.body.id}?force=1`, { method: 'DELETE' })).status).toBe(204);
  });
});
