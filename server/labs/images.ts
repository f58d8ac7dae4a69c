// The images a lab needs (lab.images), made sure of before its containers are created. An image
// the engine has is used as is. A lab image the engine lacks is built here, locally and with no
// network, the way a learner would build one by hand: a container from `base` runs the recipe's
// setup commands (with the recipe's files bind-mounted read-only at /src), then `engine.commit`
// turns its container layer into an image layer. A second start finds the tag and builds nothing.
// Any other missing image is a clear error naming the lab and the image, and nothing is created.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Unavailable, type Engine } from '../engine/index.js';
import type { LabDefinition } from './format.js';
import { PROJECT_ROOT } from '../project-root.js';

const run = promisify(execFile);
const LABS_DIR = join(PROJECT_ROOT, 'labs');

/** One layer: files prepared on the host (in a fresh directory seen at /src), then commands in the container. */
interface LayerRecipe {
  /** fills the /src directory on the host (compiling a static binary, say) */
  prepare?(src: string): Promise<void>;
  /** a shell script run in the container (sh -c); its changes become the layer */
  setup: string;
  /** the image history's comment for the layer */
  comment: string;
}

interface ImageRecipe {
  layers: LayerRecipe[];
  cmd: string[];
}

const MiB = 1024 * 1024;
/** the copy-up lesson's "big log": the seed's is 1 GB; 64 MiB makes the same point and keeps a lab start quick */
export const BIG_LOG_BYTES = 64 * MiB;

/** The lab images Glassbox can build, by reference (the tag's number changes with the recipe). */
export const LAB_IMAGE_RECIPES: Record<string, ImageRecipe> = {
  'glassbox-lab/escape:1': {
    cmd: ['sh'],
    layers: [
      {
        comment: 'lab 03: /bin/chroot-escape, the classic way out of a chroot (labs/03-mount-namespace/chroot-escape.c, static)',
        prepare: async (src) => {
          // static: it must run in the container's busybox root and, once out, in the host's root
          await run('cc', ['-static', '-O2', '-Wall', '-o', join(src, 'chroot-escape'), join(LABS_DIR, '03-mount-namespace', 'chroot-escape.c')], { timeout: 60_000 });
        },
        setup: 'cp /src/chroot-escape /bin/chroot-escape && chmod 755 /bin/chroot-escape',
      },
    ],
  },
  'glassbox-lab/overlay:1': {
    cmd: ['sh'],
    layers: [
      {
        comment: `lab 10: a ${BIG_LOG_BYTES / MiB} MiB /var/log/app.log (the seed's 1 GB log, smaller)`,
        setup: `mkdir -p /var/log && dd if=/dev/zero of=/var/log/app.log bs=1M count=${BIG_LOG_BYTES / MiB} 2>/dev/null`,
      },
      {
        comment: 'lab 10: /srv/site and /etc/app/conf.d, for whiteouts and opaque directories',
        setup: [
          'mkdir -p /srv/site /etc/app/conf.d',
          "echo '<h1>hello</h1>' > /srv/site/index.html",
          'echo old > /srv/site/old.html',
          'echo a=1 > /etc/app/conf.d/a.conf',
          'echo b=2 > /etc/app/conf.d/b.conf',
        ].join(' && '),
      },
    ],
  },
};

function hasImage(engine: Engine, ref: string): boolean {
  try {
    engine.inspectImage(ref);
    return true;
  } catch {
    return false;
  }
}

/** One layer on top of `from`, committed as `ref`. The build container is removed whatever happens. */
async function buildLayer(engine: Engine, from: string, ref: string, layer: LayerRecipe, cmd: string[]): Promise<void> {
  const src = mkdtempSync(join(tmpdir(), 'gb-lab-src-'));
  let id: string | null = null;
  try {
    chmodSync(src, 0o755);
    await layer.prepare?.(src);
    const rec = await engine.run({
      image: from,
      cmd: ['sh', '-c', layer.setup],
      // (its empty mount point, /src, stays in the layer)
      mounts: layer.prepare ? [{ type: 'bind', source: src, target: '/src', readOnly: true }] : [],
      network: 'none',
      labels: { 'glassbox.lab.image-build': ref },
    });
    id = rec.id;
    const res = await engine.wait(id);
    if (res.exitCode !== 0) throw new Error(`exit code ${res.exitCode}`);
    await engine.commit(id, { ref, comment: layer.comment, changes: { Cmd: cmd } });
  } finally {
    if (id) await engine.remove(id, { force: true }).catch(() => {});
    rmSync(src, { recursive: true, force: true });
  }
}

async function buildImage(engine: Engine, ref: string, recipe: ImageRecipe): Promise<void> {
  let from = 'base';
  const temps: string[] = [];
  try {
    for (const [i, layer] of recipe.layers.entries()) {
      const last = i === recipe.layers.length - 1;
      // intermediate layers get a tag of their own while the next one is built on them
      const target = last ? ref : `${ref.replace(/:[^:/]*$/, '')}:build-${i}`;
      await buildLayer(engine, from, target, layer, recipe.cmd);
      if (!last) temps.push(target);
      from = target;
    }
  } finally {
    // the untag leaves the layers: the final image still holds them
    for (const t of temps) {
      try {
        engine.removeImage(t);
      } catch {
        /* already gone */
      }
    }
  }
}

/** Builds in progress, so two sessions starting at once share one build. */
const building = new Map<string, Promise<void>>();

export async function ensureLabImages(lab: LabDefinition, engine: Engine): Promise<void> {
  const missing: string[] = [];
  for (const ref of lab.images ?? []) {
    if (hasImage(engine, ref)) continue;
    const recipe = LAB_IMAGE_RECIPES[ref];
    if (!recipe) {
      missing.push(ref);
      continue;
    }
    let p = building.get(ref);
    if (!p) {
      p = buildImage(engine, ref, recipe).finally(() => building.delete(ref));
      building.set(ref, p);
    }
    try {
      await p;
    } catch (e) {
      throw new Unavailable(`lab ${lab.id}: building its image ${ref} failed: ${(e as Error).message}`);
    }
  }
  if (missing.length) throw new Unavailable(`lab ${lab.id} needs the image${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this engine does not have (docker load or docker pull it first)`);
}
