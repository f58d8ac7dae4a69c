// The dashboard in a real Chromium against a real server (server/main.ts) and real containers:
// token checks, the "New container" form, a terminal, live limits, flow control under `yes`,
// re-attach after a reload. Screenshots go to test-results/screenshots/.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { api, browser, readCgroupMemoryLimit, stopAll, repo, screenText, startServer, waitForPrompt, type RunningServer } from './dashboard-support';

const shots = join(repo, 'test-results', 'screenshots');
const MiB = 1024 * 1024;

let srv: RunningServer;
let b: Awaited<ReturnType<typeof browser>>;
let page: Page;
let containerId = '';
const name = `e2e-${Date.now().toString(36)}`;

function socketTry(opts: { token?: string; origin?: string | null }): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (opts.origin !== null) headers.origin = opts.origin ?? srv.base;
    const s = ioClient(`${srv.base}/containers`, {
      transports: ['websocket'],
      extraHeaders: headers,
      auth: opts.token ? { token: opts.token } : undefined,
      query: opts.token ? { token: opts.token } : undefined,
      reconnection: false,
      timeout: 5_000,
    });
    let got = false;
    s.on('list', () => {
      got = true;
    });
    s.on('connect', () => {
      setTimeout(() => {
        s.close();
        resolve(got ? 'connected' : 'connected-no-data');
      }, 300);
    });
    s.on('connect_error', (e) => {
      s.close();
      resolve(`refused: ${e.message}`);
    });
  });
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  srv = await startServer();
  b = await browser();
  page = b.page;
}, 180_000);

afterAll(async () => {
  await stopAll(srv, b);
}, 60_000);

describe('dashboard', () => {
  it('gives nothing without the right token', async () => {
    for (const token of [null, 'wrong-token']) {
      const r = await api(srv, '/api/containers', { token });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'token required' });
      const p = await fetch(`${srv.base}/`, { headers: { accept: 'text/html', ...(token ? { cookie: `glassbox_token=${token}` } : {}) } });
      expect(p.status).toBe(401);
      const html = await p.text();
      expect(html).toContain('Token required');
      expect(html).not.toContain('_next/static');
    }
    expect((await fetch(`${srv.base}/?token=nope`, { redirect: 'manual' })).status).toBe(401);
    expect(await socketTry({})).toMatch(/^refused/);
    expect(await socketTry({ token: 'wrong' })).toMatch(/^refused/);
    expect(await socketTry({ token: srv.token, origin: 'http://evil.example' })).toMatch(/^refused/);
    expect(await socketTry({ token: srv.token, origin: null })).toMatch(/^refused/);
    expect(await socketTry({ token: srv.token })).toBe('connected');

    // the token file: 0600, the token and nothing else
    const st = statSync(join(srv.run, 'web-token'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(readFileSync(join(srv.run, 'web-token'), 'utf8').trim()).toBe(srv.token);

    // the page itself, in the browser, without a token
    await page.goto(`${srv.base}/`);
    expect(await page.textContent('body')).toContain('Token required');
    expect(await page.$('[data-testid=new-container-form]')).toBeNull();
    await page.screenshot({ path: join(shots, 'no-token.png') });

    // the icon is a static file in public/, served to a signed-in browser
    const icon = await fetch(`${srv.base}/icon.svg`, { headers: { authorization: `Bearer ${srv.token}` } });
    expect(icon.status).toBe(200);
    expect(await icon.text()).toContain('<svg');
  });

  it('creates a container from the form and runs a command in its terminal', async () => {
    await page.goto(srv.url);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar (for localStorage; the cookie is a page key)
    await page.waitForSelector('[data-testid=create]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=image]') as HTMLInputElement | null)?.value !== '', null, { timeout: 10_000 });
    await page.fill('[data-testid=name]', name);
    await page.fill('[data-testid=hostname]', 'e2ebox');
    // the privileged warning says what it gives away
    await page.click('[data-testid=privileged]');
    const warning = await page.textContent('[data-testid=privileged-warning]');
    expect(warning).toMatch(/all capabilities/);
    expect(warning).toMatch(/seccomp/);
    await page.screenshot({ path: join(shots, 'dashboard-form-privileged.png'), fullPage: true });
    await page.click('[data-testid=privileged]');
    // a pasted docker run line fills the form
    await page.fill('[data-testid=paste]', `docker run -it --name ${name} -h e2ebox --pids-limit 64 busybox`);
    await page.click('[data-testid=paste-apply]');
    expect(await page.textContent('[data-testid=pids-value]')).toBe('64');
    await page.fill('[data-testid=image]', (await api<{ repoTags: string[] }[]>(srv, '/api/images')).body.flatMap((i) => i.repoTags)[0]);

    // the new container's shell takes the form's place on the dashboard
    await page.click('[data-testid=create]');
    await page.waitForSelector('[data-testid=quick-terminal] [data-session][data-active=true]');
    await waitForPrompt(page, { timeout: 20_000 });
    expect(await page.textContent('[data-testid=quick-terminal-name]')).toBe(name);
    const href = (await page.getAttribute('[data-testid=open-container-page]', 'href'))!;
    containerId = href.split('/').pop()!;
    expect(containerId).toMatch(/^[0-9a-f]{64}$/);
    await page.keyboard.type('hostname; echo $$\n');
    await waitForPrompt(page, { after: 'hostname; echo $$' });
    const readAnswer = async () => {
      const lines = (await screenText(page)).split('\n');
      const at = lines.findIndex((l) => l.includes('hostname; echo $$'));
      return [lines[at + 1].trim(), lines[at + 2].trim()];
    };
    const [host, pid] = await readAnswer();
    expect(host).toBe('e2ebox');
    expect(pid).toMatch(/^\d+$/);
    await page.screenshot({ path: join(shots, 'dashboard-new-shell.png') });

    // its page re-attaches the same shell: the output so far is replayed, the shell's pid is the same
    await page.click('[data-testid=open-container-page]');
    await page.waitForURL(new RegExp(`/containers/${containerId}$`), { timeout: 20_000 });
    await waitForPrompt(page, { after: 'hostname; echo $$' });
    expect(await readAnswer()).toEqual([host, pid]);
    await page.click('[data-session][data-active=true] .xterm');
    await page.keyboard.type('echo same-$$\n');
    await waitForPrompt(page, { after: `same-${pid}` });
    await page.screenshot({ path: join(shots, 'container-terminal.png') });

    // the dashboard lists it, live
    await page.goto(`${srv.base}/`);
    await page.waitForSelector(`[data-container="${name}"] [data-status=running]`, { timeout: 10_000 });
    await page.waitForTimeout(2_500); // a few stats ticks for the sparklines
    await page.screenshot({ path: join(shots, 'dashboard.png') });
  });

  it('changes the memory limit live and the cgroup file follows', async () => {
    await page.goto(`${srv.base}/containers/${containerId}`);
    await page.waitForSelector('[data-testid=limit-memory-mib]');
    await page.fill('[data-testid=limit-memory-mib]', '96');
    await page.click('[data-testid=limits-apply]');
    await page.waitForSelector('[data-testid=limits-writes]', { timeout: 10_000 });
    const rec = (await api<{ paths: { cgroups: Record<string, string> }; limits: { memory: number } }>(srv, `/api/containers/${containerId}`)).body;
    expect(rec.limits.memory).toBe(96 * MiB);
    const { file, value } = readCgroupMemoryLimit(rec.paths.cgroups);
    expect(file).toMatch(/memory\.(limit_in_bytes|max)$/);
    expect(Number(value)).toBe(96 * MiB);
    await page.screenshot({ path: join(shots, 'container-limits.png') });
    await page.click('[data-testid=show-config]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=config-json]')?.textContent ?? '').includes('ociVersion'), null, { timeout: 10_000 });
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.screenshot({ path: join(shots, 'container-timeline-config.png'), fullPage: true });
  });

  it('gets the prompt back quickly after Ctrl-C under `yes`', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForPrompt(page);
    await page.click('[data-session][data-active=true] .xterm');
    await page.keyboard.type('yes\n');
    await page.waitForTimeout(1_500);
    const pageAlive = await page.evaluate(() => 1 + 1);
    expect(pageAlive).toBe(2);
    const t0 = Date.now();
    await page.keyboard.press('Control+C');
    await waitForPrompt(page, { timeout: 5_000 });
    const ms = Date.now() - t0;
    console.log(`Ctrl-C under yes: prompt back after ${ms} ms`);
    expect(ms).toBeLessThan(3_000);
    await page.keyboard.type('echo done-$((6*7))\n');
    await waitForPrompt(page, { after: 'done-42' });
  });

  it('draws typed keys ahead of their echo (local echo), never at a password prompt', async () => {
    await page.click('[data-session][data-active=true] .xterm');
    expect(await page.isChecked('[data-testid=local-echo]')).toBe(true);
    // every version of the active terminal's text while typing, to see what was ever on screen
    await page.evaluate(() => {
      const w = window as unknown as { __seen: string[][] };
      const rows = document.querySelector('[data-session][data-active=true] .xterm-rows')!;
      w.__seen = [];
      const lines = () => [...rows.children].map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd());
      new MutationObserver(() => w.__seen.push(lines())).observe(rows, { childList: true, subtree: true, characterData: true });
    });
    // a plain command: typed characters appear once (the echo is recognised, not drawn again)
    await page.keyboard.type('echo local-echo-ok', { delay: 60 });
    await page.keyboard.press('Enter');
    await waitForPrompt(page, { after: 'local-echo-ok' });
    const lines = (await screenText(page)).split('\n');
    expect(lines.filter((l) => /[#$] echo local-echo-ok$/.test(l))).toHaveLength(1);
    expect(lines.some((l) => l.trim() === 'local-echo-ok')).toBe(true);
    // keys were drawn ahead of their echo: all but the first after the earlier Enter (which earns the
    // trust) when the echoes come back one by one; a few fewer if a busy machine bunches them up
    expect(Number(await page.getAttribute('[data-session][data-active=true]', 'data-predicted'))).toBeGreaterThanOrEqual(10);

    // a secret: read -s echoes nothing, so nothing typed may ever be drawn
    await page.keyboard.type("read -s -p 'secret: ' x; echo; echo got-${#x}-chars", { delay: 30 });
    await page.keyboard.press('Enter');
    // the prompt on a line of its own (the command line above also says "secret: ")
    const promptLine = () => [...(document.querySelector('[data-session][data-active=true] .xterm-rows')?.children ?? [])].some((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').startsWith('secret:'));
    await page.waitForFunction(promptLine);
    await page.evaluate(() => ((window as unknown as { __seen: string[][] }).__seen = []));
    await page.keyboard.type('zqjkvw', { delay: 60 });
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    await waitForPrompt(page, { after: 'got-6-chars' });
    const seen = await page.evaluate(() => (window as unknown as { __seen: string[][] }).__seen);
    expect(seen.length).toBeGreaterThan(0);
    for (const screen of seen) {
      const at = screen.findIndex((l) => l.startsWith('secret:'));
      expect(at).toBeGreaterThanOrEqual(0);
      expect(screen[at].trim()).toBe('secret:'); // nothing was ever drawn after the prompt
      expect(screen.slice(at + 1).join('\n')).not.toMatch(/[zqjkvw]/);
    }
  });

  it('runs several terminals; closing one kills its shell', async () => {
    await page.click('[data-testid=new-terminal]');
    expect(await page.locator('[data-testid=terminal-tab]').count()).toBe(2);
    await waitForPrompt(page);
    await page.keyboard.type('echo second-shell-$$\n');
    await waitForPrompt(page, { after: 'second-shell-' });
    const pid = /second-shell-(\d+)/.exec(await screenText(page))![1];
    await page.click('[aria-label="close terminal 2"]');
    expect(await page.locator('[data-testid=terminal-tab]').count()).toBe(1);
    await page.click('[data-session][data-active=true] .xterm');
    await page.waitForTimeout(1_500); // SIGHUP now, SIGKILL a second later at the latest
    await page.keyboard.type(`kill -0 ${pid} 2>/dev/null && echo pid-$((1))-alive || echo pid-$((2))-gone\n`);
    await waitForPrompt(page, { after: 'pid-' });
    expect(await screenText(page)).toContain('pid-2-gone');
  });

  it('has a large-type mode for projectors', async () => {
    await page.click('button[aria-pressed]');
    expect(await page.evaluate(() => document.documentElement.classList.contains('large-type'))).toBe(true);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, 'container-large-type.png') });
    await page.click('button[aria-pressed]');
  });

  it('re-attaches the terminal after a reload and replays its output', async () => {
    await page.click('[data-session][data-active=true] .xterm');
    await page.keyboard.type('echo before-$((40+2))-reload\n');
    await waitForPrompt(page, { after: 'before-42-reload' });
    await page.reload();
    await page.waitForFunction(() => (document.querySelector('.xterm-rows')?.textContent ?? '').includes('before-42-reload'), null, { timeout: 10_000 });
    await page.click('[data-session][data-active=true] .xterm');
    await page.keyboard.type('echo after-$((1+1))\n');
    await waitForPrompt(page, { after: 'after-2' });
    // the same shell: one terminal tab, not a new one
    expect(await page.locator('[data-testid=terminal-tab]').count()).toBe(1);
  });

  it('closes the terminal when the container ends, leaving no exec process', async () => {
    const r = await api(srv, `/api/containers/${containerId}/kill`, { body: {} });
    expect(r.status).toBe(200);
    await page.waitForFunction(() => (document.querySelector('.xterm-rows')?.textContent ?? '').includes('session ended'), null, { timeout: 10_000 });
    const rm = await api(srv, `/api/containers/${containerId}?force=1`, { method: 'DELETE' });
    expect(rm.status).toBe(204);
    const left = await api<unknown[]>(srv, '/api/containers?all=1');
    expect(left.body.filter((c) => (c as { id: string }).id === containerId)).toEqual([]);
  });
});
