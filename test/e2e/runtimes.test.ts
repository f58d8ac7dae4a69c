// The /runtimes page in Chromium against the real server: reached from the nav, every runtime the
// engine lists shown with its availability, 2–5 ticked, one run of the same command under each,
// the columns side by side (start, memory, kernel, ps, dmesg, capabilities, exit code, timeline),
// the seed's two tables with the figures beside their claims, Kata and Firecracker saying why they
// cannot run here. The screenshot the issue asks for goes to docs/screenshots/runtimes-compare.png.
// The run is a write: the server refuses it from another origin, and nothing runs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeAvailability, RuntimeComparison } from '../../server/engine/compare/types.js';
import { requireHost } from '../helpers.js';
import { api, browser, repo, startServer, stopAll, type RunningServer } from './dashboard-support';

requireHost('runtimes e2e', { root: true, binaries: ['/usr/bin/chromium'] });

const SHOTS = join(repo, 'docs', 'screenshots');

describe('the runtimes page', () => {
  let srv: RunningServer;
  let b: Awaited<ReturnType<typeof browser>>;
  let page: Page;
  let listed: RuntimeAvailability[];
  /** what the page ticks by itself: the available ones, at most five */
  let ticked: string[];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    srv = await startServer();
    listed = (await api<{ runtimes: RuntimeAvailability[] }>(srv, '/api/runtimes/compare')).body.runtimes;
    ticked = listed.filter((r) => r.available).slice(0, 5).map((r) => r.name);
    b = await browser();
    page = b.page;
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(srv.url);
  }, 240_000);

  afterAll(async () => stopAll(srv, b), 120_000);

  it('refuses a run from another origin, and runs nothing', async () => {
    const res = await fetch(`${srv.base}/api/runtimes/compare`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ image: 'base', cmd: ['true'], runtimes: ticked }),
    });
    expect(res.status).toBe(403);
    expect((await api<{ comparisons: unknown[] }>(srv, '/api/runtimes/compare')).body.comparisons).toEqual([]);
    expect((await api<unknown[]>(srv, '/api/containers?all=1')).body).toEqual([]);
    // bad input over REST: a clear 400, nothing made
    const bad = await api<{ error: string }>(srv, '/api/runtimes/compare', { body: { image: 'base', cmd: ['true'], runtimes: ['builtin', 'kata'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/unknown runtime "kata"/);
    expect((await api(srv, '/api/runtimes/compare/000000000000')).status).toBe(404);
  });

  it('runs one command under the ticked runtimes and fills in the tables', async () => {
    expect(ticked.length).toBeGreaterThanOrEqual(2);
    await page.getByTestId('nav-runtimes').click();
    await page.getByTestId('runtimes-page').waitFor();
    for (const r of listed) {
      const pick = page.getByTestId(`rt-pick-${r.name}`);
      await expect.poll(() => pick.textContent()).toContain(r.available ? 'available' : 'unavailable');
      if (!r.available) expect(await pick.textContent()).toContain(r.error!.slice(0, 30));
    }
    await page.getByTestId('rt-image').selectOption('base:latest').catch(() => page.getByTestId('rt-image').selectOption({ index: 0 }));
    await page.getByTestId('rt-command').fill(`sh -c 'echo hello from $(uname -r); exit 7'`);
    const run = page.getByTestId('rt-run');
    await expect.poll(() => run.isEnabled()).toBe(true);
    await run.click();
    await page.getByTestId('rt-result').waitFor({ timeout: 240_000 });
    await page.getByTestId('rt-run').and(page.locator(':enabled')).waitFor({ timeout: 240_000 });

    const kept = (await api<{ comparisons: { id: string }[] }>(srv, '/api/runtimes/compare')).body.comparisons;
    expect(kept).toHaveLength(1);
    const c = (await api<RuntimeComparison>(srv, `/api/runtimes/compare/${kept[0].id}`)).body;
    expect(c.results.map((r) => r.runtime)).toEqual(ticked);
    for (const r of c.results) {
      const col = page.getByTestId(`runtime-col-${r.runtime}`);
      await col.waitFor();
      expect(r.startMs, `${r.runtime}: ${r.error}`).not.toBeNull();
      expect(await page.getByTestId(`exitcode-${r.runtime}`).textContent()).toBe('7');
      expect(await page.getByTestId(`output-${r.runtime}`).textContent()).toContain(`hello from ${r.inside!.kernel}`);
      expect(await page.getByTestId(`kernel-${r.runtime}`).textContent()).toContain(r.inside!.kernel);
      expect(await page.getByTestId(`start-${r.runtime}`).textContent()).toMatch(/\d+(\.\d)? (ms|µs)/);
      expect(await page.getByTestId(`overhead-${r.runtime}`).textContent()).toMatch(/\d+\.\d MB/);
      expect(await page.getByTestId(`ps-${r.runtime}`).textContent()).toMatch(/PID.*\n?.*1 /s);
      expect((await page.getByTestId(`caps-${r.runtime}`).locator('span').count())).toBe(r.inside!.capabilities.length);
      if (r.runtime === 'runsc') expect(await page.getByTestId('dmesg-runsc').textContent()).toMatch(/gVisor/);
    }
    // no container is left: the page's run cleaned up after itself
    expect((await api<unknown[]>(srv, '/api/containers?all=1')).body).toEqual([]);

    // the seed's tables: live figures beside the claims, and no figure for what cannot run here
    const table = page.getByTestId('runtime-table');
    for (const r of c.results) {
      const row = table.getByTestId(`runtime-row-${r.runtime}`);
      if (await row.count()) expect(await row.textContent()).toContain('running after');
    }
    for (const vm of ['runtime-row-kata-containers', 'runtime-row-firecracker']) expect(await table.getByTestId(vm).textContent()).toMatch(/VT-x.*AMD-V.*\/dev\/kvm/);
    expect(await table.getByTestId('runtime-row-youki').textContent()).toMatch(/not installed here/);
    const startRow = page.getByTestId('vm-row-start');
    expect(await startRow.textContent()).toContain('100 ms–1 s');
    expect(await startRow.textContent()).toContain('30 s–2 min');
    const containers = await page.getByTestId('vm-live-containers-start').textContent();
    for (const r of c.results.filter((x) => x.runtime !== 'uml')) expect(containers).toContain(`${r.runtime}: running after`);
    if (ticked.includes('uml')) expect(await page.getByTestId('vm-live-own-start').textContent()).toMatch(/uml: boot, command and halt in/);
    expect(await page.getByTestId('vm-live-containers-kernel').textContent()).toContain('(the host’s)');

    await page.screenshot({ path: join(SHOTS, 'runtimes-compare.png'), fullPage: true });

    // each run's timeline, kept after its container is gone
    for (const r of c.results) {
      await page.getByTestId(`timeline-${r.runtime}-0`).locator('summary').click();
      await page.getByTestId(`timeline-${r.runtime}-0`).getByTestId('timeline').waitFor();
      expect(await page.getByTestId(`timeline-${r.runtime}-0`).getByTestId('timeline').textContent()).toContain('mount-overlay');
    }
  }, 300_000);
});
