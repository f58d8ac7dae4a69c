// The views the labs need, in Chromium against the real server: a zombie drawn in the pid view
// and a signal sent from it (the engine delivers; the process, unreaped by a PID 1 that never
// wait()s, becomes a zombie in turn), the pids.max explanation, the mount tab, the image tab and
// the compare page. Keyboard: a process and a mount are opened with Tab focus + Enter.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NamespaceSnapshot } from '../../server/engine/inspect/types.js';
import type { ContainerRecord } from '../../server/engine/types.js';
import { requireHost } from '../helpers.js';
import { api, browser, repo, startServer, stopAll, type RunningServer } from './dashboard-support';

requireHost('views e2e', { root: true, binaries: ['/usr/bin/chromium'] });

const SHOTS = join(repo, 'test-results', 'screenshots');
const stateOf = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0];
  } catch {
    return 'gone';
  }
};

describe('views in the dashboard', () => {
  let srv: RunningServer;
  let b: Awaited<ReturnType<typeof browser>>;
  let page: Page;
  let z: ContainerRecord; // a PID 1 that never reaps, its pids.max full
  let plain: ContainerRecord;
  let hostNet: ContainerRecord;
  let image = '';
  const tag = Date.now().toString(36);
  const diagrams = () => page.getByTestId('container-diagrams');
  const openTab = async (kind: string) => {
    await page.getByTestId(`diagram-tab-${kind}`).click();
    await page.getByTestId(`diagram-tab-${kind}`).and(page.locator('[aria-selected=true]')).waitFor();
  };
  const create = async (body: Record<string, unknown>) => {
    const r = await api<ContainerRecord>(srv, '/api/containers', { body: { image, ...body } });
    if (r.status !== 201) throw new Error(`creating: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    srv = await startServer();
    image = (await api<{ repoTags: string[] }[]>(srv, '/api/images')).body.flatMap((i) => i.repoTags)[0];
    if (!image) throw new Error(`the server has no image:\n${srv.output()}`);
    // init is `sleep` (exec'd by sh): it never wait()s, so the two short sleeps stay zombies; with
    // the long sleep that is 4 pids = pids.max
    z = await create({ name: `zomb-${tag}`, cmd: ['sh', '-c', 'sleep 3000 & sleep 0.1 & sleep 0.1 & exec sleep 3600'], limits: { pids: 4 } });
    plain = await create({ name: `plain-${tag}`, cmd: ['sleep', '3600'], hostname: `plain-${tag}` });
    hostNet = await create({ name: `hostnet-${tag}`, cmd: ['sleep', '3600'], network: 'host' });
    b = await browser();
    page = b.page;
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(srv.url);
  }, 240_000);

  afterAll(async () => stopAll(srv, b), 120_000);

  it('draws zombies, counts them, explains EAGAIN, and sends a signal from the diagram', async () => {
    let snap: NamespaceSnapshot | undefined;
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      snap = (await api<NamespaceSnapshot>(srv, `/api/diagrams/namespaces?container=${z.id}`)).body;
      const c = snap.containers.find((x) => x.id === z.id);
      if (snap.processes.filter((p) => p.containerId === z.id && p.state === 'Z').length === 2 && c?.pids && c.pids.current >= 4) break;
    }
    const mine = snap!.processes.filter((p) => p.containerId === z.id && p.role !== 'monitor');
    const zombies = mine.filter((p) => p.state === 'Z');
    const victim = mine.find((p) => p.state !== 'Z' && p.role !== 'init')!;
    expect(zombies).toHaveLength(2);
    expect(victim?.comm).toBe('sleep');

    await page.goto(`${srv.base}/containers/${z.id}`);
    await diagrams().waitFor();
    await openTab('namespaces');
    const zNode = diagrams().getByTestId(`ns-proc-${zombies[0].pid}`);
    await zNode.waitFor({ timeout: 10_000 });
    expect(await zNode.getAttribute('data-state')).toBe('Z');
    expect(await zNode.textContent()).toContain('zombie');
    expect(await diagrams().getByTestId(`ns-zombies-${z.id}`).textContent()).toBe('2 zombies');
    const alert = diagrams().getByTestId(`pids-full-${z.id}`);
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toMatch(/4 of pids\.max = 4.*2 zombies.*EAGAIN.*\+ terminal/);

    // a zombie: the menu explains instead of signalling
    await zNode.click();
    await expect.poll(async () => diagrams().getByTestId('ns-detail-state').textContent()).toMatch(/zombie — waiting for its parent's wait\(\)/);
    expect(await diagrams().getByTestId('signal-menu').textContent()).toMatch(/No signal reaches a zombie/);

    // keyboard: focus the living sleep, Enter opens it, then TERM from the menu
    const vNode = diagrams().getByTestId(`ns-proc-${victim.pid}`);
    await vNode.focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => diagrams().getByTestId('ns-detail').textContent()).toContain(`pid ${victim.pid}`);
    await diagrams().getByTestId('signal-TERM').focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => diagrams().getByTestId('signal-answer').textContent()).toMatch(`SIGTERM sent to sleep (host pid ${victim.pid})`);
    // delivered: sleep ended, and with nobody to reap it, it is a zombie now (drawn as one)
    await expect.poll(() => stateOf(victim.pid), { timeout: 5000 }).toBe('Z');
    await expect.poll(async () => vNode.getAttribute('data-state'), { timeout: 5000 }).toBe('Z');
    await expect.poll(async () => diagrams().getByTestId(`ns-zombies-${z.id}`).textContent(), { timeout: 5000 }).toBe('3 zombies');
    await diagrams().screenshot({ path: join(SHOTS, 'views-zombies-signal.png') });
  }, 90_000);

  it('shows the mount tree in the Mounts tab, foldable by keyboard', async () => {
    await page.goto(`${srv.base}/containers/${plain.id}`);
    await diagrams().waitFor();
    await openTab('mounts');
    const root = page.getByTestId('mount-/');
    await root.waitFor({ timeout: 10_000 });
    expect(await root.textContent()).toMatch(/lowerdir \(top\)|lowerdir \(bottom\)|lowerdir/);
    expect(await root.textContent()).toContain('upperdir');
    const keys = page.getByTestId('mount-/proc/keys');
    expect(await keys.textContent()).toMatch(/masked.*\/dev\/null/);
    expect(await page.getByTestId('mount-/proc/sys').textContent()).toMatch(/ro.*read-only/);
    await page.getByTestId('mount-diagram').screenshot({ path: join(SHOTS, 'views-mounts.png') });
    await page.getByTestId('mount-/proc').focus();
    await page.keyboard.press('Enter');
    await keys.waitFor({ state: 'detached' });
    expect(await page.getByTestId('mount-/proc').textContent()).toMatch(/mounts folded/);
  }, 60_000);

  it('shows the image in the Image tab: layers with digests, history, raw manifest', async () => {
    await openTab('image');
    const view = page.getByTestId('image-view');
    await view.waitFor({ timeout: 10_000 });
    const layer = page.getByTestId('image-layer-0');
    expect(await layer.textContent()).toMatch(/sha256:[0-9a-f]{12}…/);
    expect(await page.getByTestId('image-history').textContent()).toMatch(/layer 0/);
    await page.getByTestId('image-raw-manifest').click();
    expect(await page.getByTestId('image-raw').textContent()).toContain('"schemaVersion": 2');
    await view.screenshot({ path: join(SHOTS, 'views-image.png') });
    const v = await api<{ layers: { digest: string }[] }>(srv, `/api/images/${encodeURIComponent(image)}/view`);
    expect(v.status).toBe(200);
    expect(await layer.textContent()).toContain(v.body.layers[0].digest.slice(7, 19));
    expect((await api(srv, '/api/images/no-such-image/view')).status).toBe(404);
  }, 60_000);

  it('compare: two terminals, and the host answers aligned by namespace', async () => {
    await page.getByTestId('nav-compare').click();
    await page.getByTestId('compare-page').waitFor();
    await page.getByTestId('compare-pick-left').selectOption(plain.id);
    await page.getByTestId('compare-pick-right').selectOption(hostNet.id);
    const views = page.getByTestId('compare-views');
    await views.getByTestId(`answer-uts-${plain.name}`).waitFor({ timeout: 10_000 });
    expect(await views.getByTestId(`answer-uts-${plain.name}`).textContent()).toContain(`plain-${tag}`);
    // --network host: the same net namespace as the host, the same links
    await views.getByTestId(`shares-net-${hostNet.name}`).waitFor();
    expect(await views.getByTestId(`answer-net-${plain.name}`).textContent()).toMatch(/its own.*lo/);
    expect(await views.getByTestId(`answer-pid-${plain.name}`).textContent()).toMatch(/its own[\s\S]*1 {2}sleep/);
    expect(await views.getByTestId('answer-pid-host').textContent()).toMatch(/the host's/);
    // the left terminal is the container's shell
    const left = page.getByTestId('compare-terminal-a');
    await left.locator('.xterm').click();
    await page.keyboard.type('echo left-$((20+22)) $(hostname)\n');
    await expect
      .poll(async () => left.locator('.xterm-rows').textContent(), { timeout: 20_000 })
      .toContain(`left-42 plain-${tag}`);
    // no host shell anywhere on the page
    expect(await page.locator('text=/host shell/i').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'views-compare.png'), fullPage: true });
  }, 90_000);
});
