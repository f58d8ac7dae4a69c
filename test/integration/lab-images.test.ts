// The lab images (server/labs/images.ts): built locally from base, with no network, by running the
// recipe in a container and committing its layer; found again (nothing rebuilt) on the next start;
// an image with no recipe is a clear error that creates nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIG_LOG_BYTES, ensureLabImages, LAB_IMAGE_RECIPES } from '../../server/labs/images.js';
import type { LabDefinition } from '../../server/labs/format.js';
import { openTestEngine, runToExit, type TestEnv } from './support.js';

let env: TestEnv;
const lab = (images: string[]): LabDefinition => ({ id: 'test-lab', title: 't', summary: 's', order: 99, images, containers: [], steps: [] });

beforeAll(async () => {
  env = await openTestEngine();
});

afterAll(async () => {
  await env.cleanup();
});

describe('lab images', () => {
  it('builds every recipe from base, layer by layer, and leaves no build container or temporary tag', async () => {
    const refs = Object.keys(LAB_IMAGE_RECIPES);
    await ensureLabImages(lab(refs), env.engine);
    expect(env.engine.list({ all: true })).toEqual([]);
    const tags = env.engine.listImages().flatMap((i) => i.repoTags);
    for (const ref of refs) expect(tags).toContain(ref);
    expect(tags.filter((t) => t.includes(':build-'))).toEqual([]);
    const overlay = env.engine.inspectImage('glassbox-lab/overlay:1');
    expect(overlay.layerDetails.length).toBe(1 + LAB_IMAGE_RECIPES['glassbox-lab/overlay:1'].layers.length);
  }, 180_000);

  it('the escape image holds a static chroot-escape, the overlay image the big log', async () => {
    const esc = await runToExit(env.engine, { image: 'glassbox-lab/escape:1', cmd: ['sh', '-c', 'ls -l /bin/chroot-escape && head -c 4 /bin/chroot-escape | od -c | head -1'] });
    expect(esc.exitCode).toBe(0);
    expect(esc.stdout).toContain('E   L   F');
    const big = await runToExit(env.engine, { image: 'glassbox-lab/overlay:1', cmd: ['stat', '-c', '%s', '/var/log/app.log'] });
    expect(big.stdout.trim()).toBe(String(BIG_LOG_BYTES));
    for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true });
  });

  it('a second start builds nothing: the same image ids', async () => {
    const refs = Object.keys(LAB_IMAGE_RECIPES);
    const before = refs.map((r) => env.engine.inspectImage(r).id);
    let created = 0;
    const off = env.engine.onEvent((e) => {
      if (e.type === 'container' && e.action === 'create') created++;
    });
    await ensureLabImages(lab(refs), env.engine);
    off();
    expect(created).toBe(0);
    expect(refs.map((r) => env.engine.inspectImage(r).id)).toEqual(before);
  });

  it('an image with no recipe is refused by name, and nothing is made', async () => {
    const images = env.engine.listImages().length;
    await expect(ensureLabImages(lab(['nope/missing:1']), env.engine)).rejects.toThrow(/test-lab needs the image nope\/missing:1/);
    expect(env.engine.listImages().length).toBe(images);
    expect(env.engine.list({ all: true })).toEqual([]);
  });
});
