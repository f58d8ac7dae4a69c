// An exec session (docker exec, every browser terminal) into a `rootMode: 'chroot'` container must
// land where the container's init is: inside its rootfs. setns(mnt) alone puts the process at the
// mount namespace's root, and a chroot-mode container's mount namespace is a copy of the host's
// tree (its init only chroot()ed): before the fix a terminal into it was a root shell on the host's
// files. The canary is a host file the container's rootfs does not have.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execToExit, openTestEngine, type TestEnv } from '../integration/support.js';

let env: TestEnv;
let canaryDir: string;

beforeAll(async () => {
  env = await openTestEngine();
  canaryDir = mkdtempSync('/tmp/gbt-canary-');
  writeFileSync(join(canaryDir, 'canary'), 'host only\n');
});

afterAll(async () => {
  await env.cleanup();
  rmSync(canaryDir, { recursive: true, force: true });
});

describe('exec into a chroot-mode container', () => {
  for (const rootMode of ['chroot', 'pivot'] as const) {
    it(`stays in the container's root (${rootMode})`, async () => {
      const c = await env.engine.run({ image: 'base', cmd: ['sleep', '600'], rootMode });
      for (const tty of [false, true]) {
        const r = await execToExit(env.engine, c.id, ['sh', '-c', `cat ${canaryDir}/canary 2>&1; ls /; echo root=$(readlink /proc/self/root)`], tty);
        expect(r.out).not.toContain('host only');
        expect(r.out).toContain('No such file');
        // the base image's own top level, not the host's (which has /var and /boot)
        expect(r.out).not.toMatch(/\bboot\b/);
      }
      await env.engine.remove(c.id, { force: true });
    });
  }
});
