// The images a lab needs (lab.images), made sure of before its containers are created. Today every
// lab runs on images the engine already has (the built-in `base`, or one the teacher loaded):
// a missing one is a clear error naming the lab and the image, and nothing is created.
// (Labs that need a made-locally image — a big file for the copy-up lesson — build it here.)
import { Unavailable, type Engine } from '../engine/index.js';
import type { LabDefinition } from './format.js';

export async function ensureLabImages(lab: LabDefinition, engine: Engine): Promise<void> {
  const missing: string[] = [];
  for (const ref of lab.images ?? []) {
    try {
      engine.inspectImage(ref);
    } catch {
      missing.push(ref);
    }
  }
  if (missing.length) throw new Unavailable(`lab ${lab.id} needs the image${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this engine does not have (docker load or docker pull it first)`);
}
