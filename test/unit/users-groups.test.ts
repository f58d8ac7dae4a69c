// -u NAME in an image whose /etc/group makes NAME a member of more groups than the helper takes:
// refused with a clear line before anything starts (the helper would refuse the spec anyway).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_ADDITIONAL_GROUPS, resolveUser } from '../../server/engine/containers/users.js';

const root = mkdtempSync(join(tmpdir(), 'gbusers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function image(groups: number): string {
  const dir = join(root, `img${groups}`);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nlearner:x:1000:1000::/home/learner:/bin/sh\n');
  const lines = ['learner:x:1000:'];
  for (let i = 0; i < groups; i++) lines.push(`g${i}:x:${2000 + i}:learner`);
  writeFileSync(join(dir, 'etc/group'), lines.join('\n') + '\n');
  return dir;
}

describe('additional groups from the image', () => {
  it(`takes ${MAX_ADDITIONAL_GROUPS} additional groups`, () => {
    expect(resolveUser(image(MAX_ADDITIONAL_GROUPS), 'learner').additionalGids).toHaveLength(MAX_ADDITIONAL_GROUPS);
  });
  it(`refuses ${MAX_ADDITIONAL_GROUPS + 1}, saying how many and the limit`, () => {
    expect(() => resolveUser(image(MAX_ADDITIONAL_GROUPS + 1), 'learner')).toThrow(`user learner is a member of 65 groups in the container's /etc/group: at most 64 are supported`);
  });
});
