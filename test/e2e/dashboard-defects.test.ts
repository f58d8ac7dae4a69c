// The dashboard's defects of issue 12, each checked in a real Chromium against a real server and
// real containers, so that none comes back: long names and paths (no sideways scroll), 1024 px
// with Large type (chart text grows, every namespace column stays), the network panel beside or
// below the picture, Stop then Start in the terminal, the diagrams' "updated" age, a failed pull,
// a failed start, an OOM kill's story, the form's defaults and its checks. One server, one browser.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { requireHost } from '../helpers.js';
import { api, browser, CHROMIUM, freePort, repo, startServer, stopAll, waitForPrompt, type RunningServer } from './dashboard-support';

requireHost('dashboard defect e2e tests', { root: true, binaries: [CHROMIUM] });

const shots = join(repo, 'test-results', 'screenshots');
const MiB = 1024 * 1024;
const tag = Date.now().toString(36);
// the longest name the engine takes, without a space to break at
const longName = `long-${tag}-`.padEnd(128, 'x');

let srv: RunningServer;
let b: Awaited<ReturnType<typeof browser>>;
let page: Page;
let longId = '';

interface Rec {
  id: string;
  name: string;
  state: { status: string; oomKilled: boolean; exitCode: number; error: string };
}

async function run(body: Record<string, unknown>): Promise<Rec> {
  const r = await api<Rec>(srv, '/api/containers', { body: { image: 'base:latest', tty: true, openStdin: true, ...body } });
  if (r.status !== 201) throw new Error(`create failed (${r.status}): ${JSON.stringify(r.body)}`);
  return r.body;
}

/** no sideways scroll: the page is no wider than the window */
const pageWidth = (p: Page) => p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));

async function setLargeType(on: boolean): Promise<void> {
  await page.evaluate((v) => localStorage.setItem('glassbox.largeType', v ? '1' : '0'), on);
}

async function openTab(kind: string): Promise<void> {
  await page.getByTestId(`diagram-tab-${kind}`).click();
  await page.getByTestId(`diagram-tab-${kind}`).and(page.locator('[aria-selected=true]')).waitFor();
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  srv = await startServer();
  b = await browser();
  page = b.page;
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.goto(srv.url); // stores the token
  await page.waitForSelector('[data-testid=create]');
  longId = (await run({ name: longName, cmd: ['sh'] })).id;
}, 180_000);

afterAll(async () => {
  await stopAll(srv, b);
}, 60_000);

describe('dashboard defects (issue 12)', () => {
  it('starts the form on the base image, and refuses a 5,000-character name with a clear message', async () => {
    await page.goto(`${srv.base}/`);
    await page.waitForFunction(() => (document.querySelector('[data-testid=image]') as HTMLInputElement | null)?.value !== '', null, { timeout: 10_000 });
    const tags = (await api<{ repoTags: string[] }[]>(srv, '/api/images')).body.flatMap((i) => i.repoTags);
    expect(tags).toContain('base:latest');
    expect(await page.inputValue('[data-testid=image]')).toBe('base:latest');

    const before = (await api<unknown[]>(srv, '/api/containers?all=1')).body.length;
    await page.fill('[data-testid=name]', 'n'.repeat(5000));
    expect(await page.textContent('[data-testid=name-problem]')).toBe('Name: at most 128 characters, this one has 5000');
    expect(await page.isDisabled('[data-testid=create]')).toBe(true);
    await page.press('[data-testid=name]', 'Enter'); // a submit by keyboard is refused too
    expect((await api<unknown[]>(srv, '/api/containers?all=1')).body.length).toBe(before);
    expect((await pageWidth(page)).scroll).toBeLessThanOrEqual((await pageWidth(page)).inner);
    await page.fill('[data-testid=name]', '');
    expect(await page.$('[data-testid=name-problem]')).toBeNull();
  });

  it('fills a pasted docker run line around its unknown flags and names them', async () => {
    await page.fill('[data-testid=paste]', 'docker run -it --gpus all --frobnicate -m 64m --pids-limit 32 base:latest sh');
    await page.click('[data-testid=paste-apply]');
    expect(await page.textContent('[data-testid=paste-message]')).toContain('ignored: --gpus, --frobnicate');
    expect(await page.textContent('[data-testid=pids-value]')).toBe('32');
    expect(await page.textContent('[data-testid=memory-value]')).toMatch(/64/);
  });

  it('keeps the list within the window with a 128-character name, cut with an ellipsis', async () => {
    await page.goto(`${srv.base}/`);
    const link = page.locator(`[data-container="${longName}"] [data-testid=container-link]`);
    await link.waitFor({ timeout: 10_000 });
    expect(await link.getAttribute('title')).toBe(longName);
    const { scroll, inner } = await pageWidth(page);
    expect(scroll).toBeLessThanOrEqual(inner);
    const box = await page.locator('[data-testid=container-list]').boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(inner);
    // cut: the text is wider than the link shows
    expect(await link.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    await page.screenshot({ path: join(shots, 'defects-long-name-list.png') });
  });

  it('does not scroll sideways on the page of a container with a long name and long paths', async () => {
    await page.goto(`${srv.base}/containers/${longId}`);
    await page.waitForSelector('[data-testid=limit-memory-mib]');
    await page.fill('[data-testid=limit-memory-mib]', '96');
    await page.click('[data-testid=limits-apply]');
    await page.waitForSelector('[data-testid=limits-writes]', { timeout: 10_000 }); // the cgroup files' full paths
    await page.waitForSelector('[data-testid=timeline]');
    const { scroll, inner } = await pageWidth(page);
    expect(scroll).toBeLessThanOrEqual(inner);
    await page.screenshot({ path: join(shots, 'defects-long-paths.png'), fullPage: true });
  });

  it('at 1024 px with Large type: chart text grows and the namespace table keeps every column', async () => {
    await page.goto(`${srv.base}/containers/${longId}`);
    await openTab('cgroups');
    await page.waitForSelector('[data-testid=cgroup-svg]');
    const tickHeight = () => page.locator('[data-testid=cgroup-panel-memory] text').first().evaluate((el) => el.getBoundingClientRect().height);
    const normal = await tickHeight();
    expect(await page.getAttribute('[data-testid=cgroup-svg]', 'data-columns')).toBe('2');

    await setLargeType(true);
    await page.reload();
    await openTab('cgroups');
    await page.waitForSelector('[data-testid=cgroup-svg][data-columns="1"]');
    const large = await tickHeight();
    expect(large).toBeGreaterThan(normal * 1.5);
    await page.screenshot({ path: join(shots, 'defects-large-type-cgroups.png') });

    await openTab('namespaces');
    await page.waitForSelector('[data-testid=namespace-svg] text');
    const heads = await page.evaluate(() => {
      const svg = document.querySelector('[data-testid=namespace-svg]')!;
      const scroller = document.querySelector('[data-testid=namespace-scroll]')!;
      const sr = scroller.getBoundingClientRect();
      const cols = ['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time'];
      const texts = [...svg.querySelectorAll('text')].filter((t) => cols.includes(t.textContent ?? ''));
      return {
        found: texts.map((t) => t.textContent),
        // each head, in the scroll box's content (what scrolling reaches)
        right: Math.max(...texts.map((t) => t.getBoundingClientRect().right - sr.left + scroller.scrollLeft)),
        scrollWidth: scroller.scrollWidth,
        fontPx: texts[0].getBoundingClientRect().height,
      };
    });
    expect(heads.found).toEqual(['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time']);
    expect(heads.right).toBeLessThanOrEqual(heads.scrollWidth);
    expect(heads.fontPx).toBeGreaterThan(16); // the 16 px heads drawn 21/16 larger
    const { scroll, inner } = await pageWidth(page);
    expect(scroll).toBeLessThanOrEqual(inner);
    await page.screenshot({ path: join(shots, 'defects-large-type-namespaces.png') });
    await setLargeType(false);
  });

  it('at 1024 px the network panel goes below the picture, never over the NAT box, and the container is in view', async () => {
    await page.goto(`${srv.base}/containers/${longId}`);
    await openTab('network');
    await page.waitForSelector('[data-testid=net-detail]');
    const r = await page.evaluate((id) => {
      const rect = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
      const nat = [...document.querySelectorAll('[data-testid=net-host] text')].find((t) => t.textContent === 'NAT / published ports')!.getBoundingClientRect();
      const box = document.querySelector(`[data-testid="net-endpoint-${id}"] rect`)!.getBoundingClientRect();
      return { placement: document.querySelector('[data-detail]')!.getAttribute('data-detail'), nat, svg: rect('[data-testid=network-svg]'), panel: rect('[data-testid=net-detail]'), box };
    }, longId);
    expect(r.placement).toBe('below');
    const overlaps = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    expect(overlaps(r.nat as DOMRect, r.panel as DOMRect)).toBe(false);
    expect(r.nat.right).toBeLessThanOrEqual(r.svg.right);
    // the viewed container's box is inside the svg's view
    expect(r.box.left >= r.svg.left && r.box.right <= r.svg.right && r.box.top >= r.svg.top && r.box.bottom <= r.svg.bottom).toBe(true);
    await page.screenshot({ path: join(shots, 'defects-network-1024.png'), fullPage: true });
  });

  it('says "updated" with the age of the data, also while a re-read finds nothing changed', async () => {
    // the layers of an idle container do not change: the server re-reads them every 750 ms and
    // used to push nothing, so the page said "updated 12s ago" after 12 s
    for (const kind of ['layers', 'cgroups']) {
      await page.goto(`${srv.base}/containers/${longId}`);
      await openTab(kind);
      await page.waitForSelector('[data-testid=diagram-updated]');
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        await page.waitForTimeout(1_000);
        seen.push((await page.textContent('[data-testid=diagram-updated]')) ?? '');
      }
      const ages = seen.map((t) => Number(/(\d+)s ago/.exec(t)?.[1] ?? 0));
      expect(Math.max(...ages), `${kind}: ${seen.join(' | ')}`).toBeLessThanOrEqual(3);
    }
  });

  it('after Stop then Start, the terminal says the shell ended and a new one opens', async () => {
    await page.goto(`${srv.base}/containers/${longId}`);
    await page.waitForSelector('[data-session][data-active=true]');
    await waitForPrompt(page, { timeout: 20_000 });
    await page.click('[data-testid=action-stop]');
    await page.waitForSelector('[data-testid=terminal-ended]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid=terminal-ended]')).toMatch(/This shell ended .*start it to open a new shell/);
    await page.screenshot({ path: join(shots, 'defects-terminal-stopped.png') });
    await page.click('[data-testid=action-start]');
    await page.waitForSelector('[data-testid=action-start]', { state: 'detached', timeout: 20_000 });
    await waitForPrompt(page, { timeout: 20_000 });
    expect(await page.$('[data-testid=terminal-ended]')).toBeNull();
    await page.click('[data-session][data-active=true] .xterm');
    await page.keyboard.type('echo back-$((40+2))\n');
    await waitForPrompt(page, { after: 'back-42' });
  });

  it('shows a failed pull as failed, with its error, and no 0% bar', async () => {
    const port = await freePort(); // nothing listens there
    await page.goto(`${srv.base}/`);
    await page.waitForSelector('[data-testid=create]');
    await page.fill('[data-testid=image]', `127.0.0.1:${port}/nothing/here:1`);
    await page.click('[data-testid=create]');
    await page.waitForSelector('[data-testid=pull-progress][data-state=failed]', { timeout: 30_000 });
    expect(await page.textContent('[data-testid=pull-status]')).toContain(`127.0.0.1:${port}/nothing/here:1`);
    expect(await page.textContent('[data-testid=pull-percent]')).toBe('failed');
    expect(await page.$('[data-testid=pull-bar]')).toBeNull();
    expect(await page.isEnabled('[data-testid=create]')).toBe(true);
    await page.screenshot({ path: join(shots, 'defects-failed-pull.png') });
  });

  it('says why a create failed to start, and the list shows the container it left', async () => {
    const name = `nostart-${tag}`;
    await page.goto(`${srv.base}/`);
    await page.waitForFunction(() => (document.querySelector('[data-testid=image]') as HTMLInputElement | null)?.value !== '', null, { timeout: 10_000 });
    await page.fill('[data-testid=name]', name);
    await page.fill('[data-testid=command]', '/no/such/binary');
    await page.click('[data-testid=create]');
    await page.waitForSelector('[data-testid=create-error]', { timeout: 30_000 });
    const text = (await page.textContent('[data-testid=create-error]'))!;
    const left = (await page.getAttribute('[data-testid=create-error]', 'data-left'))!;
    const rec = (await api<Rec>(srv, `/api/containers/${name}`)).body;
    // the message and the list agree with the engine
    expect(text).toContain(`${name} was created but did not start`);
    expect(text).toContain(`It stays in the list as ${rec.state.status}`);
    expect(left).toBe(rec.state.status);
    expect(['created', 'exited']).toContain(rec.state.status);
    await page.waitForSelector(`[data-container="${name}"] [data-status="${rec.state.status}"]`, { timeout: 10_000 });
    await page.screenshot({ path: join(shots, 'defects-failed-start.png') });
    await page.click('[data-testid=create-error-open]');
    await page.waitForURL(new RegExp(`/containers/${rec.id}$`));
    await page.waitForSelector('[data-testid=container-name]');
  });

  it('tells the story of an OOM-killed container and keeps its diagrams and series', async () => {
    const rec = await run({ name: `oom-${tag}`, cmd: ['sh', '-c', 'sleep 6; head -c 200m /dev/zero | tail > /dev/null'], limits: { memory: 32 * MiB, memorySwap: 32 * MiB } });
    await page.goto(`${srv.base}/containers/${rec.id}`);
    await openTab('namespaces');
    await page.waitForSelector(`[data-testid="ns-row-${rec.id}"]`, { timeout: 5_000 }); // while it runs
    await page.waitForSelector('[data-testid=oom-killed]', { timeout: 30_000 });
    expect(await page.textContent('[data-testid=oom-killed]')).toMatch(/Killed by the OOM killer/);
    expect((await api<Rec>(srv, `/api/containers/${rec.id}`)).body.state.oomKilled).toBe(true);
    // the diagrams stay, on the cgroup tab, with the kill on the memory chart
    await page.waitForSelector('[data-testid=diagrams-stopped]');
    await page.getByTestId('diagram-tab-cgroups').and(page.locator('[aria-selected=true]')).waitFor();
    await page.waitForSelector('[data-testid=cgroup-panel-memory] [data-testid=cgroup-event-oom-kill]', { timeout: 15_000 });
    expect(await page.locator('[data-testid=cgroup-band-anon], [data-testid=cgroup-band-file]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'defects-oom-killed.png'), fullPage: true });
    // the namespace picture read while it ran is still there, its row included
    await openTab('namespaces');
    await page.waitForSelector(`[data-testid="ns-row-${rec.id}"]`, { timeout: 5_000 });
    // a reload keeps the story
    await page.reload();
    await page.waitForSelector('[data-testid=oom-killed]');
    await page.waitForSelector('[data-testid=cgroup-event-oom-kill]', { timeout: 15_000 });
  });
});
